/** The metrics recorder: the CSV it writes and the tallies it keeps. */

import { assert, assertEquals, assertThrows } from "../_helpers/assert.ts";
import { parse } from "csv-parse/sync";
import { EVENT_COLUMNS, type MetricsEvent } from "../../src/metrics/events.ts";
import { MetricsRecorder } from "../../src/metrics/recorder.ts";
import { syntheticEvents } from "./synthetic_run.ts";

const HEADER = "t_ms,time,role,role_id,event,version,batch_seq,rows,bytes,bytes_in,files_in," +
  "files_out,files_total,files_deleted,generate_ms,encode_ms,upload_ms,commit_ms,total_ms," +
  "visibility_ms,attempts,rss_mb,heap_mb,detail";

Deno.test("EVENT_COLUMNS is the CSV header, in order", () => {
  assertEquals(EVENT_COLUMNS.join(","), HEADER);
  assertEquals(new Set(EVENT_COLUMNS).size, EVENT_COLUMNS.length);
});

Deno.test("the recorder writes one CSV row per event that csv-parse reads back exactly", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const path = `${dir}/streaming_metrics.csv`;
    const recorder = new MetricsRecorder(path);
    const events: MetricsEvent[] = [
      {
        t_ms: 12.5,
        time: "2026-11-27T10:55:04.012Z",
        role: "writer",
        role_id: "writer-2",
        event: "batch_committed",
        version: 12345678901234567890n,
        batch_seq: 7n,
        rows: 500,
        bytes: 1234567,
        commit_ms: 0.25,
        attempts: 1,
      },
      {
        t_ms: 13,
        time: "2026-11-27T10:55:04.013Z",
        role: "writer",
        role_id: "writer-2",
        event: "batch_failed",
        batch_seq: 8,
        detail: 'upload failed, "503"\nretry later',
      },
      ...syntheticEvents(),
    ];
    for (const e of events) recorder.record(e);
    // Rows are on disk as they arrive, before close().
    const early = await Deno.readTextFile(path);
    assert(early.startsWith(`${HEADER}\n`));
    recorder.close();
    recorder.close();
    assertEquals(recorder.open, false);

    const text = await Deno.readTextFile(path);
    assertEquals(text.split("\n")[0], HEADER);
    const rows = parse(text, { columns: true }) as Record<string, string>[];
    assertEquals(rows.length, events.length);
    assertEquals(Object.keys(rows[0]!), [...EVENT_COLUMNS]);
    assertEquals(rows[0], {
      t_ms: "12.5",
      time: "2026-11-27T10:55:04.012Z",
      role: "writer",
      role_id: "writer-2",
      event: "batch_committed",
      version: "12345678901234567890",
      batch_seq: "7",
      rows: "500",
      bytes: "1234567",
      bytes_in: "",
      files_in: "",
      files_out: "",
      files_total: "",
      files_deleted: "",
      generate_ms: "",
      encode_ms: "",
      upload_ms: "",
      commit_ms: "0.25",
      total_ms: "",
      visibility_ms: "",
      attempts: "1",
      rss_mb: "",
      heap_mb: "",
      detail: "",
    });
    assertEquals(rows[1]!.detail, 'upload failed, "503"\nretry later');
    assertEquals(rows[1]!.version, "");
    // Every event survives the round trip, cell by cell.
    events.forEach((e, i) => {
      for (const column of EVENT_COLUMNS) {
        const value = e[column];
        assertEquals(rows[i]![column], value === undefined ? "" : String(value), `${i}.${column}`);
      }
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a recorder with no events leaves a CSV holding just the header", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const recorder = new MetricsRecorder(`${dir}/m.csv`);
    recorder.close();
    assertEquals(await Deno.readTextFile(`${dir}/m.csv`), `${HEADER}\n`);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("recordNow() stamps events with the time since the run started", () => {
  let now = Date.parse("2026-11-27T10:55:04.000Z");
  const recorder = new MetricsRecorder(undefined, { now: () => now, keepEvents: true });
  now += 1234;
  const e = recorder.recordNow({
    role: "vacuum",
    role_id: "vacuum-0",
    event: "vacuum",
    files_deleted: 2,
  });
  assertEquals(e.t_ms, 1234);
  assertEquals(e.time, "2026-11-27T10:55:05.234Z");
  assertEquals(recorder.events, [e]);
  assertEquals(recorder.tally.vacuum.files_deleted, 2);
});

Deno.test("the recorder tallies per writer and per second, and thins rss to one sample a second", () => {
  const recorder = new MetricsRecorder();
  for (const e of syntheticEvents()) recorder.record(e);
  const w0 = recorder.writers.get("writer-0")!;
  const w1 = recorder.writers.get("writer-1")!;
  assertEquals(
    { rows: w0.rows, batches: w0.batches, commits: w0.commits, seq: w0.last_batch_seq },
    { rows: 1500, batches: 3, commits: 3, seq: 2 },
  );
  assertEquals(
    {
      rows: w1.rows,
      batches: w1.batches,
      commits: w1.commits,
      conflicts: w1.conflicts,
      retries: w1.retries,
      restarts: w1.restarts,
      failed: w1.failed,
      unacknowledged: w1.unacknowledged,
    },
    {
      rows: 2000,
      batches: 4,
      commits: 2,
      conflicts: 1,
      retries: 1,
      restarts: 1,
      failed: 1,
      unacknowledged: 1,
    },
  );
  assertEquals(recorder.rowsPerSecond.buckets, [2000, 1500]);
  assertEquals(recorder.latencies.commit.values, [10, 40, 30, 50, 20]);
  assertEquals(recorder.fileCounts.points, [
    { t_s: 0, files: 0 },
    { t_s: 1, files: 3 },
    { t_s: 1.85, files: 1 },
  ]);
  assertEquals(recorder.rss.points, [
    { t_s: 0.1, role_id: "writer-0", rss_mb: 100 },
    { t_s: 1.5, role_id: "writer-0", rss_mb: 120 },
  ]);
  assertEquals(recorder.chaos.map((c) => `${c.event} ${c.role_id}`), [
    "kill writer-1",
    "restart writer-1",
  ]);
});

Deno.test("events recorded after close() are tallied but not written", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const recorder = new MetricsRecorder(`${dir}/m.csv`);
    recorder.close();
    recorder.record(syntheticEvents()[1]!);
    assertEquals(recorder.tally.rowsAcknowledged, 500);
    assertEquals(await Deno.readTextFile(`${dir}/m.csv`), `${HEADER}\n`);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("the recorder names the file it cannot open", () => {
  const error = assertThrows(
    () => new MetricsRecorder("/nonexistent-dir-for-neuralake/m.csv"),
    "/nonexistent-dir-for-neuralake/m.csv",
  );
  assert(error.cause !== undefined, "the error keeps its cause");
});

Deno.test("the recorder's memory stays the same size over a week of batches", () => {
  // 604,800 seconds of 3 writers at 5 batches a second, one event in 40
  // recorded (a week's span at a 15th of the events, to keep the test short),
  // with a memory report per role every 10 s and a fault every second.
  const recorder = new MetricsRecorder();
  const retained = () => ({
    latencies: Object.values(recorder.latencies).reduce((n, l) => n + l.retained, 0),
    throughput: recorder.rowsPerSecond.buckets.length,
    files: recorder.fileCounts.points.length,
    rss: recorder.rss.points.length,
    chaos: recorder.chaos.length,
  });
  const event = (t_ms: number, fields: Partial<MetricsEvent>): MetricsEvent => ({
    t_ms,
    time: new Date(t_ms).toISOString(),
    role: "writer",
    role_id: "writer-0",
    event: "batch_committed",
    ...fields,
  });
  const sizes: ReturnType<typeof retained>[] = [];
  const week = 604_800_000;
  let n = 0;
  for (let t = 0; t < week; t += 2667) {
    n++;
    recorder.record(event(t, {
      role_id: `writer-${n % 3}`,
      batch_seq: n,
      rows: 5000,
      commit_ms: 5 + (n % 997) * 0.37,
      encode_ms: 3 + (n % 89) * 0.1,
      upload_ms: 1 + (n % 31) * 0.2,
      total_ms: 12 + (n % 499) * 0.5,
      visibility_ms: 200 + (n % 251),
    }));
    if (n % 4 === 0) {
      recorder.record(event(t, { role: "orchestrator", event: "fault", detail: "503" }));
      recorder.record(
        event(t, {
          role: "compactor",
          role_id: "compactor-0",
          event: "table_state",
          files_total: n % 300,
          rss_mb: 400,
        }),
      );
    }
    if (t > week / 2 && sizes.length === 0) sizes.push(retained());
  }
  sizes.push(retained());
  assert(n > 200_000);
  // The second half of the week added nothing to the latencies retained, and
  // each series stays within its bound of points.
  assertEquals(sizes[1]!.latencies, sizes[0]!.latencies);
  assert(sizes[1]!.latencies < 5 * 4000, `latencies retain ${sizes[1]!.latencies} numbers`);
  for (const key of ["throughput", "files", "rss"] as const) {
    assert(sizes[1]![key] <= 4096, `${key}: ${sizes[1]![key]} points`);
    assert(sizes[1]![key] >= 1000, `${key}: ${sizes[1]![key]} points left to chart`);
  }
  assertEquals(recorder.chaos.length, 10_000);
  assertEquals(recorder.chaos.length + recorder.chaosOmitted, recorder.tally.faults);
  // Nothing was lost from the totals: every row of every bucket is counted.
  assertEquals(recorder.rowsPerSecond.buckets.reduce((a, b) => a + b, 0), n * 5000);
  assertEquals(recorder.tally.rowsAcknowledged, n * 5000);
  assertEquals(recorder.latencies.commit.count, n);
});

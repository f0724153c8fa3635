import { assert, assertEquals } from "../_helpers/assert.ts";
import {
  judgeSoak,
  parseSoakDocument,
  soakDocument,
  type SoakRow,
  type SoakSample,
  soakSamples,
  soakWindows,
} from "../../scripts/soak_target.ts";

Deno.test("soakWindows() compares minutes 10-20 with the last 10, or quarters of a short run", () => {
  assertEquals(soakWindows(60), { baseline: [10, 20], tail: [50, 60] });
  assertEquals(soakWindows(20), { baseline: [5, 10], tail: [15, 20] });
});

Deno.test("judgeSoak() holds a flat series and fails one that keeps growing", () => {
  const samples: SoakSample[] = [];
  for (let minute = 1; minute <= 60; minute++) {
    samples.push({
      minute,
      values: { flat: 100 + (minute % 2 ? 3 : -3), growing: 100 + minute * 2, missing: null },
    });
  }
  const verdicts = judgeSoak(samples, soakWindows(60));
  const by = Object.fromEntries(verdicts.map((v) => [v.series, v]));
  assertEquals(by.flat!.held, true);
  assertEquals(by.growing!.held, false);
  // minutes 10..20 average 130; 50..60 average 210
  assertEquals(Math.round(by.growing!.change! * 1000) / 1000, Math.round(80 / 130 * 1000) / 1000);
  assertEquals(by.missing!.held, null);
  // Growth per hour from the least-squares slope of minutes 10..60.
  assertEquals(Math.round(by.growing!.perHour! * 1e6) / 1e6, 120);
  assert(Math.abs(by.flat!.perHour!) < 1, `flat grows ${by.flat!.perHour} per hour`);
  assertEquals(by.missing!.perHour, null);
});

/** The keys of `doc` that are not snake_case, outside `verbatim` keys. */
function camelKeys(doc: unknown, verbatim: readonly string[], path = ""): string[] {
  if (Array.isArray(doc)) return doc.flatMap((v, i) => camelKeys(v, verbatim, `${path}[${i}]`));
  if (doc === null || typeof doc !== "object") return [];
  return Object.entries(doc).flatMap(([key, value]) => [
    ...(/^[a-z][a-z0-9_]*$/.test(key) ? [] : [`${path}.${key}`]),
    ...(verbatim.includes(key) ? [] : camelKeys(value, verbatim, `${path}.${key}`)),
  ]);
}

const ROW: SoakRow = {
  minute: 1,
  at: "2026-12-01T03:09:00.000Z",
  load1: 2.5,
  disk_free_bytes: 1e12,
  rss_mb: { "writer-0": 170.5, "compactor-0": 210 },
  heap_mb: { "writer-0": 40.2, "compactor-0": 61 },
  probe: { open_ms: 40, open_cpu_ms: 30, data_bytes: 5000, live_bytes: 4000, log_files: 12 },
};

Deno.test("soak.json names its keys in snake_case, as every --json document does", () => {
  const doc = soakDocument(
    { command: "neuralake stream t", table: "t", durationMs: 3_600_000, intervalMs: 60_000 },
    [ROW],
  );
  // Role ids under rss_mb and heap_mb are the run's names for its roles.
  assertEquals(camelKeys(JSON.parse(JSON.stringify(doc)), ["rss_mb", "heap_mb"]), []);
  assertEquals([doc.duration_ms, doc.interval_ms], [3_600_000, 60_000]);
  assertEquals(camelKeys({ durationMs: 1, samples: [{ rss_mb: { "writer-0": 1 } }] }, ["rss_mb"]), [
    ".durationMs",
  ]);
});

Deno.test("a saved soak.json is read back and judged, also one with the old camelCase keys", () => {
  const rows = [1, 2, 3, 4].map((minute) => ({ ...ROW, minute }));
  const current = soakDocument(
    { command: "c", table: "t", durationMs: 240_000, intervalMs: 60_000 },
    rows,
  );
  const read = parseSoakDocument(JSON.stringify(current));
  assertEquals(read, current);
  const old = parseSoakDocument(
    JSON.stringify({
      command: "c",
      table: "t",
      durationMs: 240_000,
      intervalMs: 60_000,
      samples: rows,
    }),
  );
  assertEquals([old.duration_ms, old.interval_ms, old.samples.length], [240_000, 60_000, 4]);
  const samples = soakSamples(read.samples);
  assertEquals(samples[0]!.values["rss_mb writer-0"], 170.5);
  assertEquals(samples[0]!.values["heap_mb compactor-0"], 61);
  assertEquals(samples[0]!.values["unreclaimed_bytes"], 1000);
  const verdicts = judgeSoak(samples, soakWindows(read.duration_ms / 60_000));
  assertEquals(verdicts.find((v) => v.series === "rss_mb writer-0")?.held, true);
});

Deno.test("soak_target.ts on a file that is not a soak.json says what is wrong with it, naming it, without a stack", async () => {
  const dir = await Deno.makeTempDir({ prefix: "nl-soak-target-" });
  try {
    const script = new URL("../../scripts/soak_target.ts", import.meta.url).pathname;
    const cases: [string, string | undefined, RegExp][] = [
      ["text.json", "not json", /text\.json is not JSON/],
      ["keys.json", JSON.stringify({ samples: 3 }), /keys\.json needs duration_ms/],
      [
        "sample.json",
        JSON.stringify({ duration_ms: 60_000, samples: [{ minute: 1, probe: {} }] }),
        /sample\.json: samples\[0\] needs minute \(a number\), rss_mb and probe/,
      ],
      ["absent.json", undefined, /absent\.json/],
    ];
    for (const [name, text, message] of cases) {
      const path = `${dir}/${name}`;
      if (text !== undefined) await Deno.writeTextFile(path, text);
      const out = await new Deno.Command(Deno.execPath(), {
        args: ["run", "-A", script, path],
        stdout: "piped",
        stderr: "piped",
      }).output();
      const stderr = new TextDecoder().decode(out.stderr);
      assertEquals(out.code, 2, `${name}: ${stderr}`);
      assert(message.test(stderr), `${name}: ${stderr}`);
      assert(!/^\s+at /m.test(stderr), `${name}: a message, not a stack: ${stderr}`);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

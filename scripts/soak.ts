/**
 * A soak of `neuralake stream`: run it for a long time and sample, once per
 * interval (a minute by default), the resident memory of every role (read
 * from the run's own /metrics endpoint, so `--isolation process` gives one
 * figure per role), the latest checkpoint's size, a fresh process's time to
 * open the table's snapshot (scripts/soak_probe.ts), the table's data and
 * log bytes in its store, the free disk space and the machine's load.
 * Writes soak.csv and soak.json as it goes and soak.md at the end, with
 * the flatness target of scripts/soak_target.ts judged for every series.
 *
 * Usage:
 *   deno run -A scripts/soak.ts --duration 60m --rate 1024000 [--table s3://bucket/prefix]
 *     [--out dir] [--interval 1m] [--isolation process] [-- more stream flags]
 */

import { parseArgs } from "node:util";
import { formatBytes, formatDuration, parseBytes, parseDuration } from "../src/util/units.ts";
import { drainToFile } from "../src/util/drain_to_file.ts";
import { judgeSoak, soakDocument, type SoakRow, soakSamples, soakWindows } from "./soak_target.ts";

const ROOT = new URL("..", import.meta.url).pathname;
const MAIN = `${ROOT}main.ts`;
const CONFIG = `${ROOT}deno.json`;
const PROBE = `${ROOT}scripts/soak_probe.ts`;

const { values: flags, positionals: extra } = parseArgs({
  args: Deno.args,
  options: {
    duration: { type: "string", default: "60m" },
    rate: { type: "string", default: "1024000" },
    table: { type: "string" },
    out: { type: "string" },
    interval: { type: "string", default: "1m" },
    isolation: { type: "string", default: "process" },
    "min-free": { type: "string", default: "8GiB" },
  },
  allowPositionals: true,
  strict: true,
});

const durationMs = parseDuration(flags.duration!);
const intervalMs = parseDuration(flags.interval!);
const minFree = parseBytes(flags["min-free"]!);
const stamp = new Date().toISOString().replace(/[:.]/g, "-").slice(0, 19);
const out = flags.out ?? `${Deno.cwd()}/neuralake-data/soak/${stamp}`;
const table = flags.table ?? `${out}/table`;
await Deno.mkdir(out, { recursive: true });

function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  return port;
}

const port = freePort();
const streamArgs = [
  "run",
  "-A",
  "--quiet",
  "--config",
  CONFIG,
  MAIN,
  "stream",
  table,
  "--duration",
  flags.duration!,
  "--rate",
  flags.rate!,
  "--isolation",
  flags.isolation!,
  "--metrics-addr",
  `127.0.0.1:${port}`,
  "--out",
  `${out}/runs`,
  ...extra,
];
const command = `neuralake ${streamArgs.slice(6).join(" ")}`;
console.error(`soak: ${command}`);
console.error(`soak: samples every ${formatDuration(intervalMs)} into ${out}`);
const child = new Deno.Command(Deno.execPath(), {
  args: streamArgs,
  stdout: "piped",
  stderr: "piped",
}).spawn();
// Written through as it comes, so the run's log can be followed while it runs.
const piping = Promise.all([
  drainToFile(child.stdout, `${out}/stream.stdout`, { append: false }),
  drainToFile(child.stderr, `${out}/stream.stderr`, { append: false }),
]);
const startedAt = Date.now();
let exited = false;
const status = child.status.then((s) => {
  exited = true;
  return s;
});
const stop = () => {
  if (!exited) child.kill("SIGINT");
};
Deno.addSignalListener("SIGINT", stop);
Deno.addSignalListener("SIGTERM", stop);

/** Memory per role id in MiB, from the run's /metrics: resident (`rss`) and V8 heap (`heap`). */
async function scrapeMemory(): Promise<Record<string, number>> {
  const memory: Record<string, number> = {};
  try {
    const response = await fetch(`http://127.0.0.1:${port}/metrics`, {
      signal: AbortSignal.timeout(10_000),
    });
    const text = await response.text();
    for (const line of text.split("\n")) {
      const kind = line.startsWith("neuralake_process_resident_memory_bytes{")
        ? "rss"
        : line.startsWith("neuralake_heap_used_bytes{")
        ? "heap"
        : undefined;
      if (!kind) continue;
      const id = /role_id="([^"]+)"/.exec(line)?.[1];
      const value = Number(line.slice(line.lastIndexOf(" ") + 1));
      if (id && Number.isFinite(value)) {
        memory[`${kind} ${id}`] = Math.round(value / 1048576 * 10) / 10;
      }
    }
  } catch (error) {
    console.error(`soak: /metrics scrape failed: ${error}`);
  }
  return memory;
}

/** What a fresh process sees of the table (scripts/soak_probe.ts). */
async function probe(): Promise<Record<string, number | null>> {
  const output = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "--quiet", "--config", CONFIG, PROBE, table],
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (!output.success) {
    console.error(`soak: probe failed: ${new TextDecoder().decode(output.stderr).slice(-500)}`);
    return {};
  }
  return JSON.parse(new TextDecoder().decode(output.stdout));
}

async function diskFree(): Promise<number | null> {
  const dir = table.startsWith("s3://") ? out : table.replace(/^file:\/\//, "");
  try {
    const output = await new Deno.Command("df", {
      args: ["-B1", "--output=avail", dir],
      stdout: "piped",
    }).output();
    const lines = new TextDecoder().decode(output.stdout).trim().split("\n");
    return Number(lines.at(-1));
  } catch {
    return null;
  }
}

/**
 * Open file descriptors of the stream's processes (the orchestrator and every
 * role process under it), from /proc; null where /proc cannot tell. A
 * handle leaked per batch or per pass shows here long before a limit does.
 */
async function openFds(): Promise<number | null> {
  try {
    let fds = 0;
    const pending = [child.pid];
    while (pending.length > 0) {
      const pid = pending.pop()!;
      for await (const _ of Deno.readDir(`/proc/${pid}/fd`)) fds++;
      for await (const task of Deno.readDir(`/proc/${pid}/task`)) {
        const children = await Deno.readTextFile(`/proc/${pid}/task/${task.name}/children`)
          .catch(() => "");
        for (const id of children.trim().split(/\s+/)) if (id) pending.push(Number(id));
      }
    }
    return fds;
  } catch {
    return null;
  }
}

async function loadAverage(): Promise<number | null> {
  try {
    return Number((await Deno.readTextFile("/proc/loadavg")).split(" ")[0]);
  } catch {
    return null;
  }
}

/**
 * Resident memory is scraped every `RSS_EVERY_MS` and each sample holds the
 * mean of the scrapes since the previous one, so a garbage collection at the
 * moment of a sample does not decide the figure.
 */
const RSS_EVERY_MS = 10_000;
const memoryScrapes: Record<string, number>[] = [];
const scraping = (async () => {
  while (!exited) {
    await Promise.race([new Promise((r) => setTimeout(r, RSS_EVERY_MS)), status]);
    if (exited) break;
    memoryScrapes.push(await scrapeMemory());
  }
})();

/**
 * The mean per series (`rss <role id>`, `heap <role id>`) of the scrapes
 * since the last call, and a fresh scrape if there were none.
 */
async function meanMemory(): Promise<Record<string, number>> {
  const scrapes = memoryScrapes.splice(0);
  if (scrapes.length === 0) scrapes.push(await scrapeMemory());
  const sums: Record<string, [number, number]> = {};
  for (const scrape of scrapes) {
    for (const [id, mb] of Object.entries(scrape)) {
      const entry = sums[id] ??= [0, 0];
      entry[0] += mb;
      entry[1]++;
    }
  }
  return Object.fromEntries(
    Object.entries(sums).map(([id, [sum, n]]) => [id, Math.round(sum / n * 10) / 10]),
  );
}

const rows: SoakRow[] = [];
const csvPath = `${out}/soak.csv`;
const roleIds = new Set<string>();

async function writeFiles(): Promise<void> {
  for (const r of rows) for (const id of Object.keys(r.rss_mb)) roleIds.add(id);
  const ids = [...roleIds].sort();
  const probeKeys = [
    "open_ms",
    "open_cpu_ms",
    "version",
    "files",
    "tombstones",
    "checkpoint_version",
    "checkpoint_bytes",
    "data_files",
    "data_bytes",
    "live_bytes",
    "log_files",
    "log_bytes",
  ];
  const header = [
    "minute",
    "at",
    "load1",
    "disk_free_bytes",
    "open_fds",
    ...ids.map((id) => `rss_mb_${id}`),
    ...ids.map((id) => `heap_mb_${id}`),
    ...probeKeys,
  ];
  const lines = [header.join(",")];
  for (const r of rows) {
    lines.push([
      r.minute,
      r.at,
      r.load1 ?? "",
      r.disk_free_bytes ?? "",
      r.open_fds ?? "",
      ...ids.map((id) => r.rss_mb[id] ?? ""),
      ...ids.map((id) => r.heap_mb?.[id] ?? ""),
      ...probeKeys.map((k) => r.probe[k] ?? ""),
    ].join(","));
  }
  await Deno.writeTextFile(csvPath, lines.join("\n") + "\n");
  await Deno.writeTextFile(
    `${out}/soak.json`,
    JSON.stringify(soakDocument({ command, table, durationMs, intervalMs }, rows), null, 1),
  );
}

async function sample(): Promise<void> {
  const minute = Math.round((Date.now() - startedAt) / 60_000 * 100) / 100;
  const [memory, probed, disk, load1, fds] = await Promise.all([
    meanMemory(),
    probe(),
    diskFree(),
    loadAverage(),
    openFds(),
  ]);
  const of = (kind: string) =>
    Object.fromEntries(
      Object.entries(memory).filter(([k]) => k.startsWith(`${kind} `)).map((
        [k, mb],
      ) => [k.slice(kind.length + 1), mb]),
    );
  const rss = of("rss");
  const row: SoakRow = {
    minute,
    at: new Date().toISOString(),
    load1,
    disk_free_bytes: disk,
    rss_mb: rss,
    heap_mb: of("heap"),
    open_fds: fds,
    probe: probed,
  };
  rows.push(row);
  await writeFiles();
  console.error(
    `soak: minute ${minute}: load ${load1}, rss ${
      JSON.stringify(rss)
    }, open ${probed.open_ms} ms (CPU ${probed.open_cpu_ms} ms), checkpoint ${
      formatBytes(probed.checkpoint_bytes ?? 0)
    }, data ${formatBytes(probed.data_bytes ?? 0)} in ${probed.data_files} files, disk free ${
      formatBytes(disk ?? 0)
    }`,
  );
}

// Sample every interval while the writers run (after that the run only
// verifies); the first sample comes one interval in, when every role has
// reported. Stop the run early if the disk would fill.
let next = startedAt + intervalMs;
let stoppedForDisk = false;
while (!exited && next <= startedAt + durationMs + 1000) {
  const wait = next - Date.now();
  const timer = new Promise<void>((resolve) => setTimeout(resolve, Math.max(0, wait)));
  await Promise.race([timer, status]);
  if (exited) break;
  await sample();
  await report();
  const free = rows.at(-1)?.disk_free_bytes;
  if (free != null && free < minFree && !stoppedForDisk) {
    stoppedForDisk = true;
    console.error(`soak: only ${formatBytes(free)} free on disk: stopping the run`);
    stop();
  }
  next += intervalMs;
}
console.error("soak: writing ended; waiting for the run to verify and exit");
const final = await status;
await scraping;
await piping.catch(() => {});
Deno.removeSignalListener("SIGINT", stop);
Deno.removeSignalListener("SIGTERM", stop);
// The table after the run, with every role stopped.
const after = await probe();
const md = await report(final.code, after);
console.log(md);
Deno.exit(final.code);

/** Writes soak.md from the samples so far (and the run's end, once known). */
async function report(
  exitCode?: number,
  after?: Record<string, number | null>,
): Promise<string> {
  const samples = soakSamples(rows);
  const durationMin = durationMs / 60_000;
  const windows = soakWindows(durationMin);
  const verdicts = judgeSoak(samples, windows);
  const ids = [...roleIds].sort();
  const m = (minute: number) => String(Math.round(minute * 10) / 10);
  const md: string[] = [];
  md.push(`# Soak of ${table}`, "");
  md.push("```sh", `deno run -A scripts/soak.ts ${Deno.args.join(" ")}`, "```", "");
  md.push(`Stream command: \`${command}\``, "");
  md.push(
    `${exitCode === undefined ? "Still running" : `Stream exit status ${exitCode}`}${
      stoppedForDisk ? " (stopped early: the disk was filling)" : ""
    }; ${rows.length} samples, one every ${formatDuration(intervalMs)}.`,
    "",
  );
  md.push(
    "| minute | load (1 min) | " + ids.map((id) => `${id} RSS (MiB)`).join(" | ") + " | " +
      ids.map((id) => `${id} heap (MiB)`).join(" | ") +
      " | checkpoint | open (ms) | open CPU (ms) | data on disk | live data | data files | log files | tombstones | open fds |",
  );
  md.push("|" + " ---: |".repeat(2 * ids.length + 11));
  for (const r of rows) {
    const p = r.probe;
    md.push(
      `| ${r.minute.toFixed(Number.isInteger(r.minute) ? 0 : 1)} | ${r.load1 ?? "-"} | ${
        ids.map((id) => r.rss_mb[id]?.toFixed(0) ?? "-").join(" | ")
      } | ${ids.map((id) => r.heap_mb?.[id]?.toFixed(0) ?? "-").join(" | ")} | ${
        p.checkpoint_bytes != null ? formatBytes(p.checkpoint_bytes) : "-"
      } | ${p.open_ms ?? "-"} | ${p.open_cpu_ms ?? "-"} | ${
        p.data_bytes != null ? formatBytes(p.data_bytes) : "-"
      } | ${p.live_bytes != null ? formatBytes(p.live_bytes) : "-"} | ${p.data_files ?? "-"} | ${
        p.log_files ?? "-"
      } | ${p.tombstones ?? "-"} |`,
    );
  }
  md.push("");
  md.push(
    `Target: the mean of minutes ${m(windows.tail[0])}–${
      m(windows.tail[1])
    } within 10 % of the mean of minutes ${m(windows.baseline[0])}–${
      m(windows.baseline[1])
    }. Resident memory is the mean of the scrapes of /metrics every ${
      formatDuration(RSS_EVERY_MS)
    } since the previous sample; the open time is a fresh process's first snapshot load, in wall time and in the CPU time it used.`,
    "",
  );
  md.push(
    "| series | baseline mean | last-window mean | change | worst sample | held | growth per hour |",
  );
  md.push("| --- | ---: | ---: | ---: | ---: | --- | ---: |");
  const fmt = (v: number | null, series: string) =>
    v === null
      ? "-"
      : series.endsWith("_bytes")
      ? `${v < 0 ? "-" : ""}${formatBytes(Math.abs(v))}`
      : v.toFixed(1);
  const pct = (v: number | null) => v === null ? "-" : `${(v * 100).toFixed(1)} %`;
  for (const v of verdicts) {
    md.push(
      `| ${v.series} | ${fmt(v.baselineMean, v.series)} | ${fmt(v.tailMean, v.series)} | ${
        pct(v.change)
      } | ${pct(v.worstSample)} | ${v.held === null ? "n/a" : v.held ? "yes" : "NO"} | ${
        v.perHour === null ? "-" : fmt(v.perHour, v.series)
      } |`,
    );
  }
  md.push("");
  if (after) {
    md.push(
      `After the run: ${
        after.data_bytes != null ? formatBytes(after.data_bytes) : "-"
      } of data in ${after.data_files ?? "-"} files, ${
        after.log_files ?? "-"
      } log files, checkpoint ${
        after.checkpoint_bytes != null ? formatBytes(after.checkpoint_bytes) : "-"
      }, fresh open ${after.open_ms ?? "-"} ms.`,
    );
  }
  await Deno.writeTextFile(`${out}/soak.md`, md.join("\n") + "\n");
  return md.join("\n");
}

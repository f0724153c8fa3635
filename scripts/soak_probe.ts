/**
 * One soak sample of a table, taken by a fresh process as a new reader
 * would: how long opening the latest snapshot takes (checkpoint plus the
 * commits after it), the latest checkpoint's size, and what the table
 * occupies in its store, and how much of that the latest version references
 * (the rest is what vacuum has yet to reclaim). Prints one JSON object.
 * The open is timed twice: wall time, and the CPU time it used (user and
 * system), which a loaded machine does not stretch as it stretches the wall.
 *
 * Usage: deno run -A scripts/soak_probe.ts <table path or s3:// URI>
 */

import { cpuUsage } from "node:process";
import { readLastCheckpoint } from "../src/delta/log_segment.ts";
import { tableFootprint } from "../src/ops/footprint.ts";
import { openTable, snapshotOf } from "../src/ops/table.ts";

const uri = Deno.args[0];
if (!uri) {
  console.error("usage: soak_probe.ts <table>");
  Deno.exit(2);
}
const table = await openTable(uri);
const t0 = performance.now();
const cpu0 = cpuUsage();
const snapshot = await snapshotOf(table);
const openMs = performance.now() - t0;
// CPU time of the open (user + system, all threads): what the open costs,
// whatever the machine's load; the wall time above also waits for a core.
const cpu = cpuUsage(cpu0);
const openCpuMs = (cpu.user + cpu.system) / 1000;
const hint = await readLastCheckpoint(table.store);
const footprint = await tableFootprint(table.store);
let liveBytes = 0;
for (const add of snapshot.files.values()) liveBytes += add.size;
console.log(JSON.stringify({
  open_ms: Math.round(openMs * 10) / 10,
  open_cpu_ms: Math.round(openCpuMs * 10) / 10,
  version: snapshot.version,
  files: snapshot.files.size,
  tombstones: snapshot.tombstones.size,
  checkpoint_version: hint?.version ?? null,
  checkpoint_bytes: hint?.sizeInBytes ?? null,
  data_files: footprint.dataFiles,
  data_bytes: footprint.dataBytes,
  /** The bytes the latest version references: what vacuum can never reclaim. */
  live_bytes: liveBytes,
  log_files: footprint.logFiles,
  log_bytes: footprint.logBytes,
}));

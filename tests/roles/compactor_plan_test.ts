/**
 * The compactor role plans in tiers beside writers, and a one-off optimize
 * packs; once writes stop (the run stops the compactor after its writers, or
 * it has seen no new commit for `compaction.settleAfterMs`), the role makes
 * one packed pass and leaves the table as `neuralake optimize` would: the
 * same rows, the same number of files of the same sizes. The role runs in
 * this process, as the stream's workers run it, on a stream table whose
 * files have sizes chosen against the target.
 */

import { appendBatch, appendTarget } from "../../src/ops/append.ts";
import { OPTIMIZE_MIN_FILES, optimizeTable } from "../../src/ops/optimize.ts";
import { scanTable } from "../../src/ops/scan.ts";
import { openTable, snapshotOf, type Table } from "../../src/ops/table.ts";
import { runCompactor } from "../../src/roles/compactor.ts";
import type { StreamConfig } from "../../src/roles/config_keys.ts";
import type { Command, EventFields, RoleSpec } from "../../src/roles/messages.ts";
import { ChannelState } from "../../src/roles/run_role.ts";
import { NEURAL_FIELDS, NeuralGenerator } from "../../src/sources/neural.ts";
import { assert, assertEquals } from "../_helpers/assert.ts";
import { copyDir } from "../_helpers/fixture_copy.ts";
import { cli } from "../_helpers/cli.ts";
import { streamWriterTable } from "../_helpers/writer_roles.ts";

/**
 * A stream table under `dir` with one file per entry of `rows`, oldest
 * first, of that many generated rows each; returns the table, its settings
 * and the files' sizes in order.
 */
async function tableOfFiles(
  dir: string,
  rows: number[],
): Promise<{ config: StreamConfig; table: Table; sizes: number[] }> {
  const { config, table, created } = await streamWriterTable(dir);
  const generator = new NeuralGenerator({ seed: 7, neurons: 64 });
  const target = appendTarget(table.store, NEURAL_FIELDS, []);
  let version = created.version;
  let startRow = 0;
  for (const [seq, n] of rows.entries()) {
    const batch = generator.generate({
      writerId: "writer-0",
      sessionId: "s",
      batchSeq: seq,
      tick0: 0,
      startRow,
      rows: n,
    });
    startRow += n;
    const result = await appendBatch(target, batch, {
      readVersion: version,
      description: { operation: "WRITE", isBlindAppend: true },
    });
    assertEquals(result.outcome.kind, "committed");
    version++;
  }
  const files = [...(await snapshotOf(table)).files.values()];
  files.sort((a, b) => a.modificationTime - b.modificationTime || (a.path < b.path ? -1 : 1));
  return { config, table, sizes: files.map((f) => f.size) };
}

/** The table's rows as sorted text: writer, batch, neuron, time and voltage. */
async function rowsOf(table: Table): Promise<string[]> {
  const columns = ["writer_id", "batch_seq", "neuron_id", "timestamp_us", "voltage_uv"];
  const out: string[] = [];
  for await (const batch of (await scanTable(table, { columns })).batches) {
    const [, seq, neuron, time, voltage] = batch.columns.map((c) => c.values) as [
      unknown,
      BigInt64Array,
      Int32Array,
      BigInt64Array,
      Float32Array,
    ];
    for (let i = 0; i < batch.length; i++) {
      out.push(`${seq[i]}:${neuron[i]}:${time[i]}:${voltage[i]}`);
    }
  }
  return out.sort();
}

/** The sizes of the table's files, sorted, and their paths. */
async function filesOf(table: Table): Promise<{ sizes: number[]; paths: Set<string> }> {
  const files = [...(await snapshotOf(table)).files.values()];
  return {
    sizes: files.map((f) => f.size).sort((a, b) => a - b),
    paths: new Set(files.map((f) => f.path)),
  };
}

/**
 * Runs the compactor on `config`'s table until `until` holds over its
 * events (or 300 passes went by), then sends `stop`; returns every event it
 * reported.
 */
async function runRole(
  config: StreamConfig,
  until: (events: EventFields[]) => boolean,
  stop: Command & { type: "stop" },
): Promise<EventFields[]> {
  const spec: RoleSpec = {
    kind: "compactor",
    id: "compactor-0",
    config,
    sessionId: "s",
    runStartMs: Date.now(),
  };
  const state = new ChannelState();
  const events: EventFields[] = [];
  let resolveUntil!: () => void;
  const reached = new Promise<void>((resolve) => (resolveUntil = resolve));
  const channel = state.channel((report) => {
    if (report.type === "event") events.push(report.event);
    // Bounded, so that a role that never gets there fails the checks after.
    if (until(events) || passes(events) >= 300) resolveUntil();
  }, () => {
    throw new Error("the compactor died");
  });
  const running = runCompactor(spec, channel);
  await Promise.race([reached, running]);
  state.handle(stop);
  await running;
  return events;
}

const passes = (events: EventFields[]) => events.filter((e) => e.event === "table_state").length;
const compactions = (events: EventFields[]) =>
  events.filter((e) => e.event === "compaction" || e.event === "compaction_conflict");

/** The role's settings: passes every 20 ms, `minFiles` small files, no settling unless asked. */
function roleConfig(config: StreamConfig, target: number, minFiles: number): StreamConfig {
  return {
    ...config,
    compaction: {
      ...config.compaction,
      targetFileSize: target,
      minFiles,
      intervalMs: 20,
      settleAfterMs: 3_600_000,
    },
  };
}

Deno.test("the compactor role plans tiered and optimize plans packed: only optimize re-reads a large file", async () => {
  const dir = await Deno.makeTempDir({ prefix: "neuralake-compactor-plan-" });
  try {
    // One file near half the target, then five small ones of a fiftieth.
    const { config, table, sizes } = await tableOfFiles(dir, [
      23_500,
      1_000,
      1_000,
      1_000,
      1_000,
      1_000,
    ]);
    const target = Math.ceil(sizes[0]! / 0.47);
    assert(sizes.slice(1).every((s) => s < target / 20), `sizes ${sizes} against ${target}`);
    const copy = `${dir}/copy`;
    await copyDir(config.table, copy);
    const large = [...(await snapshotOf(table)).files.values()].find((f) => f.size === sizes[0])!;

    // Tiered: the five small files grow into one; the large file is left for later.
    const events = await runRole(
      roleConfig(config, target, 4),
      (events) => compactions(events).length >= 1 && passes(events) >= 10,
      { type: "stop" },
    );
    assertEquals(compactions(events).map((e) => [e.event, e.files_in]), [["compaction", 5]]);
    const after = await filesOf(table);
    assertEquals(after.paths.size, 2);
    assert(after.paths.has(large.path), "the large file was re-read");

    // Packed (the command, as a nightly script runs it): everything below the target, into one.
    const optimized = await cli([
      "optimize",
      copy,
      "--target-size",
      String(target),
      "--min-files",
      "4",
      "--json",
    ]);
    assertEquals(optimized.code, 0, optimized.stderr);
    assertEquals(JSON.parse(optimized.stdout).bins[0].files, 6);
    const packed = await filesOf(await openTable(copy));
    assertEquals(packed.paths.size, 1);
    assert(!packed.paths.has(large.path));
    assertEquals(await rowsOf(await openTable(copy)), await rowsOf(table));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

/**
 * Three files of about 0.37 of the target: tiered planning never merges
 * them (two come to under 3/4 of the target, three to more than all of it).
 */
async function strandedThirds(dir: string) {
  const fixture = await tableOfFiles(dir, [20_000, 20_000, 20_000]);
  const target = Math.ceil(Math.max(...fixture.sizes) / 0.37);
  assert(
    fixture.sizes.every((s) => s > target / 3 && s < (3 * target) / 8),
    `sizes ${fixture.sizes} against ${target}`,
  );
  // What a one-off optimize with its defaults makes of the same table.
  await copyDir(fixture.config.table, `${dir}/copy`);
  const copy = await openTable(`${dir}/copy`);
  const rows = await rowsOf(fixture.table);
  await optimizeTable(copy, { targetFileSize: target, minFiles: OPTIMIZE_MIN_FILES });
  return { ...fixture, target, rows, optimized: await filesOf(copy) };
}

Deno.test("the compactor's final pass, once the run's writers stopped, leaves the table as optimize would", async () => {
  const dir = await Deno.makeTempDir({ prefix: "neuralake-compactor-final-" });
  try {
    const { config, table, target, rows, optimized, sizes } = await strandedThirds(dir);
    // Optimize merges the two oldest (3/4 of the target) and leaves the third.
    assertEquals(optimized.sizes.length, 2);
    const role = roleConfig(config, target, 8);

    // Passes beside writers, and a stop that does not say they ended: nothing merged.
    const plain = await runRole(role, (events) => passes(events) >= 10, { type: "stop" });
    assertEquals(compactions(plain), []);
    assertEquals((await filesOf(table)).sizes, [...sizes].sort((a, b) => a - b));

    // The run stops the compactor after its writers: the final pass.
    const final = await runRole(role, (events) => passes(events) >= 3, {
      type: "stop",
      writesEnded: true,
    });
    assertEquals(compactions(final).map((e) => [e.event, e.files_in]), [["compaction", 2]]);
    assert(String(compactions(final)[0]!.detail).startsWith("settling pass: "));
    assertEquals((await filesOf(table)).sizes, optimized.sizes);
    assertEquals(await rowsOf(table), rows);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("the compactor settles the table once it has seen no new writes for settleAfterMs, once", async () => {
  const dir = await Deno.makeTempDir({ prefix: "neuralake-compactor-idle-" });
  try {
    const { config, table, target, rows, optimized } = await strandedThirds(dir);
    const base = roleConfig(config, target, 8);
    const role = { ...base, compaction: { ...base.compaction, settleAfterMs: 200 } };
    const events = await runRole(role, (events) => {
      const settledAt = events.findIndex((e) => e.event === "compaction");
      // Ten passes after the settling one, to show it is not repeated.
      return settledAt >= 0 && passes(events.slice(settledAt)) >= 10;
    }, { type: "stop" });
    assertEquals(compactions(events).map((e) => [e.event, e.files_in]), [["compaction", 2]]);
    assert(String(compactions(events)[0]!.detail).startsWith("settling pass: "));
    assertEquals((await filesOf(table)).sizes, optimized.sizes);
    assertEquals(await rowsOf(table), rows);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

/**
 * The writer role: generate neural data, cut a batch every interval (or at
 * the row limit), encode it as one Parquet file, upload it, and commit an
 * `add` plus `txn {appId: writer id, version: batch sequence}`.
 *
 * Invariants:
 * - A restarted writer reads its last committed sequence from the table and
 *   continues after it, so no batch is written twice and none is skipped.
 * - Before each commit the writer reports the batch as `committing`; only
 *   after the commit is created does it report `acked`. A crash between the
 *   two is reconciled from the table's `txn` on restart.
 * - The hot path reads no snapshot: it knows the latest version from its own
 *   commits and from the winners the commit loop reads.
 */

import type { ColumnBatch } from "../columnar/batch.ts";
import { NeuralGenerator } from "../sources/neural.ts";
import type { Action } from "../delta/actions.ts";
import { commit, newIntent } from "../delta/transaction.ts";
import { lastAppVersion } from "../delta/replay.ts";
import { toBatchFields } from "../delta/schema.ts";
import { encodeParquet } from "../parquet/encode.ts";
import { addFor, dataFileKey, splitByPartition } from "../ops/data_files.ts";
import { sleep } from "../util/backoff.ts";
import { chaosStore } from "./chaos_store.ts";
import type { EventFields, RoleChannel, RoleSpec } from "./messages.ts";
import { WRITER_COMMIT_BUDGET_MS } from "./config.ts";
import { ensureStreamTable, streamTable } from "./table_setup.ts";
import type { Table } from "../ops/table.ts";

/** Runs a writer until it is asked to stop. */
export async function runWriter(spec: RoleSpec, channel: RoleChannel): Promise<void> {
  const { config, id } = spec;
  const base = streamTable(config);
  let currentSeq = -1;
  const table: Table = {
    ...base,
    store: chaosStore(base.store, (phase) => {
      if (channel.armed.has(phase)) {
        channel.send({ type: "dying", id, phase, seq: currentSeq });
        channel.die();
      }
    }),
  };
  const emit = (event: Omit<EventFields, "role" | "role_id">) =>
    channel.send({
      type: "event",
      at: Date.now(),
      event: { role: "writer", role_id: id, ...event },
    });
  const snapshot = await ensureStreamTable(table, config);
  const lastSeq = lastAppVersion(snapshot, id) ?? -1;
  channel.send({ type: "recovered", id, lastSeq, version: snapshot.version });
  let readVersion = snapshot.version;
  const partitionColumns = snapshot.metadata.partitionColumns;
  const fields = toBatchFields(snapshot.schema.fields);
  const dataFields = fields.filter((f) => !partitionColumns.includes(f.name));

  const generator = new NeuralGenerator({
    seed: config.seed,
    neurons: config.neurons,
    regions: config.regions,
    sampleRateHz: config.sampleRateHz,
  });
  const perWriterRate = config.rate > 0 ? config.rate / config.writers : 0;
  // A new segment of this writer's row stream starts now; its data is a pure
  // function of (seed, writer, neuron, tick), so it is reproducible.
  const tick0 = generator.tickAt(Date.now());
  let startRow = 0;
  let seq = lastSeq + 1;
  let windowStart = Date.now();
  let carry = 0;
  let reuse: ColumnBatch | undefined;

  while (!channel.stopping) {
    // How many rows this batch holds.
    let rows: number;
    if (perWriterRate > 0) {
      const wait = windowStart + config.batchIntervalMs - Date.now();
      if (wait > 0) await Promise.race([sleep(wait), channel.stopRequested]);
      if (channel.stopping) break;
      const due = perWriterRate * (Date.now() - windowStart) / 1000 + carry;
      rows = Math.min(config.batchRows, Math.floor(due));
      carry = due - rows;
      if (rows === 0) continue;
    } else {
      rows = config.batchRows;
    }
    const firstRowAt = perWriterRate > 0 ? windowStart : Date.now();
    windowStart = Date.now();
    const started = performance.now();

    const batch = generator.generate({
      writerId: id,
      sessionId: spec.sessionId,
      batchSeq: seq,
      tick0,
      startRow,
      rows,
    }, reuse?.length === rows ? reuse : undefined);
    reuse = batch;
    const generated = performance.now();

    const adds: Action[] = [];
    let bytes = 0;
    let encodeMs = 0;
    let uploadMs = 0;
    currentSeq = seq;
    for (const slice of splitByPartition(batch, partitionColumns)) {
      const t0 = performance.now();
      const file = encodeParquet(slice.batch, { rowGroupRows: 1 << 22 });
      const t1 = performance.now();
      const key = dataFileKey(slice.directory, seq);
      await table.store.put(key, file.bytes);
      const t2 = performance.now();
      encodeMs += t1 - t0;
      uploadMs += t2 - t1;
      bytes += file.bytes.byteLength;
      adds.push({ add: addFor(key, file, slice.values, dataFields) });
    }

    channel.send({ type: "committing", id, seq, rows });
    const commitStart = performance.now();
    let conflicts = 0;
    const outcome = await commit(
      table.store,
      [...adds, { txn: { appId: id, version: seq, lastUpdated: Date.now() } }],
      newIntent(readVersion, { appTxns: [{ appId: id, version: seq }] }),
      {
        operation: "STREAMING UPDATE",
        operationParameters: { outputMode: "Append", queryId: id, epochId: seq },
        operationMetrics: { numAddedFiles: String(adds.length), numOutputRows: String(rows) },
        isBlindAppend: true,
      },
      {
        maxRetryMs: WRITER_COMMIT_BUDGET_MS,
        onLostRace: ({ version }) => {
          conflicts++;
          emit({ event: "commit_conflict", version, batch_seq: seq });
        },
      },
    );
    const done = performance.now();
    switch (outcome.kind) {
      case "committed": {
        readVersion = outcome.version;
        channel.send({ type: "acked", id, seq, rows, version: outcome.version });
        emit({
          event: "batch_committed",
          version: outcome.version,
          batch_seq: seq,
          rows,
          bytes,
          files_out: adds.length,
          generate_ms: round(generated - started),
          encode_ms: round(encodeMs),
          upload_ms: round(uploadMs),
          commit_ms: round(done - commitStart),
          total_ms: round(done - started),
          visibility_ms: round(Date.now() - firstRowAt),
          attempts: outcome.attempts,
          rss_mb: rssMb(),
        });
        seq++;
        startRow += rows;
        break;
      }
      case "already-committed":
        // Another incarnation of this writer committed this sequence: move on.
        emit({ event: "batch_unacknowledged", batch_seq: seq, rows, detail: outcome.reason });
        seq++;
        startRow += rows;
        break;
      case "conflict":
      case "gave-up":
        // The batch's file stays unreferenced (vacuum reclaims it); the same
        // sequence is tried again with fresh data after a pause.
        emit({
          event: "batch_failed",
          batch_seq: seq,
          rows,
          attempts: outcome.attempts,
          detail: outcome.reason,
        });
        if (outcome.kind === "conflict") {
          // The metadata or protocol changed: check that the table still fits.
          readVersion = (await ensureStreamTable(table, config)).version;
        } else {
          readVersion = outcome.lastVersion;
          await sleep(100 + conflicts * 10);
        }
        break;
    }
  }
  channel.send({ type: "stopped", id });
}

function round(ms: number): number {
  return Math.round(ms * 1000) / 1000;
}

function rssMb(): number {
  return Math.round(Deno.memoryUsage().rss / 1048576 * 10) / 10;
}

/**
 * The writer role: generate neural data, cut a batch when the flush rule says
 * so (batching.ts), and append it through `appendBatch` (ops/append.ts): one
 * Parquet file per partition and one commit of the `add`s plus
 * `txn {appId: writer id, version: batch sequence}`.
 *
 * Invariants:
 * - A restarted writer reads its last committed sequence from the table and
 *   continues after it, so no batch is written twice and none is skipped.
 * - Before each commit the writer reports the batch as `committing`; only
 *   after the commit is created does it report `acked`. A crash between the
 *   two is reconciled from the table's `txn` on restart.
 * - The hot path reads no snapshot: it knows the latest version from its own
 *   commits and from the winners the commit loop reads.
 * - A batch is committed within the append hold budget of its upload or not
 *   at all (its files are then deleted), so vacuum's retention floor keeps
 *   every file a writer will still commit.
 */

import { NeuralGenerator } from "../sources/neural.ts";
import { residentMb } from "../util/native_memory.ts";
import { appendBatch, appendCommitOptions, appendTarget, rowIdMarkOf } from "../ops/append.ts";
import { CommitFeed, lastAppVersion, syncLog, tableFields } from "../ops/table.ts";
import { nap, sleep } from "../util/backoff.ts";
import { yieldToEventLoop } from "../util/event_loop.ts";
import { span } from "../util/tracing.ts";
import { BatchWindow } from "./batching.ts";
import { codecOf } from "./config_keys.ts";
import { roleTable } from "./chaos_store.ts";
import type { EventFields, RoleChannel, RoleSpec } from "./messages.ts";
import { ensureStreamTable } from "./table_setup.ts";

/** Runs a writer until it is asked to stop. */
export async function runWriter(spec: RoleSpec, channel: RoleChannel): Promise<void> {
  const { config, id } = spec;
  let currentSeq = -1;
  const table = await roleTable(spec, channel, () => currentSeq);
  const emit = (event: Omit<EventFields, "role" | "role_id">) =>
    channel.send({
      type: "event",
      at: Date.now(),
      event: { role: "writer", role_id: id, ...event },
    });
  const snapshot = await ensureStreamTable(table, config);
  const lastSeq = lastAppVersion(snapshot, id) ?? -1;
  // The orchestrator acknowledges the batches in flight up to lastSeq when
  // it hears this: a killed incarnation may have linked the last of them
  // without flushing the log, so the log is made durable first.
  await syncLog(table);
  channel.send({ type: "recovered", id, lastSeq, version: snapshot.version });
  let readVersion = snapshot.version;
  // A row-tracking table: each commit assigns fresh row ids after the mark
  // as of the version it lands at (delta/row_tracking.ts).
  let rowIds = rowIdMarkOf(snapshot);
  // In-commit timestamps while the table enables them, taken per attempt.
  let commitOptions = appendCommitOptions(snapshot);
  // The other writers' commits, so that a commit puts at the head at once.
  using known = new CommitFeed(table.store.uri, snapshot.metadata.id, {
    shared: spec.commitFeed,
  });
  const target = appendTarget(
    table.store,
    tableFields(snapshot.schema, snapshot.metadata.configuration),
    snapshot.metadata.partitionColumns,
  );

  const generator = new NeuralGenerator({
    seed: config.seed,
    neurons: config.neurons,
    regions: config.regions,
    sampleRateHz: config.sampleRateHz,
  });
  const ratePerSecond = config.rate > 0 ? config.rate / config.writers : 0;
  // A new segment of this writer's row stream starts now; its data is a pure
  // function of (seed, writer, neuron, tick), so it is reproducible.
  const tick0 = generator.tickAt(Date.now());
  let startRow = 0;
  let seq = lastSeq + 1;
  const window = new BatchWindow(
    { batchRows: config.batchRows, batchIntervalMs: config.batchIntervalMs, ratePerSecond },
    Date.now(),
  );
  let reuse: ReturnType<NeuralGenerator["generate"]> | undefined;
  // Waits end at a stop without a reaction per wait left on the stop promise.
  const stop = new AbortController();
  channel.stopRequested.then(() => stop.abort());

  while (!channel.stopping) {
    const wait = window.msUntilComplete(Date.now());
    if (wait > 0) await nap(wait, stop.signal);
    // A batch on local disk may make no asynchronous call at all: without
    // this turn of the event loop, the stop request, the commit feed's
    // messages and chaos commands would wait for as long as batches come.
    else await yieldToEventLoop();
    if (channel.stopping) break;
    const firstRowAt = ratePerSecond > 0 ? window.openedAt : Date.now();
    const rows = window.complete(Date.now());
    if (rows === 0) continue;
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

    currentSeq = seq;
    let conflicts = 0;
    const attributes = {
      "neuralake.writer": id,
      "neuralake.batch_seq": seq,
      "neuralake.rows": rows,
    };
    const { outcome, files, bytes, timings } = await span(
      "batch",
      attributes,
      () =>
        appendBatch(target, batch, {
          readVersion,
          ...(rowIds ? { rowIds } : {}),
          txn: { appId: id, version: seq },
          fileIndex: seq,
          encode: { codec: codecOf(config.codec) },
          description: {
            operation: "STREAMING UPDATE",
            operationParameters: { outputMode: "Append", queryId: id, epochId: seq },
            isBlindAppend: true,
          },
          onUploaded: () => channel.send({ type: "committing", id, seq, rows }),
          commit: {
            ...commitOptions,
            known,
            onLostRace: ({ version }) => {
              conflicts++;
              emit({ event: "commit_conflict", version, batch_seq: seq });
            },
          },
        }),
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
          files_out: files,
          generate_ms: round(generated - started),
          encode_ms: round(timings.encodeMs),
          upload_ms: round(timings.uploadMs),
          commit_ms: round(timings.commitMs),
          total_ms: round(done - started),
          visibility_ms: round(Date.now() - firstRowAt),
          attempts: outcome.attempts,
          rss_mb: residentMb(),
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
      case "abandoned":
        // Nothing was committed and the batch's files are deleted; the same
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
          const fresh = await ensureStreamTable(table, config);
          readVersion = fresh.version;
          rowIds = rowIdMarkOf(fresh);
          commitOptions = appendCommitOptions(fresh);
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

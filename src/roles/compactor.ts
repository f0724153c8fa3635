/**
 * The compaction role: follow the log, merge small files into large ones
 * (copying big row groups byte for byte) with tiered planning, so that each
 * byte is rewritten a bounded number of times whatever the write rate
 * (ops/compaction_plan.ts), write a checkpoint every
 * `delta.checkpointInterval` versions (Delta's 10 where the table declares
 * none), less often once checkpoints are dear (./checkpoint_cadence.ts:
 * within a small share of its time and of the actions it rewrites per
 * version), clean up the log within its retention, and report the table's
 * file count as it goes (the sawtooth of the run report).
 *
 * It coexists with writers: blind appends never invalidate a compaction, and
 * when two compactions pick the same files the loser drops its bin. When it
 * loses the race for a version it waits a jittered moment before the next
 * attempt, while writers retry at once: it yields to them.
 *
 * Once writes stop, it settles the table: tiered planning leaves files that
 * it would merge only with more to come (two of a third to 3/8 of the target
 * stay apart for good: together under 3/4 of it, three over it), so a
 * settling pass plans packed, as `neuralake optimize` does with its default
 * `--min-files`, and leaves the table as a one-off optimize would. It runs
 * once the compactor has seen no commit but its own for
 * `compaction.settleAfterMs` (again only after new writes), and as the final
 * pass when the run stops it after its writers (`writesEnded`), with half the
 * stop timeout to finish its bins. Each byte is rewritten at most once more
 * by it than the tiered bound.
 */

import { type BinOutcome, type CompactionOptions, compactOnce } from "../ops/compaction.ts";
import { OPTIMIZE_MIN_FILES } from "../ops/optimize.ts";
import { cleanupLog } from "../ops/log_cleanup.ts";
import { checkpointIntervalOf, checkpointTable } from "../ops/checkpoint.ts";
import { checkpointDue } from "./checkpoint_cadence.ts";
import { CommitFeed, followTable } from "../ops/table.ts";
import { nap } from "../util/backoff.ts";
import { span } from "../util/tracing.ts";
import type { EventFields, RoleChannel, RoleSpec } from "./messages.ts";
import { roleTable } from "./chaos_store.ts";
import { codecOf } from "./config_keys.ts";
import { ensureStreamTable, logRetentionFor, tombstoneRetentionFor } from "./table_setup.ts";
import { log } from "../util/log.ts";
import { Releaser, residentMb } from "../util/native_memory.ts";

/**
 * Log cleanup follows a checkpoint (the one it may keep the table readable
 * from), at most once per this many ms (or per log retention, if shorter):
 * each pass lists the whole log.
 */
const CLEANUP_MIN_INTERVAL_MS = 30_000;

/** Runs the compactor until it is asked to stop. */
export async function runCompactor(spec: RoleSpec, channel: RoleChannel): Promise<void> {
  const { config, id } = spec;
  const table = await roleTable(spec, channel);
  const state = await ensureStreamTable(table, config);
  const emit = (event: EventFields) => channel.send({ type: "event", at: Date.now(), event });
  let lastCheckpoint = state.segment.checkpoint?.version ?? 0;
  // How long the last checkpoint took and when it ended, for its cadence.
  let lastCheckpointMs: number | undefined;
  let lastCheckpointEnd = 0;
  let lastCleanup = -Infinity;
  // A short log retention is honoured within a short run: cleanup needs a
  // checkpoint older than the retention, so it comes back that often.
  const cleanupInterval = Math.min(CLEANUP_MIN_INTERVAL_MS, config.compaction.logRetentionMs);
  // The writers' commits, so that following the log reads none of them and
  // a compaction commits at the head; its own commits tell the writers.
  using known = new CommitFeed(table.store.uri, state.metadata.id, { shared: spec.commitFeed });
  // Tombstones past the retention leave memory and checkpoints alike: the
  // run's, or the table's where that is longer (`tombstoneRetentionFor`),
  // judged from the table's properties at each use.
  const follow = () => ({
    tombstoneRetentionMs: tombstoneRetentionFor(config, state.metadata.configuration),
    known,
  });
  const reportState = () => {
    let bytes = 0;
    for (const add of state.files.values()) bytes += add.size;
    emit({
      role: "compactor",
      role_id: id,
      event: "table_state",
      version: state.version,
      files_total: state.files.size,
      bytes,
      rss_mb: residentMb(),
    });
  };
  const stopped = new AbortController();
  channel.stopRequested.then(() => stopped.abort());
  channel.send({ type: "ready", id });
  // Deletes commits and checkpoints past the log retention, only below the
  // newest checkpoint that is itself past it (ops/log_cleanup.ts), so no
  // commit newer than the oldest checkpoint kept goes. A failure is logged
  // and tried again after a later checkpoint: the table stays readable.
  const cleanLog = async () => {
    const t0 = performance.now();
    try {
      const result = await cleanupLog(table.store, state.metadata.configuration, {
        // Never shorter than the table's own log retention.
        retentionMs: logRetentionFor(config, state.metadata.configuration),
      });
      if (result.filesDeleted === 0) return;
      emit({
        role: "compactor",
        role_id: id,
        event: "log_cleanup",
        ...(result.plan.keepFromVersion !== undefined
          ? { version: result.plan.keepFromVersion }
          : {}),
        files_deleted: result.filesDeleted,
        total_ms: Math.round(performance.now() - t0),
      });
    } catch (error) {
      log("compactor").warn("Log cleanup of {table} failed: {error}", {
        table: table.uri,
        error: String(error),
      });
    }
  };
  const onBin = (settling: boolean) => (bin: BinOutcome) => {
    emit({
      role: "compactor",
      role_id: id,
      event: bin.kind === "committed" ? "compaction" : "compaction_conflict",
      ...(bin.version !== undefined ? { version: bin.version } : {}),
      rows: bin.rows,
      files_in: bin.filesIn,
      files_out: bin.kind === "committed" ? 1 : 0,
      bytes_in: bin.bytesIn,
      bytes: bin.bytesOut,
      total_ms: Math.round(bin.ms),
      detail: `${settling ? "settling pass: " : ""}${
        bin.kind === "committed"
          ? `${bin.copiedRowGroups} row groups copied, ${bin.decodedRowGroups} re-encoded`
          : bin.reason
      }`,
    });
  };
  const compaction: CompactionOptions = {
    targetFileSize: config.compaction.targetFileSize,
    minFiles: config.compaction.minFiles,
    // Beside writers, every byte is rewritten a bounded number of times
    // (ops/compaction_plan.ts), not once per pass until its file is full.
    tiered: {},
    minRowGroupRows: config.compaction.minRowGroupRows,
    codec: codecOf(config.codec),
    // Writers' latency is the run's; a compaction can wait for a gap.
    commit: { yieldToOthers: true, known },
  };
  // Once writes stop: packed, as a one-off optimize plans (module header).
  const { tiered: _tiered, ...packed } = compaction;
  const settle: CompactionOptions = { ...packed, minFiles: OPTIMIZE_MIN_FILES };
  /** One pass over the state; returns how many bins it committed. */
  const pass = async (settling: boolean, signal: AbortSignal): Promise<number> => {
    const outcomes = await span("compaction", { "neuralake.table": table.uri }, () =>
      compactOnce(
        table,
        state,
        { ...(settling ? settle : compaction), signal },
        onBin(settling),
      ));
    return outcomes.filter((o) => o.kind === "committed").length;
  };
  // The version after the compactor's own last commits: a later one means
  // others wrote.
  let versionSeen = state.version;
  let lastWriteSeen = performance.now();
  let settled = false;
  const sawWrites = () => {
    lastWriteSeen = performance.now();
    settled = false;
  };
  // A pass allocates and frees its bins' buffers, which malloc would keep
  // resident for good (util/native_memory.ts).
  const releaser = new Releaser();
  while (!channel.stopping) {
    await nap(config.compaction.intervalMs, stopped.signal);
    if (channel.stopping) break;
    await followTable(table.store, state, follow());
    if (state.version !== versionSeen) sawWrites();
    reportState();
    const settling = !settled &&
      performance.now() - lastWriteSeen >= config.compaction.settleAfterMs;
    const before = state.version;
    // A backlog of bins can outlast the stop timeout: stop after the bin in hand.
    const committed = await pass(settling, stopped.signal);
    await followTable(table.store, state, follow());
    if (state.version - before > committed) sawWrites();
    else if (settling && !stopped.signal.aborted) settled = true;
    versionSeen = state.version;
    reportState();
    if (
      checkpointDue({
        version: state.version,
        lastCheckpoint,
        // The table's delta.checkpointInterval, else Delta's default of 10.
        interval: checkpointIntervalOf(state.metadata.configuration),
        // What the checkpoint would hold (tombstones past retention left out).
        actions: state.files.size + state.tombstones.size + state.txns.size +
          state.domains.size + 2,
        lastCheckpointMs,
        sinceLastCheckpointMs: performance.now() - lastCheckpointEnd,
      })
    ) {
      const t0 = performance.now();
      const hint = await span(
        "checkpoint",
        { "delta.version": state.version },
        () => checkpointTable(table, state, follow()),
      );
      lastCheckpoint = hint.version;
      lastCheckpointEnd = performance.now();
      lastCheckpointMs = lastCheckpointEnd - t0;
      emit({
        role: "compactor",
        role_id: id,
        event: "checkpoint",
        version: hint.version,
        bytes: hint.sizeInBytes,
        total_ms: Math.round(performance.now() - t0),
      });
      if (performance.now() - lastCleanup >= cleanupInterval) {
        lastCleanup = performance.now();
        await cleanLog();
      }
    }
    releaser.afterWork();
  }
  if (channel.writesEnded) {
    // The writers' last commits, then the settling pass, given half the stop
    // timeout: between bins it stops once that is up.
    await followTable(table.store, state, follow());
    if (state.version !== versionSeen || !settled) {
      const budget = new AbortController();
      const timer = setTimeout(() => budget.abort(), config.stopTimeoutMs / 2);
      try {
        await pass(true, budget.signal);
      } finally {
        clearTimeout(timer);
      }
      await followTable(table.store, state, follow());
      reportState();
    }
  }
  channel.send({ type: "stopped", id });
}

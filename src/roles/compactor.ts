/**
 * The compaction role: follow the log, bin-pack small files into large ones
 * (copying big row groups byte for byte), write a checkpoint every N
 * versions, clean up the log within its retention, and report the table's
 * file count as it goes (the sawtooth of the run report).
 *
 * It coexists with writers: blind appends never invalidate a compaction, and
 * when two compactions pick the same files the loser drops its bin.
 */

import { compactOnce } from "../ops/compaction.ts";
import { cleanupLog } from "../ops/log_cleanup.ts";
import { checkpointTable } from "../ops/checkpoint.ts";
import { followTable } from "../ops/table.ts";
import { sleep } from "../util/backoff.ts";
import { span } from "../util/tracing.ts";
import type { EventFields, RoleChannel, RoleSpec } from "./messages.ts";
import { roleTable } from "./chaos_store.ts";
import { ensureStreamTable } from "./table_setup.ts";

/** Log cleanup runs once every this many passes. */
const CLEANUP_EVERY_PASSES = 30;

/** Runs the compactor until it is asked to stop. */
export async function runCompactor(spec: RoleSpec, channel: RoleChannel): Promise<void> {
  const { config, id } = spec;
  const table = roleTable(spec, channel);
  const state = await ensureStreamTable(table, config);
  const emit = (event: EventFields) => channel.send({ type: "event", at: Date.now(), event });
  let lastCheckpoint = state.segment.checkpoint?.version ?? 0;
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
      rss_mb: Math.round(Deno.memoryUsage().rss / 1048576 * 10) / 10,
    });
  };
  channel.send({ type: "ready", id });
  for (let pass = 1; !channel.stopping; pass++) {
    await Promise.race([sleep(config.compaction.intervalMs), channel.stopRequested]);
    if (channel.stopping) break;
    await followTable(table.store, state);
    reportState();
    await span("compaction", { "neuralake.table": table.uri }, () =>
      compactOnce(table, state, {
        targetFileSize: config.compaction.targetFileSize,
        minFiles: config.compaction.minFiles,
        minRowGroupRows: config.compaction.minRowGroupRows,
      }, (bin) => {
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
          detail: bin.kind === "committed"
            ? `${bin.copiedRowGroups} row groups copied, ${bin.decodedRowGroups} re-encoded`
            : bin.reason,
        });
      }));
    await followTable(table.store, state);
    reportState();
    if (state.version - lastCheckpoint >= config.compaction.checkpointEvery) {
      const t0 = performance.now();
      const hint = await span(
        "checkpoint",
        { "delta.version": state.version },
        () => checkpointTable(table, state),
      );
      lastCheckpoint = hint.version;
      emit({
        role: "compactor",
        role_id: id,
        event: "checkpoint",
        version: hint.version,
        bytes: hint.sizeInBytes,
        total_ms: Math.round(performance.now() - t0),
      });
    }
    if (pass % CLEANUP_EVERY_PASSES === 0) {
      const t0 = performance.now();
      const result = await cleanupLog(table.store, state.metadata.configuration, {
        retentionMs: config.compaction.logRetentionMs,
      });
      if (result.filesDeleted > 0) {
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
      }
    }
  }
  channel.send({ type: "stopped", id });
}

/**
 * The vacuum role: every interval, delete the data files that the current
 * version no longer references once they are past retention, under every
 * rule of DESIGN.md's "Vacuum safety" (see ops/vacuum.ts). The retention is
 * the run's or the table's `delta.deletedFileRetentionDuration`, whichever
 * is longer (Delta's week where the table declares none), unless the run
 * explicitly allows a shorter one (`vacuumRetentionOptions`); it is judged
 * from the table's properties at each pass (the run logs it at start, the
 * role whenever a change of the table's properties changes it).
 */

import { chooseVacuumRetention, vacuum, type VacuumRetention } from "../ops/vacuum.ts";
import { CommitFeed, snapshotOf } from "../ops/table.ts";
import { nap } from "../util/backoff.ts";
import { Releaser, residentMb } from "../util/native_memory.ts";
import { span } from "../util/tracing.ts";
import type { RoleChannel, RoleSpec } from "./messages.ts";
import { roleTable } from "./chaos_store.ts";
import {
  describeVacuumRetention,
  ensureStreamTable,
  vacuumRetentionOptions,
} from "./table_setup.ts";
import { log } from "../util/log.ts";
import { formatDuration } from "../util/units.ts";

/** Runs the vacuum role until it is asked to stop. */
export async function runVacuumer(spec: RoleSpec, channel: RoleChannel): Promise<void> {
  const { config, id } = spec;
  const table = await roleTable(spec, channel);
  const initial = await ensureStreamTable(table, config);
  // The commits of the writers and the compactor of this process, so that a
  // pass reads none of them from the store: each pass still lists the log
  // and reads its checkpoint, and a commit from the feed has the exact bytes
  // that were put, so the pass decides from the same commits as with reads.
  using known = new CommitFeed(table.store.uri, initial.metadata.id, {
    shared: spec.commitFeed,
  });
  // The run logs the retention at start (roles/orchestrator.ts); the role
  // tells when a change of the table's properties changes it.
  const retentionOptions = vacuumRetentionOptions(config);
  let retentionMs = chooseVacuumRetention(initial.metadata.configuration, retentionOptions).ms;
  const tell = (retention: VacuumRetention) => {
    if (retention.ms === retentionMs) return;
    retentionMs = retention.ms;
    log("vacuum").warn("Vacuum of {table} now deletes removed files after {retention}: {why}", {
      table: table.uri,
      retention: formatDuration(retention.ms),
      why: describeVacuumRetention(config, retention),
    });
  };
  channel.send({ type: "ready", id });
  // Each pass reads the checkpoint and lists the table (util/native_memory.ts).
  const releaser = new Releaser();
  // Waits end at a stop without a reaction per wait left on the stop promise.
  const stop = new AbortController();
  channel.stopRequested.then(() => stop.abort());
  while (!channel.stopping) {
    await nap(config.vacuum.intervalMs, stop.signal);
    if (channel.stopping) break;
    const t0 = performance.now();
    const result = await span("vacuum", { "neuralake.table": table.uri }, async (s) => {
      const result = await vacuum(table.store, () => snapshotOf(table, { known }), {
        ...retentionOptions,
        dryRun: config.vacuum.dryRun,
        known,
      });
      s.setAttribute("neuralake.files_deleted", result.filesDeleted);
      return result;
    });
    tell(result.retention);
    channel.send({
      type: "event",
      at: Date.now(),
      event: {
        role: "vacuum",
        role_id: id,
        event: "vacuum",
        version: result.plan.version,
        files_deleted: result.dryRun ? 0 : result.filesDeleted,
        bytes: result.dryRun ? 0 : result.bytesDeleted,
        total_ms: Math.round(performance.now() - t0),
        detail: result.dryRun
          ? `dry run: would delete ${result.plan.delete.length} files`
          : result.failed.length
          ? `${result.failed.length} deletions failed: ${result.failed[0]!.reason}`
          : `kept ${result.plan.kept.youngFile} recent and ${result.plan.kept.youngTombstone} recently removed files`,
        rss_mb: residentMb(),
      },
    });
    releaser.afterWork();
  }
  channel.send({ type: "stopped", id });
}

/**
 * The orchestrator of `neuralake stream`: starts the writers, the compactor
 * and the vacuum role (as workers or processes), collects their reports into
 * metrics, shows progress, injects chaos, restarts roles that die, stops
 * gracefully, reconciles in-flight batches, verifies that nothing was lost or
 * duplicated, and writes the run's outputs.
 *
 * Invariants:
 * - A batch counts as acknowledged only when its writer reported the commit,
 *   or when a restarted writer (or the final reconciliation) found the
 *   batch's `txn` in the table after a crash between commit and report.
 * - On stop, writers finish their in-flight batch before maintenance stops;
 *   whatever was not committed is reported as not acknowledged.
 */

import { MetricsRecorder } from "../metrics/recorder.ts";
import { stampEvent } from "../metrics/events.ts";
import { buildResults, type RunResults } from "../metrics/results.ts";
import { createRunDir, pointLatest, type RunDir, writeRunOutputs } from "../report/run_dir.ts";
import { snapshotOf } from "../ops/table.ts";
import { sleep } from "../util/backoff.ts";
import { log } from "../util/log.ts";
import { formatDuration } from "../util/units.ts";
import { planKills } from "./chaos.ts";
import { describeConfig, type StreamConfig } from "./config.ts";
import { type RoleHost, startProcessHost, startWorkerHost } from "./hosts.ts";
import type { Report, RoleKind, RoleSpec } from "./messages.ts";
import { ensureStreamTable, streamTable } from "./table_setup.ts";
import { type Acknowledged, verifyRun } from "./verify_run.ts";

/** How a run reports while it goes. */
export interface StreamOptions {
  /** Show a live progress line (on a terminal). */
  progress: boolean;
  /** Extra settings to embed in the results (already redacted). */
  extraConfig?: Record<string, unknown>;
  /** Resolves to ask the run to stop early (SIGINT, SIGTERM). */
  stopSignal?: Promise<void>;
  /** Called with a progress line every second. */
  onProgress?: (line: string) => void;
}

/** What a run produced. */
export interface StreamRun {
  results: RunResults;
  dir: RunDir;
}

interface Slot {
  spec: RoleSpec;
  host: RoleHost;
  restarts: number;
}

/** Runs a streaming job from start to verified finish. */
export async function runStream(config: StreamConfig, options: StreamOptions): Promise<StreamRun> {
  const startedAt = new Date();
  const runStartMs = startedAt.getTime();
  const dir = await createRunDir(config.out, startedAt);
  const recorder = new MetricsRecorder(dir.metricsCsv, { startMs: runStartMs });
  const logger = log("stream");
  const table = streamTable(config);
  const initial = await ensureStreamTable(table, config);
  const sessionId = dir.name;
  const acked: Acknowledged = new Map();
  const pending = new Map<string, Map<number, number>>();
  const lastCommitted = new Map<string, number>();
  let stopping = false;
  let errors = 0;
  let filesTotal = initial.files.size;
  let version = initial.version;
  const chaosEvents: { t_s: number; action: string; role_id: string; detail: string }[] = [];

  const record = (at: number, fields: Parameters<MetricsRecorder["recordNow"]>[0]) =>
    recorder.record(stampEvent(runStartMs, at, fields));

  const ack = (writer: string, seq: number, rows: number) => {
    const batches = acked.get(writer) ?? new Map<number, number>();
    batches.set(seq, rows);
    acked.set(writer, batches);
    pending.get(writer)?.delete(seq);
  };

  /** Batches a writer reported as committing but never acknowledged, resolved against the table. */
  const reconcile = (writer: string, lastSeq: number, at: number) => {
    const inFlight = pending.get(writer);
    if (!inFlight) return;
    for (const [seq, rows] of [...inFlight]) {
      if (seq <= lastSeq && !acked.get(writer)?.has(seq)) {
        ack(writer, seq, rows);
        record(at, {
          role: "writer",
          role_id: writer,
          event: "batch_committed",
          batch_seq: seq,
          rows,
          detail: "acknowledged on recovery: committed just before the writer died",
        });
      } else {
        inFlight.delete(seq);
        record(at, {
          role: "writer",
          role_id: writer,
          event: "batch_unacknowledged",
          batch_seq: seq,
          rows,
          detail: "not committed when the writer stopped; its rows are not in the table",
        });
      }
    }
  };

  const onReport = (spec: RoleSpec) => (report: Report) => {
    const now = Date.now();
    switch (report.type) {
      case "event": {
        const e = report.event;
        if (e.event === "table_state") {
          filesTotal = e.files_total ?? filesTotal;
          if (e.version !== undefined) version = Math.max(version, Number(e.version));
        }
        if (e.event === "batch_committed" && e.version !== undefined) {
          version = Math.max(version, Number(e.version));
        }
        record(report.at, e);
        break;
      }
      case "recovered":
        lastCommitted.set(report.id, report.lastSeq);
        reconcile(report.id, report.lastSeq, now);
        break;
      case "committing": {
        const batches = pending.get(report.id) ?? new Map<number, number>();
        batches.set(report.seq, report.rows);
        pending.set(report.id, batches);
        break;
      }
      case "acked":
        ack(report.id, report.seq, report.rows);
        lastCommitted.set(report.id, report.seq);
        break;
      case "dying":
        record(now, {
          role: "orchestrator",
          role_id: report.id,
          event: "kill",
          batch_seq: report.seq,
          detail: `killed ${report.phase} of batch ${report.seq}`,
        });
        chaosEvents.push({
          t_s: (now - runStartMs) / 1000,
          action: "kill",
          role_id: report.id,
          detail: `${report.phase} of batch ${report.seq}`,
        });
        break;
      case "fatal":
        errors++;
        record(now, {
          role: spec.kind,
          role_id: report.id,
          event: "role_error",
          detail: report.message.slice(0, 500),
        });
        logger.error("Role {id} failed: {message}", { id: report.id, message: report.message });
        break;
      case "ready":
      case "stopped":
        break;
    }
  };

  const roleLog = `${dir.path}/roles.log`;
  const start = (spec: RoleSpec): RoleHost =>
    config.isolation === "process"
      ? startProcessHost(spec, onReport(spec), roleLog)
      : startWorkerHost(spec, onReport(spec));
  const slots = new Map<string, Slot>();
  const specs: RoleSpec[] = [];
  for (let w = 0; w < config.writers; w++) specs.push(roleSpec("writer", `writer-${w}`));
  if (config.compaction.enabled) specs.push(roleSpec("compactor", "compactor-0"));
  if (config.vacuum.enabled) specs.push(roleSpec("vacuum", "vacuum-0"));
  function roleSpec(kind: RoleKind, id: string): RoleSpec {
    return { kind, id, config, sessionId, runStartMs };
  }

  const watch = (slot: Slot) => {
    slot.host.exited.then(async (exit) => {
      if (stopping) return;
      // The role died while the run goes on: restart it.
      const at = Date.now();
      if (exit.code !== 0) {
        logger.warn("Role {id} exited ({how}); restarting", {
          id: slot.spec.id,
          how: exit.signal ?? `code ${exit.code}`,
        });
      }
      await sleep(config.chaos.restartDelayMs);
      if (stopping) return;
      slot.restarts++;
      record(Date.now(), {
        role: "orchestrator",
        role_id: slot.spec.id,
        event: "restart",
        detail: `after ${exit.signal ?? `exit ${exit.code}`}, ${Date.now() - at} ms`,
      });
      chaosEvents.push({
        t_s: (Date.now() - runStartMs) / 1000,
        action: "restart",
        role_id: slot.spec.id,
        detail: exit.signal ?? `exit ${exit.code}`,
      });
      slot.host = start(slot.spec);
      watch(slot);
    });
  };
  for (const spec of specs) {
    const slot: Slot = { spec, host: start(spec), restarts: 0 };
    slots.set(spec.id, slot);
    watch(slot);
  }
  logger.info("Streaming into {table} for {duration} with {writers} writers ({isolation})", {
    table: table.uri,
    duration: formatDuration(config.durationMs),
    writers: config.writers,
    isolation: config.isolation,
  });

  // Chaos: planned kills of writers.
  const chaosTimers: ReturnType<typeof setTimeout>[] = [];
  if (config.chaos.mode === "kill-writers") {
    for (
      const kill of planKills(config.chaos.kills, config.writers, config.durationMs, config.seed)
    ) {
      chaosTimers.push(setTimeout(() => {
        if (stopping) return;
        const slot = slots.get(`writer-${kill.writer}`)!;
        if (kill.method === "random") {
          const now = Date.now();
          record(now, {
            role: "orchestrator",
            role_id: slot.spec.id,
            event: "kill",
            detail: "at a random moment",
          });
          chaosEvents.push({
            t_s: (now - runStartMs) / 1000,
            action: "kill",
            role_id: slot.spec.id,
            detail: "random moment",
          });
          slot.host.kill();
        } else {
          slot.host.send({ type: "arm", phase: kill.method });
        }
      }, kill.atMs));
    }
  }

  // Progress, once a second.
  let lastRows = 0;
  const progressTimer = setInterval(() => {
    const t = recorder.tally;
    const rate = t.rowsAcknowledged - lastRows;
    lastRows = t.rowsAcknowledged;
    const p99 = percentile99(recorder.latencies.commit);
    const line = `${((Date.now() - runStartMs) / 1000).toFixed(0).padStart(4)} s  ${
      formatRate(rate)
    } rows/s  ${
      t.rowsAcknowledged.toLocaleString("en-US")
    } rows  ${t.commits} commits  v${version}  ${filesTotal} files  commit p99 ${
      p99.toFixed(1)
    } ms  ${errors + t.batchesFailed} errors`;
    options.onProgress?.(line);
  }, 1000);

  // Run until the duration is up or a stop is asked.
  const forever = new Promise<void>(() => {});
  await Promise.race([
    config.durationMs > 0 ? sleep(config.durationMs) : forever,
    options.stopSignal ?? forever,
  ]);
  const writingEndedAt = Date.now();
  stopping = true;
  chaosTimers.forEach(clearTimeout);
  const stopGroup = async (ids: string[]) => {
    for (const id of ids) slots.get(id)!.host.send({ type: "stop" });
    await Promise.all(ids.map(async (id) => {
      const slot = slots.get(id)!;
      const done = await Promise.race([
        slot.host.exited.then(() => true),
        sleep(config.stopTimeoutMs).then(() => false),
      ]);
      if (!done) {
        logger.warn("Role {id} did not stop in {timeout}; killing it", {
          id,
          timeout: formatDuration(config.stopTimeoutMs),
        });
        slot.host.kill();
        await slot.host.exited;
      }
    }));
  };
  await stopGroup(specs.filter((s) => s.kind === "writer").map((s) => s.id));
  const writersStoppedAt = new Date();
  await stopGroup(specs.filter((s) => s.kind !== "writer").map((s) => s.id));
  clearInterval(progressTimer);

  // Reconcile batches still in flight against the table's txn markers.
  const final = await snapshotOf(table);
  for (const spec of specs) {
    if (spec.kind !== "writer") continue;
    reconcile(spec.id, final.txns.get(spec.id)?.version ?? -1, Date.now());
  }
  record(Date.now(), {
    role: "orchestrator",
    role_id: "orchestrator",
    event: "table_state",
    version: final.version,
    files_total: final.files.size,
    bytes: [...final.files.values()].reduce((n, a) => n + a.size, 0),
  });

  const verifyStarted = performance.now();
  const verification = await verifyRun(table, sessionId, acked);
  const verifyMs = performance.now() - verifyStarted;
  recorder.close();
  const results = buildResults(recorder, {
    runId: dir.name,
    startedAt,
    finishedAt: writersStoppedAt,
    table: table.uri,
    config: { ...describeConfig(config), ...options.extraConfig },
    verification,
    chaos: { mode: config.chaos.mode, events: chaosEvents },
  });
  (results as RunResults & { verification_ms?: number; writing_seconds?: number }).verification_ms =
    Math.round(verifyMs);
  (results as RunResults & { writing_seconds?: number }).writing_seconds = Math.round(
    (writingEndedAt - runStartMs) / 10,
  ) / 100;
  await writeRunOutputs(dir, results);
  await pointLatest(config.out, dir.name);
  return { results, dir };
}

function percentile99(values: readonly number[]): number {
  if (values.length === 0) return 0;
  const sorted = Float64Array.from(values).sort();
  return sorted[Math.min(sorted.length - 1, Math.ceil(sorted.length * 0.99) - 1)]!;
}

function formatRate(n: number): string {
  return n >= 1e6 ? `${(n / 1e6).toFixed(2)}M` : n >= 1e3 ? `${(n / 1e3).toFixed(1)}k` : String(n);
}

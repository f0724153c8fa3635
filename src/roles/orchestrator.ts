/**
 * The orchestrator of `neuralake stream`: starts the writers, the compactor
 * and the vacuum role (as workers or processes) under a supervisor, turns
 * their reports into metrics events and ledger entries, runs the chaos plan,
 * stops gracefully, reconciles in-flight batches, verifies that nothing was
 * lost or duplicated, and writes the run's outputs.
 *
 * The parts it joins each own one concern and are tested alone: the run
 * ledger (acknowledged, pending and failed batches), the chaos plan and
 * scheduler, the supervisor (restarts and stops) and the metrics recorder
 * (every event, once; the only record of kills, restarts and faults).
 *
 * Invariants:
 * - A batch counts as acknowledged only when its writer reported the commit,
 *   or when a restarted writer (or the final reconciliation) found the
 *   batch's `txn` in the table after a crash between commit and report.
 * - On stop, writers finish their in-flight batch before maintenance stops;
 *   whatever was not committed is reported as not acknowledged.
 * - A role that fails, exits unasked or does not stop when asked is a
 *   crash, counted once; a kill that chaos ordered is not.
 */

import { MetricsRecorder } from "../metrics/recorder.ts";
import { type MetricsEvent, stampEvent } from "../metrics/events.ts";
import {
  buildResults,
  type RunResults,
  type StorageFootprint,
  type Verification,
} from "../metrics/results.ts";
import { tableFootprint } from "../ops/footprint.ts";
import { createRunDir, pointLatest, type RunDir, writeRunOutputs } from "../report/run_dir.ts";
import {
  CommitFeed,
  openTable,
  type SharedFeed,
  snapshotOf,
  syncLog,
  type Table,
} from "../ops/table.ts";
import { sleep } from "../util/backoff.ts";
import { RotatingFile, segmentBytesFor } from "../util/rotating_file.ts";
import { log } from "../util/log.ts";
import { formatDuration } from "../util/units.ts";
import { type ChaosAction, ChaosScheduler, missedDetail, planFromStart } from "./chaos.ts";
import { configValues } from "./config.ts";
import type { StreamConfig } from "./config_keys.ts";
import { type HostExit, type RoleHost, startProcessHost, startWorkerHost } from "./hosts.ts";
import type { ChaosPhase, EventFields, HaltCheck, Report, RoleKind, RoleSpec } from "./messages.ts";
import { RunLedger } from "./run_ledger.ts";
import { Supervisor } from "./supervisor.ts";
import {
  describeVacuumRetention,
  ensureStreamTable,
  streamTable,
  vacuumRetentionOptions,
} from "./table_setup.ts";
import { chooseVacuumRetention } from "../ops/vacuum.ts";
import { verifyRun } from "./verify_run.ts";
import { partitionAppId } from "./kafka_offsets.ts";

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
  /** Called with every event as it is recorded (the metrics endpoint listens here). */
  onEvent?: (event: MetricsEvent) => void;
}

/** What a run produced. */
export interface StreamRun {
  results: RunResults;
  dir: RunDir;
}

/** Runs a streaming job from start to verified finish. */
export async function runStream(config: StreamConfig, options: StreamOptions): Promise<StreamRun> {
  const startedAt = new Date();
  const dir = await createRunDir(config.out, startedAt);
  const table = await streamTable(config);
  const initial = await ensureStreamTable(table, config);
  // The memory the roles' commit feeds share, held for the whole run: a
  // role in a worker joins it through its spec.
  using feed = new CommitFeed(table.store.uri, initial.metadata.id);
  const run = new Orchestrator(config, dir, startedAt.getTime(), table, options, feed.shared);
  run.tableSeen(initial.version, initial.files.size);
  run.start();
  const kafka = config.source === "kafka";
  logger.info("Streaming into {table} for {duration} with {writers} {what} ({isolation})", {
    table: table.uri,
    duration: config.durationMs > 0 ? formatDuration(config.durationMs) : "until stopped",
    writers: config.writers,
    what: kafka
      ? `ingest roles from Kafka topic ${config.kafka.topic} (group ${config.kafka.group})`
      : "writers",
    isolation: config.isolation,
  });
  if (config.vacuum.enabled) {
    const retention = chooseVacuumRetention(
      initial.metadata.configuration,
      vacuumRetentionOptions(config),
    );
    logger.info("Vacuum deletes removed and unreferenced files after {retention}: {why}", {
      retention: formatDuration(retention.ms),
      why: describeVacuumRetention(config, retention),
    });
  }

  const forever = new Promise<void>(() => {});
  await Promise.race([
    config.durationMs > 0 ? sleep(config.durationMs) : forever,
    options.stopSignal ?? forever,
    run.allIdle,
    run.halt,
  ]);
  const writingEndedAt = new Date();
  await run.stop();
  const writersStoppedAt = run.writersStoppedAt ?? new Date();

  const { verification, verificationMs, storage } = await closingAfter(
    () => finishRun(run, table, dir, config, initial),
    () => run.closeFiles(),
  );
  const results = buildResults(run.recorder, {
    runId: dir.name,
    startedAt,
    finishedAt: writersStoppedAt,
    writingEndedAt,
    writersUpAt: run.firstWriterUpAt,
    table: table.uri,
    config: { ...configValues(config), ...options.extraConfig },
    verification,
    verificationMs,
    storage,
    chaosMode: config.chaos.mode,
  });
  await writeRunOutputs(dir, results);
  await pointLatest(config.out, dir.name);
  return { results, dir };
}

const logger = log("stream");

/**
 * Runs `work`, then `close` whatever happened: the run's files are closed
 * (their last segment's gzip finished) on every path. The work's error, if
 * any, is the outcome, and an error of closing then is only logged.
 */
export async function closingAfter<T>(
  work: () => Promise<T>,
  close: () => Promise<void>,
): Promise<T> {
  let result: T;
  try {
    result = await work();
  } catch (error) {
    try {
      await close();
    } catch (closeError) {
      logger.warn("Cannot close the run's files after an error: {error}", {
        error: String(closeError),
      });
    }
    throw error;
  }
  await close();
  return result;
}

/** Settles the stopped run against the table, verifies it and measures the table. */
async function finishRun(
  run: Orchestrator,
  table: Table,
  dir: RunDir,
  config: StreamConfig,
  initial: Awaited<ReturnType<typeof ensureStreamTable>>,
): Promise<
  { verification: Verification; verificationMs: number; storage: StorageFootprint | null }
> {
  const kafka = config.source === "kafka";
  await run.reconcileWithTable();
  const verifyStarted = performance.now();
  let verification: Verification;
  // Why an ingest role halted the run, as the check that fails.
  const halted = run.halted &&
    { name: run.halted.check, passed: false, detail: run.halted.message };
  if (kafka && halted?.name === "kafka_broker_reachable") {
    // Kafka cannot be read back: the run is not verified, and says why.
    verification = { passed: false, checks: [halted] };
  } else if (kafka) {
    // The Kafka client is loaded only by runs that read Kafka.
    const { verifyKafkaRun } = await import("./verify_kafka.ts");
    const prefix = partitionAppId(config.kafka.group, config.kafka.topic, 0).slice(0, -1);
    const startMarkers = new Map<number, number>();
    for (const [appId, txn] of initial.txns) {
      if (appId.startsWith(prefix)) {
        startMarkers.set(Number(appId.slice(prefix.length)), Number(txn.version));
      }
    }
    const checked = await verifyKafkaRun(table, {
      ...config.kafka,
      deadLetter: config.kafka.deadLetter ? await openTable(config.kafka.deadLetter) : undefined,
      runId: dir.name,
      startMarkers,
      // A read-back waits out a broker as long as the run would have.
      stallMs: Math.max(120_000, config.kafka.brokerTimeoutMs),
      // A read-back of days of messages takes minutes: say how far it is.
      onProgress: ({ phase, done, total, elapsedMs }) =>
        logger.info("Verifying against {topic}: {done} of {total} {what} read in {seconds} s", {
          topic: config.kafka.topic,
          done,
          total,
          what: phase === "topic" ? "committed messages" : "data files of the table",
          seconds: Math.round(elapsedMs / 1000),
        }),
    });
    run.ingestCommittedUnreported(checked.rowsThisRun);
    // What was committed is verified; a halted run still failed, and says why.
    verification = halted
      ? { ...checked, passed: false, checks: [...checked.checks, halted] }
      : checked;
  } else verification = await verifyRun(table, dir.name, run.ledger.acknowledged);
  const verificationMs = performance.now() - verifyStarted;
  const storage = await footprintOf(table);
  return { verification, verificationMs, storage };
}

/** The table's bytes in its store at the end, or null (and a warning) if it cannot be listed. */
async function footprintOf(table: Table): Promise<StorageFootprint | null> {
  try {
    const f = await tableFootprint(table.store);
    return {
      data_files: f.dataFiles,
      data_bytes: f.dataBytes,
      log_files: f.logFiles,
      log_bytes: f.logBytes,
    };
  } catch (error) {
    logger.warn("Cannot list {table} to measure it: {error}", {
      table: table.uri,
      error: String(error),
    });
    return null;
  }
}

/** One run's moving parts and what they share. */
class Orchestrator {
  readonly recorder: MetricsRecorder;
  readonly ledger = new RunLedger();
  readonly supervisor: Supervisor;
  /** The chaos plan's timers, from the moment every role is up. */
  #scheduler: ChaosScheduler | undefined;
  /** Roles not heard from yet: chaos waits for every role to be up. */
  readonly #notUp = new Set<string>();
  #stopping = false;
  /** Kills armed and not yet hit, with when they were armed (epoch ms). */
  readonly #armedKills: { action: ChaosAction & { kind: "kill" }; atMs: number }[] = [];
  writersStoppedAt: Date | undefined;
  /**
   * When the first role that appends (a writer, an ingest role) was up and
   * about to write: the start of the rate that leaves out start-up.
   */
  firstWriterUpAt: Date | undefined;
  #version = -1;
  #files = 0;
  #progressTimer: ReturnType<typeof setInterval> | undefined;
  #lastProgressRows = 0;
  /** Roles that chaos is killing: their next exit is not a crash. */
  readonly #killing = new Set<string>();
  /** Roles whose current incarnation already reported a failure. */
  readonly #failed = new Set<string>();
  /** Partitions in force, by role: storage fails until this epoch time. */
  readonly #partitions = new Map<string, number>();
  /** Chaos phases armed and not yet hit, by role: a restarted role is armed again. */
  readonly #arms = new Map<string, Set<ChaosPhase>>();
  /** Ingest roles whose current incarnation reported its partitions idle (--until-idle). */
  readonly #idle = new Set<string>();
  #resolveIdle!: () => void;
  /** Resolves once every ingest role is idle (never without ingest roles). */
  readonly allIdle = new Promise<void>((resolve) => (this.#resolveIdle = resolve));
  /** Why an ingest role halted the run (Kafka unreachable, a bad message), if one did. */
  halted: { check: HaltCheck; message: string } | undefined;
  #resolveHalted!: () => void;
  /** Resolves once an ingest role halted the run: the run ends. */
  readonly halt = new Promise<void>((resolve) => (this.#resolveHalted = resolve));

  constructor(
    readonly config: StreamConfig,
    readonly dir: RunDir,
    readonly runStartMs: number,
    readonly table: Table,
    readonly options: StreamOptions,
    readonly commitFeed?: SharedFeed,
  ) {
    this.recorder = new MetricsRecorder(dir.metricsCsv, {
      startMs: runStartMs,
      maxBytes: config.runFilesMaxBytes,
    });
    this.supervisor = new Supervisor({
      start: (spec) => this.#startHost(spec),
      restartDelayMs: config.chaos.restartDelayMs,
      onExit: (spec, exit) => this.#exited(spec, exit),
      onRestart: (spec, exit, downMs) =>
        this.#record(Date.now(), {
          role: "orchestrator",
          role_id: spec.id,
          event: "restart",
          detail: `after ${exit.signal ?? `exit ${exit.code}`}, ${downMs} ms`,
        }),
      onStopTimeout: (spec) => {
        // A role that does not stop when asked is hung: that is a failure too.
        const timeout = formatDuration(config.stopTimeoutMs);
        logger.warn("Role {id} did not stop in {timeout}; killing it", { id: spec.id, timeout });
        this.#record(Date.now(), {
          role: spec.kind,
          role_id: spec.id,
          event: "role_error",
          detail: `did not stop within ${timeout} of being asked; killed`,
        });
      },
    });
  }

  /** Starts every role, the chaos plan and the progress line. */
  start(): void {
    // A Kafka-sourced run's rows come from ingest roles, `writers` of them.
    const source = this.config.source === "kafka" ? "ingest" : "writer";
    for (let w = 0; w < this.config.writers; w++) this.supervisor.add(this.#spec(source, w));
    if (this.config.compaction.enabled) this.supervisor.add(this.#spec("compactor", 0));
    if (this.config.vacuum.enabled) this.supervisor.add(this.#spec("vacuum", 0));
    for (const id of this.supervisor.ids()) this.#notUp.add(id);
    this.#progressTimer = setInterval(() => this.options.onProgress?.(this.#progress()), 1000);
  }

  /** Stops the writers or ingest roles (they commit what they hold), then maintenance. */
  async stop(): Promise<void> {
    this.#stopping = true;
    const notDue = this.#scheduler?.stop();
    await this.supervisor.stopGroup(
      [...this.supervisor.ids("writer"), ...this.supervisor.ids("ingest")],
      this.config.stopTimeoutMs,
    );
    this.writersStoppedAt = new Date();
    const maintenance = [...this.supervisor.ids("compactor"), ...this.supervisor.ids("vacuum")];
    // The writers are gone: the compactor settles the table before it stops.
    await this.supervisor.stopGroup(maintenance, this.config.stopTimeoutMs, {
      type: "stop",
      writesEnded: true,
    });
    clearInterval(this.#progressTimer);
    this.#reportMissed(notDue);
  }

  /** The chaos plan of this run, spread over what is left of it `upMs` after its start. */
  #plan(upMs: number): ChaosAction[] {
    const config = this.config;
    return planFromStart(
      config.chaos,
      {
        writers: config.source === "kafka" ? 0 : config.writers,
        ingest: config.source === "kafka" ? config.writers : 0,
        compactor: config.compaction.enabled,
        vacuum: config.vacuum.enabled,
      },
      config.durationMs,
      upMs,
      config.seed,
    );
  }

  /** Notes a role's first report; once every role is up, the chaos plan starts. */
  #roleUp(id: string): void {
    if (!this.#notUp.delete(id) || this.#notUp.size > 0 || this.#stopping) return;
    const upMs = Date.now() - this.runStartMs;
    const plan = this.#plan(upMs);
    if (plan.length > 0) {
      logger.info("Every role is up after {up}: {n} chaos actions over the rest of the run", {
        up: formatDuration(upMs),
        n: plan.length,
      });
    }
    this.#scheduler = new ChaosScheduler(plan, (action) => this.#act(action));
    this.#scheduler.start();
  }

  /**
   * Lists each planned chaos action that did not happen: the run ended
   * before every role was up, or before the action was due, or before its
   * role reached the phase it was armed for. A run that meant to kill and
   * did not says so, in its events and summary.
   */
  #reportMissed(notDue: ChaosAction[] | undefined): void {
    const now = Date.now();
    const missed: { action: ChaosAction; detail: string }[] = [
      ...(notDue === undefined
        ? this.#plan(0).map((action) => ({ action, detail: missedDetail(action, "not-up") }))
        : notDue.map((action) => ({ action, detail: missedDetail(action, "stopped") }))),
      ...this.#armedKills.map(({ action, atMs }) => ({
        action,
        detail: missedDetail(action, "not-reached", (atMs - this.runStartMs) / 1000),
      })),
    ];
    for (const { action, detail } of missed) {
      this.#record(now, {
        role: "orchestrator",
        role_id: action.target,
        event: "chaos_missed",
        detail,
      });
    }
    if (missed.length > 0) {
      logger.warn("{n} planned chaos actions did not happen; the report lists them", {
        n: missed.length,
      });
    }
  }

  /**
   * Settles batches still in flight against the table's `txn` markers, once
   * the log is durable: a writer killed between its commit's link and the
   * log's flush left a batch that is in the table but not yet on disk.
   */
  async reconcileWithTable(): Promise<void> {
    const final = await snapshotOf(this.table);
    await syncLog(this.table);
    const now = Date.now();
    for (const id of this.supervisor.ids("writer")) {
      this.#settle(id, final.txns.get(id)?.version ?? -1, now);
    }
    let bytes = 0;
    for (const add of final.files.values()) bytes += add.size;
    this.#record(now, {
      role: "orchestrator",
      role_id: "orchestrator",
      event: "table_state",
      version: final.version,
      files_total: final.files.size,
      bytes,
    });
  }

  /**
   * Counts the rows an ingest role committed but could not report, killed
   * between its commit and the report (the table holds `committed` rows of
   * this run's offsets; the roles reported fewer), as the writers' ledger
   * acknowledges such batches on recovery.
   */
  ingestCommittedUnreported(committed: number): void {
    const missing = committed - this.recorder.tally.rowsAcknowledged;
    if (missing <= 0) return;
    this.#record(Date.now(), {
      role: "ingest",
      role_id: "ingest-killed",
      event: "batch_committed",
      rows: missing,
      detail: "acknowledged at the end: committed by ingest roles killed before they reported " +
        "it, counted from the offsets read back up to the table's markers",
    });
  }

  /** Notes the table's version and file count. */
  tableSeen(version: number | bigint | undefined, files?: number): void {
    if (version !== undefined) this.#version = Math.max(this.#version, Number(version));
    if (files !== undefined) this.#files = files;
  }

  #spec(kind: RoleKind, n: number): RoleSpec {
    // Shared memory reaches workers of this process only, not child processes.
    const shared = this.config.isolation === "process" ? undefined : this.commitFeed;
    return {
      kind,
      id: `${kind}-${n}`,
      config: this.config,
      sessionId: this.dir.name,
      runStartMs: this.runStartMs,
      ...(shared ? { commitFeed: shared } : {}),
    };
  }

  /** The roles' stderr under process isolation, capped as the metrics CSV is. */
  #rolesLog: RotatingFile | undefined;

  #rolesLogFile(): RotatingFile {
    const maxBytes = this.config.runFilesMaxBytes;
    this.#rolesLog ??= new RotatingFile(`${this.dir.path}/roles.log`, {
      maxBytes,
      segmentBytes: segmentBytesFor(maxBytes),
    });
    return this.#rolesLog;
  }

  /** Closes the run's files (metrics CSV, roles.log), waiting for their older parts' gzip. */
  async closeFiles(): Promise<void> {
    await this.recorder.close();
    if (this.recorder.rotationError) logger.warn("{error}", { error: this.recorder.rotationError });
    try {
      await this.#rolesLog?.close();
    } catch (error) {
      logger.warn("Cannot rotate {path}: {error}", {
        path: `${this.dir.path}/roles.log`,
        error: (error as Error).message,
      });
    }
  }

  #startHost(spec: RoleSpec): RoleHost {
    this.#failed.delete(spec.id);
    this.#idle.delete(spec.id);
    const onReport = (report: Report) => this.#onReport(spec, report);
    const host = this.config.isolation === "process"
      ? startProcessHost(spec, onReport, this.#rolesLogFile())
      : startWorkerHost(spec, onReport);
    // A partition outlives a restart of the role it cut off.
    const until = this.#partitions.get(spec.id) ?? 0;
    if (until > Date.now()) host.send({ type: "partition", untilMs: until });
    for (const phase of this.#arms.get(spec.id) ?? []) host.send({ type: "arm", phase });
    return host;
  }

  #record(at: number, fields: EventFields): void {
    const event = stampEvent(this.runStartMs, at, fields);
    this.recorder.record(event);
    this.options.onEvent?.(event);
  }

  #onReport(spec: RoleSpec, report: Report): void {
    const now = Date.now();
    this.#roleUp(spec.id);
    switch (report.type) {
      case "event": {
        const e = report.event;
        if (e.event === "table_state") this.tableSeen(e.version, e.files_total);
        if (e.event === "batch_committed") this.tableSeen(e.version);
        if (e.event === "batch_failed" && e.batch_seq !== undefined) {
          this.ledger.failed(e.role_id, Number(e.batch_seq));
        }
        this.#record(report.at, e);
        break;
      }
      case "recovered":
        this.firstWriterUpAt ??= new Date(now);
        this.#settle(report.id, report.lastSeq, now);
        break;
      case "committing":
        this.ledger.committing(report.id, report.seq, report.rows);
        break;
      case "announced":
        this.ledger.announced(report.id, report.seq, report.rows);
        break;
      case "acked":
        this.ledger.acked(report.id, report.seq, report.rows);
        break;
      case "dying":
        this.#killing.add(report.id);
        this.#arms.get(report.id)?.delete(report.phase);
        {
          const i = this.#armedKills.findIndex(({ action }) =>
            action.target === report.id && action.method === report.phase
          );
          if (i >= 0) this.#armedKills.splice(i, 1);
        }
        this.#record(now, {
          role: "orchestrator",
          role_id: report.id,
          event: "kill",
          ...(report.seq >= 0 ? { batch_seq: report.seq } : {}),
          detail: phaseDetail(spec.kind, report.phase, report.seq),
        });
        break;
      case "fatal":
        this.#failed.add(report.id);
        this.#record(now, {
          role: spec.kind,
          role_id: report.id,
          event: "role_error",
          detail: report.message.slice(0, 500),
        });
        logger.error("Role {id} failed: {message}", { id: report.id, message: report.message });
        if (report.debug) {
          logger.debug("Role {id} stack: {stack}", { id: report.id, stack: report.debug });
        }
        break;
      case "idle":
        this.#idle.add(report.id);
        if (this.supervisor.ids("ingest").every((id) => this.#idle.has(id))) {
          logger.info("Every ingest role is idle; stopping");
          this.#resolveIdle();
        }
        break;
      case "halt":
        // Counted as a role failure: the run is not clean, and it ends now.
        this.#record(now, {
          role: spec.kind,
          role_id: report.id,
          event: "role_error",
          detail: report.message.slice(0, 500),
        });
        logger.error("Role {id} halted the run: {message}", {
          id: report.id,
          message: report.message,
        });
        this.halted ??= { check: report.check, message: report.message };
        this.#resolveHalted();
        break;
      case "ready":
        if (spec.kind === "ingest") this.firstWriterUpAt ??= new Date(now);
        break;
      case "stopped":
        break;
    }
  }

  /** A role exited while the run goes on: a chaos kill, or a crash. */
  #exited(spec: RoleSpec, exit: HostExit): void {
    const how = exit.signal ?? `code ${exit.code}`;
    if (this.#killing.delete(spec.id)) return;
    logger.warn("Role {id} exited ({how}); restarting", { id: spec.id, how });
    if (this.#failed.has(spec.id)) return; // counted when it reported the failure
    this.#record(Date.now(), {
      role: spec.kind,
      role_id: spec.id,
      event: "role_error",
      detail: `exited unasked (${how})`,
    });
  }

  #settle(writer: string, lastSeq: number, at: number): void {
    for (const s of this.ledger.reconcile(writer, lastSeq)) {
      this.#record(at, {
        role: "writer",
        role_id: writer,
        event: s.outcome === "acknowledged" ? "batch_committed" : "batch_unacknowledged",
        batch_seq: s.seq,
        rows: s.rows,
        detail: s.outcome === "acknowledged"
          ? "acknowledged on recovery: committed just before the writer died"
          : "not committed when the writer stopped; its rows are not in the table",
      });
    }
  }

  #act(action: ChaosAction): void {
    const now = Date.now();
    switch (action.kind) {
      case "kill":
        if (action.method === "random") {
          this.#killing.add(action.target);
          this.#record(now, {
            role: "orchestrator",
            role_id: action.target,
            event: "kill",
            detail: "random moment",
          });
          this.supervisor.kill(action.target);
        } else {
          this.#armedKills.push({ action, atMs: now });
          const arms = this.#arms.get(action.target) ?? new Set<ChaosPhase>();
          arms.add(action.method);
          this.#arms.set(action.target, arms);
          this.supervisor.send(action.target, { type: "arm", phase: action.method });
        }
        break;
      case "partition": {
        const untilMs = now + action.durationMs;
        this.#partitions.set(action.target, untilMs);
        this.supervisor.send(action.target, { type: "partition", untilMs });
        this.#record(now, {
          role: "orchestrator",
          role_id: action.target,
          event: "fault",
          detail: `partition: every storage request fails for ${formatDuration(action.durationMs)}`,
        });
        break;
      }
    }
  }

  #progress(): string {
    const t = this.recorder.tally;
    const rate = t.rowsAcknowledged - this.#lastProgressRows;
    this.#lastProgressRows = t.rowsAcknowledged;
    const commit = this.recorder.latencies.commit;
    const p99 = commit.percentile(99);
    const seconds = ((Date.now() - this.runStartMs) / 1000).toFixed(0).padStart(4);
    return `${seconds} s  ${formatRate(rate)} rows/s  ${
      t.rowsAcknowledged.toLocaleString("en-US")
    } rows  ${t.commits} commits  v${this.#version}  ${this.#files} files  commit p99 ${
      commit.exact ? "" : "≈"
    }${p99.toFixed(1)} ms  ${t.roleErrors + t.batchesFailed} errors`;
  }
}

/** How a kill at an armed phase reads in the report. */
function phaseDetail(kind: RoleKind, phase: string, seq: number): string {
  if (kind === "compactor" && phase === "after-upload") {
    return "mid-rewrite: after-upload of the compacted file, before its commit";
  }
  if (kind === "compactor" && phase === "after-commit") return "after-commit of a compaction";
  if (phase === "mid-delete") return "mid-delete: half of a vacuum pass's deletions done";
  if (kind === "ingest") {
    return `${phase} of a batch${seq >= 0 ? ` (after offset ${seq} was committed)` : ""}`;
  }
  return `${phase} of batch ${seq}`;
}

function formatRate(n: number): string {
  return n >= 1e6 ? `${(n / 1e6).toFixed(2)}M` : n >= 1e3 ? `${(n / 1e3).toFixed(1)}k` : String(n);
}

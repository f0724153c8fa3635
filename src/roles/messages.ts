/**
 * The messages between the orchestrator and its roles, the same whether a
 * role runs as a Deno worker (structured clone) or as a child process (one
 * JSON object per line on stdout and stdin).
 */

import type { MetricsEvent } from "../metrics/events.ts";
import type { SharedFeed } from "../ops/table.ts";
import type { StreamConfig } from "./config_keys.ts";

/** The kinds of role. */
export type RoleKind = "writer" | "compactor" | "vacuum" | "ingest";

/** What a role instance needs to start. */
export interface RoleSpec {
  kind: RoleKind;
  /** The instance id, such as `writer-0`; a writer's id is its `txn` appId. */
  id: string;
  config: StreamConfig;
  /** A session id shared by the run's writers. */
  sessionId: string;
  /** The run's start (epoch ms), so every role stamps events on one clock. */
  runStartMs: number;
  /**
   * The memory of the run's commit feed, for a role in a worker of the
   * orchestrator's process: its `CommitFeed` then joins the other roles'.
   * @default none: the role's feed knows its own commits only
   */
  commitFeed?: SharedFeed;
}

/**
 * Where a role may be told to die, to test crash safety: after a data file
 * (or a compacted file) is uploaded and before its commit, right after a
 * commit is created, or with half of a vacuum pass's deletions done.
 */
export type ChaosPhase = "after-upload" | "after-commit" | "mid-delete";

/** Orchestrator to role. */
export type Command =
  /**
   * `announced`: in a worker, a slot of shared memory where the role writes
   * each batch it is about to commit before it posts `committing`
   * (hosts.ts): a terminated worker's undelivered posts are lost, the slot
   * is not.
   */
  | { type: "start"; spec: RoleSpec; announced?: SharedArrayBuffer }
  /**
   * `writesEnded`: every writer (or ingest role) of the run has stopped, so
   * the compactor leaves the table settled before it stops.
   */
  | { type: "stop"; writesEnded?: boolean }
  | { type: "arm"; phase: ChaosPhase }
  /** Every storage request of the role fails until this epoch time (ms): a network partition. */
  | { type: "partition"; untilMs: number };

/** A metrics event without its time stamps (the orchestrator stamps them). */
export type EventFields = Omit<MetricsEvent, "t_ms" | "time">;

/** Role to orchestrator. */
export type Report =
  | { type: "ready"; id: string }
  /** A writer's last committed batch, read from the table at start. */
  | { type: "recovered"; id: string; lastSeq: number; version: number }
  /** A writer is about to commit a batch (so that a crash can be reconciled). */
  | { type: "committing"; id: string; seq: number; rows: number }
  /**
   * The last batch a killed worker announced it was about to commit, read
   * from the shared slot after the kill: its `committing` post may have
   * been lost with the worker. Counts only if the run had not heard of it.
   */
  | { type: "announced"; id: string; seq: number; rows: number }
  /** A writer's batch is committed: its rows are acknowledged. */
  | { type: "acked"; id: string; seq: number; rows: number; version: number }
  | { type: "event"; at: number; event: EventFields }
  /** A role is dying on purpose at an armed chaos phase (`seq`: the writer's batch, or -1). */
  | { type: "dying"; id: string; phase: ChaosPhase; seq: number }
  | { type: "stopped"; id: string }
  /** An ingest role's partitions were idle for the run's --until-idle: it waits to be stopped. */
  | { type: "idle"; id: string }
  /**
   * An ingest role cannot go on and a restart would only meet the same wall:
   * Kafka unreachable past the run's broker timeout, or a message that does
   * not fit the table with no dead-letter table to take it. It committed
   * what it could and waits to be stopped; the run ends, not clean, and
   * `check` names the verification check that says why.
   */
  | { type: "halt"; id: string; check: HaltCheck; message: string }
  /**
   * The role failed. `message` is for people (no stack trace); `debug` holds
   * the stack, logged only at `--log-level debug`.
   */
  | { type: "fatal"; id: string; message: string; debug?: string };

/** Why an ingest role halted the run, as the verification check that fails. */
export type HaltCheck = "kafka_broker_reachable" | "kafka_messages_fit";

/** How a running role reports and hears commands. */
export interface RoleChannel {
  send(report: Report): void;
  /** Resolves when the orchestrator asks the role to stop. */
  readonly stopRequested: Promise<void>;
  /** True once a stop was requested. */
  readonly stopping: boolean;
  /** True once a stop said that the run's writers have all stopped. */
  readonly writesEnded: boolean;
  /** Chaos phases at which this role should die. */
  readonly armed: Set<ChaosPhase>;
  /** Storage requests fail until this epoch time (ms), or 0: a partition from chaos. */
  readonly partitionedUntil: number;
  /** Dies at once, as a crash would (SIGKILL in a process, a halt in a worker). */
  die(): never;
}

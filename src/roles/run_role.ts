/**
 * Runs one role by kind; the single entry that workers, child processes and
 * the standalone role commands share.
 */

import { formatError } from "../util/errors.ts";
import { heapUsedMb, residentMb } from "../util/native_memory.ts";
import { runCompactor } from "./compactor.ts";
import type { ChaosPhase, Command, Report, RoleChannel, RoleSpec } from "./messages.ts";
import { runVacuumer } from "./vacuumer.ts";
import { runWriter } from "./writer.ts";

/**
 * The report of a role that failed with `error`: the message and its causes
 * for people, the stack trace apart (shown only at `--log-level debug`).
 */
export function fatalReport(id: string, error: unknown): Report {
  const stack = error instanceof Error ? error.stack : undefined;
  return {
    type: "fatal",
    id,
    message: formatError(error).replaceAll("\n  ", "; "),
    ...(stack ? { debug: stack } : {}),
  };
}

/**
 * How often a role reports its resident memory. The events of its work carry
 * it too, but a compactor deep in a pass of large bins, or a vacuum listing
 * a big table, sends none for minutes, and a scrape would see a stale figure.
 */
export const MEMORY_REPORT_MS = 10_000;

/** Runs the role that `spec` names until it stops, reporting its memory as it goes. */
export async function runRole(
  spec: RoleSpec,
  channel: RoleChannel,
  options: { memoryReportMs?: number } = {},
): Promise<void> {
  const report = () =>
    channel.send({
      type: "event",
      at: Date.now(),
      event: {
        role: spec.kind,
        role_id: spec.id,
        event: "memory",
        rss_mb: residentMb(),
        heap_mb: heapUsedMb(),
      },
    });
  const timer = setInterval(report, options.memoryReportMs ?? MEMORY_REPORT_MS);
  try {
    await runRoleKind(spec, channel);
  } finally {
    clearInterval(timer);
  }
}

function runRoleKind(spec: RoleSpec, channel: RoleChannel): Promise<void> {
  switch (spec.kind) {
    case "writer":
      return runWriter(spec, channel);
    case "compactor":
      return runCompactor(spec, channel);
    case "vacuum":
      return runVacuumer(spec, channel);
    case "ingest":
      // Loaded only here: the Kafka client would slow every writer's start.
      return import("./ingest_role.ts").then((m) => m.runIngestRole(spec, channel));
  }
}

/** The parts of a channel that every implementation shares: stop and arm state. */
export class ChannelState {
  /** A channel over this state that reports through `send` and dies through `die`. */
  channel(send: (report: Report) => void, die: () => never): RoleChannel {
    // deno-lint-ignore no-this-alias
    const state = this;
    return {
      send,
      get stopRequested() {
        return state.stopRequested;
      },
      get stopping() {
        return state.stopping;
      },
      get writesEnded() {
        return state.writesEnded;
      },
      armed: state.armed,
      get partitionedUntil() {
        return state.partitionedUntil;
      },
      die,
    };
  }

  stopping = false;
  writesEnded = false;
  readonly armed = new Set<ChaosPhase>();
  partitionedUntil = 0;
  readonly stopRequested: Promise<void>;
  #resolve!: () => void;

  constructor() {
    this.stopRequested = new Promise((resolve) => (this.#resolve = resolve));
  }

  /** Applies a command other than `start`. */
  handle(command: Command): void {
    switch (command.type) {
      case "stop":
        if (command.writesEnded) this.writesEnded = true;
        this.requestStop();
        break;
      case "arm":
        this.armed.add(command.phase);
        break;
      case "partition":
        this.partitionedUntil = command.untilMs;
        break;
      case "start":
        break;
    }
  }

  /** Marks the role as stopping and wakes everything waiting on it. */
  requestStop(): void {
    this.stopping = true;
    this.#resolve();
  }
}

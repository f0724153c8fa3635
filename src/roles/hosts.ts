/**
 * Hosts for roles, as the orchestrator sees them: a Deno worker in this
 * process (the default), or a child process of the same executable (so that
 * chaos can SIGKILL a real process). Both deliver the same reports and take
 * the same commands.
 */

import type { Command, Report, RoleSpec } from "./messages.ts";
import { type ChunkSink, drainToSink } from "../util/drain_to_file.ts";
import { newAnnouncedSlot, recentAnnounced } from "./announced_slot.ts";

/** How a role ended. */
export interface HostExit {
  /** The process exit code, or 0/1 for a worker that stopped or failed. */
  code: number | null;
  signal: string | null;
}

/** A running role. */
export interface RoleHost {
  readonly spec: RoleSpec;
  /** The OS process id, for process hosts. */
  readonly pid: number | undefined;
  readonly exited: Promise<HostExit>;
  send(command: Command): void;
  /** Kills the role at once: SIGKILL for a process, terminate() for a worker. */
  kill(): void;
}

/** Starts a role in a Deno worker. */
export function startWorkerHost(spec: RoleSpec, onReport: (r: Report) => void): RoleHost {
  const worker = new Worker(new URL("./worker_main.ts", import.meta.url).href, { type: "module" });
  let resolveExit!: (exit: HostExit) => void;
  const exited = new Promise<HostExit>((resolve) => (resolveExit = resolve));
  // The batches the role is about to commit, which outlive its posts.
  const announced = newAnnouncedSlot();
  let done = false;
  const finish = (exit: HostExit) => {
    if (done) return;
    done = true;
    worker.terminate();
    // A killed writer's `committing` posts may be lost with it while their
    // commits are in the table: the run hears of the batches from the slot
    // (the ledger takes those after the last it heard of), oldest first.
    if (exit.signal !== null) {
      for (const batch of recentAnnounced(announced)) {
        onReport({ type: "announced", id: spec.id, ...batch });
      }
    }
    resolveExit(exit);
  };
  // A worker posts its reports in batches, in order (roles/report_buffer.ts).
  worker.onmessage = (message: MessageEvent<Report[]>) => {
    for (const report of message.data) {
      if (done) return;
      onReport(report);
      if (report.type === "stopped") finish({ code: 0, signal: null });
      else if (report.type === "fatal") finish({ code: 1, signal: null });
      else if (report.type === "dying") finish({ code: null, signal: "SIGKILL" });
    }
  };
  worker.onerror = (event) => {
    event.preventDefault();
    onReport({ type: "fatal", id: spec.id, message: event.message });
    finish({ code: 1, signal: null });
  };
  worker.postMessage({ type: "start", spec, announced } satisfies Command);
  return {
    spec,
    pid: undefined,
    exited,
    send: (command) => {
      if (!done) worker.postMessage(command);
    },
    kill: () => finish({ code: null, signal: "SIGKILL" }),
  };
}

/** The command that runs this program again: the binary itself, or deno with main.ts. */
export function selfCommand(): { program: string; prefix: string[] } {
  if (Deno.build.standalone) return { program: Deno.execPath(), prefix: [] };
  const main = new URL("../../main.ts", import.meta.url).pathname;
  const config = new URL("../../deno.json", import.meta.url).pathname;
  return { program: Deno.execPath(), prefix: ["run", "-A", "--quiet", "--config", config, main] };
}

/**
 * Starts a role as a child process of this program. Its stderr goes to
 * `log` (the run's roles.log, shared by every role), else to this stderr.
 */
export function startProcessHost(
  spec: RoleSpec,
  onReport: (r: Report) => void,
  log?: ChunkSink,
): RoleHost {
  const { program, prefix } = selfCommand();
  const child = new Deno.Command(program, {
    args: [...prefix, "role"],
    stdin: "piped",
    stdout: "piped",
    stderr: log ? "piped" : "inherit",
  }).spawn();
  const writer = child.stdin.getWriter();
  const encoder = new TextEncoder();
  let closed = false;
  const send = (command: Command) => {
    if (closed) return;
    writer.write(encoder.encode(JSON.stringify(command) + "\n")).catch(() => {
      closed = true;
    });
  };
  const reading = (async () => {
    let buffer = "";
    const decoder = new TextDecoder();
    for await (const chunk of child.stdout) {
      buffer += decoder.decode(chunk, { stream: true });
      let newline: number;
      while ((newline = buffer.indexOf("\n")) >= 0) {
        const line = buffer.slice(0, newline).trim();
        buffer = buffer.slice(newline + 1);
        if (!line.startsWith("{")) continue;
        try {
          onReport(JSON.parse(line) as Report);
        } catch {
          // A torn last line of a killed process: nothing to report.
        }
      }
    }
  })();
  // Written through line by line: a role's warnings must be in the log while
  // it runs, and not lost when the orchestrator exits (see drainToFile).
  if (log) drainToSink(child.stderr, log).catch(() => {});
  // The exit is reported only after every line the child wrote was handled:
  // a role that reports `dying` and then kills itself must be seen dying
  // before it is seen gone, or its chaos kill would count as a crash.
  const exited = Promise.all([child.status, reading.catch(() => {})]).then(([status]) => {
    closed = true;
    writer.close().catch(() => {});
    return { code: status.signal ? null : status.code, signal: status.signal };
  });
  send({ type: "start", spec });
  return {
    spec,
    pid: child.pid,
    exited,
    send,
    kill: () => {
      try {
        child.kill("SIGKILL");
      } catch {
        // Already gone.
      }
    },
  };
}

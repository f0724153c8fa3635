/**
 * The entry point of a role running as a Deno worker. It waits for a
 * `start` command, runs the role, and posts reports back (an array of them
 * per post, `ReportBuffer`). Killing it is the
 * orchestrator's `terminate()`; to die at an armed chaos point the worker
 * announces it and then blocks until it is terminated.
 */

/// <reference lib="deno.worker" />

import type { Command, Report, RoleChannel } from "./messages.ts";

// A command can arrive while the role's modules still load: a module with a
// top-level await lets the event loop run, and a message that finds no
// handler is dropped (the worker then never starts). So the handler is set
// before anything loads, and early commands wait for it.
const early: Command[] = [];
self.onmessage = (message: MessageEvent<Command>) => void early.push(message.data);
const { setupLogging } = await import("../util/log.ts");
const { ChannelState, fatalReport, runRole } = await import("./run_role.ts");
const { ReportBuffer } = await import("./report_buffer.ts");

const state = new ChannelState();
// Reports go in batches (report_buffer.ts): one post per writer batch.
const reports = new ReportBuffer((batch: Report[]) => self.postMessage(batch));

const { announce } = await import("./announced_slot.ts");
// Where a writer announces each commit before posting it (announced_slot.ts).
let announced: SharedArrayBuffer | undefined;

const channel: RoleChannel = state.channel((report) => {
  if (report.type === "committing" && announced) announce(announced, report.seq, report.rows);
  reports.send(report);
}, () => {
  // Block this thread until the orchestrator terminates the worker.
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0);
  throw new Error("unreachable");
});

function handle(command: Command): void {
  if (command.type !== "start") state.handle(command);
  else {
    announced = command.announced;
    setupLogging(Deno.env.get("NEURALAKE_LOG_LEVEL") === "debug" ? "debug" : "warning");
    runRole(command.spec, channel).then(
      () => {
        reports.flush();
        self.close();
      },
      (error) => {
        reports.send(fatalReport(command.spec.id, error));
        self.close();
      },
    );
  }
}

self.onmessage = (message: MessageEvent<Command>) => handle(message.data);
for (const command of early.splice(0)) handle(command);

/**
 * The entry point of a role running as a Deno worker. It waits for a
 * `start` command, runs the role, and posts reports back. Killing it is the
 * orchestrator's `terminate()`; to die at an armed chaos point the worker
 * announces it and then blocks until it is terminated.
 */

/// <reference lib="deno.worker" />

import { setupLogging } from "../util/log.ts";
import type { Command, Report, RoleChannel } from "./messages.ts";
import { ChannelState, fatalReport, runRole } from "./run_role.ts";

const state = new ChannelState();
const post = (report: Report) => self.postMessage(report);

const channel: RoleChannel = state.channel(post, () => {
  // Block this thread until the orchestrator terminates the worker.
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0);
  throw new Error("unreachable");
});

self.onmessage = (message: MessageEvent<Command>) => {
  const command = message.data;
  if (command.type !== "start") state.handle(command);
  else {
    setupLogging(Deno.env.get("NEURALAKE_LOG_LEVEL") === "debug" ? "debug" : "warning");
    runRole(command.spec, channel).then(
      () => self.close(),
      (error) => {
        post(fatalReport(command.spec.id, error));
        self.close();
      },
    );
  }
};

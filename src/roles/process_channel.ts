/**
 * The channel of a role running as a child process: reports are JSON lines
 * on stdout, commands are JSON lines on stdin, and dying is a real SIGKILL of
 * this process. Used by the internal `role` command that the orchestrator
 * spawns with `--isolation process`.
 */

import type { Command, Report, RoleChannel, RoleSpec } from "./messages.ts";
import { ChannelState } from "./run_role.ts";

const encoder = new TextEncoder();

/** Writes one report line to stdout, synchronously, so nothing is lost at a crash. */
function writeLine(report: Report): void {
  const bytes = encoder.encode(JSON.stringify(report) + "\n");
  let written = 0;
  while (written < bytes.length) written += Deno.stdout.writeSync(bytes.subarray(written));
}

/** Reads commands from stdin; resolves with the spec of the first `start`. */
export function processChannel(): { channel: RoleChannel; spec: Promise<RoleSpec> } {
  const state = new ChannelState();
  let gotSpec!: (spec: RoleSpec) => void;
  let noSpec!: (error: Error) => void;
  const spec = new Promise<RoleSpec>((resolve, reject) => {
    gotSpec = resolve;
    noSpec = reject;
  });
  (async () => {
    let buffer = "";
    const decoder = new TextDecoder();
    for await (const chunk of Deno.stdin.readable) {
      buffer += decoder.decode(chunk, { stream: true });
      let newline: number;
      while ((newline = buffer.indexOf("\n")) >= 0) {
        const line = buffer.slice(0, newline).trim();
        buffer = buffer.slice(newline + 1);
        if (!line) continue;
        const command = JSON.parse(line) as Command;
        if (command.type === "start") gotSpec(command.spec);
        else state.handle(command);
      }
    }
    // The orchestrator went away: stop gracefully.
    noSpec(new Error("stdin closed before a start command"));
    state.requestStop();
  })();
  const channel = state.channel(writeLine, () => {
    Deno.kill(Deno.pid, "SIGKILL");
    throw new Error("unreachable");
  });
  return { channel, spec };
}

/**
 * The channel of a role running as a child process: reports are JSON lines
 * on stdout, commands are JSON lines on stdin, and dying is a real SIGKILL of
 * this process. Used by the internal `role` command that the orchestrator
 * spawns with `--isolation process`.
 */

import type { Command, Report, RoleChannel, RoleSpec } from "./messages.ts";
import { ReportBuffer } from "./report_buffer.ts";
import { ChannelState } from "./run_role.ts";

const encoder = new TextEncoder();

/**
 * Writes report lines to stdout, synchronously, so nothing posted is lost at
 * a crash; reports come in batches (report_buffer.ts), one write each.
 */
function writeLines(reports: Report[]): void {
  const bytes = encoder.encode(reports.map((r) => JSON.stringify(r) + "\n").join(""));
  let written = 0;
  while (written < bytes.length) written += Deno.stdout.writeSync(bytes.subarray(written));
}

/**
 * Reads commands from stdin; resolves with the spec of the first `start`.
 * `flush` writes the reports still held, before the process exits.
 */
export function processChannel(): {
  channel: RoleChannel;
  spec: Promise<RoleSpec>;
  flush: () => void;
} {
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
  const reports = new ReportBuffer(writeLines);
  const channel = state.channel((report) => reports.send(report), () => {
    Deno.kill(Deno.pid, "SIGKILL");
    throw new Error("unreachable");
  });
  return { channel, spec, flush: () => reports.flush() };
}

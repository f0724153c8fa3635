/**
 * Writer roles run in this process, as the stream's workers run them, until
 * each has had a number of batches acknowledged.
 */

import type { StreamConfig } from "../../src/roles/config_keys.ts";
import type { RoleSpec } from "../../src/roles/messages.ts";
import { ChannelState } from "../../src/roles/run_role.ts";
import { runWriter } from "../../src/roles/writer.ts";

/** Runs `writers` writer roles on `config` until each has `batches` batches acknowledged. */
export async function runWritersUntilAcked(
  config: StreamConfig,
  writers: number,
  batches: number,
): Promise<void> {
  await Promise.all(Array.from({ length: writers }, (_, w) => {
    const state = new ChannelState();
    let acked = 0;
    const channel = state.channel((report) => {
      if (report.type === "acked" && ++acked >= batches) state.requestStop();
    }, () => {
      throw new Error(`writer ${w} died`);
    });
    const spec: RoleSpec = {
      kind: "writer",
      id: `writer-${w}`,
      config,
      sessionId: "s",
      runStartMs: Date.now(),
    };
    return runWriter(spec, channel);
  }));
}

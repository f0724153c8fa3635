/**
 * One pass of the stream's compactor role on a run's table, for tests of
 * what a pass does (its checkpoint and log cleanup included).
 */

import { ChannelState } from "../../src/roles/run_role.ts";
import type { StreamConfig } from "../../src/roles/config_keys.ts";
import type { Report, RoleSpec } from "../../src/roles/messages.ts";
import { runCompactor } from "../../src/roles/compactor.ts";

/**
 * Runs a compactor on `config`'s table for one pass, then stops it; returns
 * the versions it checkpointed. Each pass reports the table's state twice:
 * the stop is asked at the second, and the pass's checkpoint and log
 * cleanup still run.
 */
export async function compactorPass(config: StreamConfig): Promise<number[]> {
  const spec: RoleSpec = {
    kind: "compactor",
    id: "compactor-0",
    config,
    sessionId: "s",
    runStartMs: Date.now(),
  };
  const state = new ChannelState();
  const checkpoints: number[] = [];
  let passes = 0;
  const channel = state.channel((report: Report) => {
    if (report.type !== "event") return;
    if (report.event.event === "checkpoint") checkpoints.push(Number(report.event.version));
    if (report.event.event === "table_state" && ++passes === 2) state.requestStop();
  }, () => {
    throw new Error("The compactor died");
  });
  await runCompactor(spec, channel);
  return checkpoints;
}

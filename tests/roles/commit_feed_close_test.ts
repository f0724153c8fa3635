/**
 * Every role that shares commits through a `CommitFeed` closes it however
 * the role ends: the feed's shared memory of a table is let go only when the
 * last feed of it in the thread closes (a process that runs role after role,
 * such as the benchmarks, would otherwise keep one per run).
 */

import { assertEquals, assertRejects } from "../_helpers/assert.ts";
import { feedMemoriesHeld } from "../../src/delta/commit_feed.ts";
import { ChannelState } from "../../src/roles/run_role.ts";
import { resolveConfig } from "../../src/roles/config.ts";
import type { Report, RoleKind, RoleSpec } from "../../src/roles/messages.ts";
import { runWriter } from "../../src/roles/writer.ts";
import { runCompactor } from "../../src/roles/compactor.ts";
import { runVacuumer } from "../../src/roles/vacuumer.ts";

async function failingRole(
  kind: RoleKind,
  run: (spec: RoleSpec, channel: ReturnType<ChannelState["channel"]>) => Promise<void>,
  failOn: (report: Report) => boolean,
): Promise<{ whileRunning: number; after: number }> {
  const dir = await Deno.makeTempDir({ prefix: `neuralake-feed-${kind}-` });
  try {
    const config = {
      ...resolveConfig({}),
      table: `${dir}/t`,
      batchRows: 10,
      batchIntervalMs: 0,
      rate: 0,
    };
    config.compaction = { ...config.compaction, intervalMs: 0 };
    config.vacuum = { ...config.vacuum, intervalMs: 0 };
    const spec: RoleSpec = {
      kind,
      id: `${kind}-0`,
      config,
      sessionId: "s",
      runStartMs: Date.now(),
    };
    const state = new ChannelState();
    const before = feedMemoriesHeld();
    let whileRunning = NaN;
    const channel = state.channel((report) => {
      if (failOn(report)) {
        whileRunning = feedMemoriesHeld() - before;
        throw new Error(`the orchestrator is gone (${report.type})`);
      }
    }, () => {
      throw new Error("died");
    });
    await assertRejects(() => run(spec, channel), "the orchestrator is gone");
    return { whileRunning, after: feedMemoriesHeld() - before };
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("a writer that fails after its first commit closes its commit feed", async () => {
  const counts = await failingRole("writer", runWriter, (r) => r.type === "acked");
  assertEquals(counts, { whileRunning: 1, after: 0 });
});

Deno.test("a compactor that fails closes its commit feed", async () => {
  const counts = await failingRole("compactor", runCompactor, (r) => r.type === "event");
  assertEquals(counts, { whileRunning: 1, after: 0 });
});

Deno.test("a vacuum role that fails closes its commit feed", async () => {
  const counts = await failingRole("vacuum", runVacuumer, (r) => r.type === "event");
  assertEquals(counts, { whileRunning: 1, after: 0 });
});

/**
 * Every role that shares commits through a `CommitFeed` closes it however
 * the role ends: an open BroadcastChannel keeps a Deno process (a worker
 * whose role failed, a command that ran one) alive.
 */

import { assertEquals, assertRejects } from "../_helpers/assert.ts";
import { ChannelState } from "../../src/roles/run_role.ts";
import { resolveConfig } from "../../src/roles/config.ts";
import type { Report, RoleKind, RoleSpec } from "../../src/roles/messages.ts";
import { runWriter } from "../../src/roles/writer.ts";
import { runCompactor } from "../../src/roles/compactor.ts";
import { runVacuumer } from "../../src/roles/vacuumer.ts";

/** Runs `body` while counting the BroadcastChannels opened and still open. */
async function countingChannels(
  body: () => Promise<unknown>,
): Promise<{ opened: number; open: number }> {
  const Original = globalThis.BroadcastChannel;
  const counts = { opened: 0, open: 0 };
  class Counted extends Original {
    #closed = false;
    constructor(name: string) {
      super(name);
      counts.opened++;
      counts.open++;
    }
    override close(): void {
      if (!this.#closed) counts.open--;
      this.#closed = true;
      super.close();
    }
  }
  globalThis.BroadcastChannel = Counted;
  try {
    await body();
  } finally {
    globalThis.BroadcastChannel = Original;
  }
  return counts;
}

async function failingRole(
  kind: RoleKind,
  run: (spec: RoleSpec, channel: ReturnType<ChannelState["channel"]>) => Promise<void>,
  failOn: (report: Report) => boolean,
): Promise<{ opened: number; open: number }> {
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
    const channel = state.channel((report) => {
      if (failOn(report)) throw new Error(`the orchestrator is gone (${report.type})`);
    }, () => {
      throw new Error("died");
    });
    return await countingChannels(() =>
      assertRejects(() => run(spec, channel), "the orchestrator is gone")
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("a writer that fails after its first commit closes its commit feed", async () => {
  const counts = await failingRole("writer", runWriter, (r) => r.type === "acked");
  assertEquals(counts, { opened: 1, open: 0 });
});

Deno.test("a compactor that fails closes its commit feed", async () => {
  const counts = await failingRole("compactor", runCompactor, (r) => r.type === "event");
  assertEquals(counts, { opened: 1, open: 0 });
});

Deno.test("a vacuum role that fails closes its commit feed", async () => {
  const counts = await failingRole("vacuum", runVacuumer, (r) => r.type === "event");
  assertEquals(counts, { opened: 1, open: 0 });
});

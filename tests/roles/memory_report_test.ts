/**
 * A role reports its resident memory on a timer, not only with the events of
 * its work: a compactor in a long pass sent none for minutes, and the
 * run's /metrics kept showing the figure from before the pass.
 */

import { assert, assertEquals } from "../_helpers/assert.ts";
import { ChannelState, runRole } from "../../src/roles/run_role.ts";
import { resolveConfig } from "../../src/roles/config.ts";
import type { EventFields, Report, RoleSpec } from "../../src/roles/messages.ts";

Deno.test("an idle role reports its memory every interval, and stops reporting when it stops", async () => {
  const dir = await Deno.makeTempDir({ prefix: "neuralake-memory-report-" });
  try {
    const config = { ...resolveConfig({}), table: `${dir}/t` };
    // A vacuum that would first work in an hour: nothing but the timer reports.
    config.vacuum = { ...config.vacuum, intervalMs: 3_600_000 };
    const spec: RoleSpec = {
      kind: "vacuum",
      id: "vacuum-7",
      config,
      sessionId: "s",
      runStartMs: Date.now(),
    };
    const memory: EventFields[] = [];
    const state = new ChannelState();
    let ready!: () => void;
    const started = new Promise<void>((resolve) => (ready = resolve));
    const channel = state.channel((report: Report) => {
      if (report.type === "ready") ready();
      if (report.type === "event" && report.event.event === "memory") memory.push(report.event);
    }, () => {
      throw new Error("died");
    });
    const running = runRole(spec, channel, { memoryReportMs: 20 });
    await started;
    await new Promise((resolve) => setTimeout(resolve, 250));
    state.handle({ type: "stop" });
    await running;
    const reported = memory.length;
    assert(reported >= 3, `${reported} memory reports in 250 ms at one per 20 ms`);
    for (const event of memory) {
      assertEquals([event.role, event.role_id], ["vacuum", "vacuum-7"]);
      assert(event.rss_mb! > 1, `rss_mb ${event.rss_mb}`);
      assert(event.heap_mb! > 0 && event.heap_mb! < event.rss_mb!, `heap_mb ${event.heap_mb}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
    assertEquals(memory.length, reported, "reports after the role stopped");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

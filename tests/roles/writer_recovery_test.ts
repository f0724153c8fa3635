/**
 * A restarted writer makes the table's log durable before it reports what it
 * recovered: the orchestrator acknowledges the batches in flight up to the
 * recovered sequence when it hears that, and the killed incarnation may have
 * linked the last of them without flushing the log.
 */

import { lastAppVersion, snapshotOf } from "../../src/ops/table.ts";
import type { Report, RoleSpec } from "../../src/roles/messages.ts";
import { ChannelState } from "../../src/roles/run_role.ts";
import { runWriter } from "../../src/roles/writer.ts";
import { assert, assertEquals } from "../_helpers/assert.ts";
import { runWritersUntilAcked, streamWriterTable } from "../_helpers/writer_roles.ts";

/**
 * Records, into `order`, each flush of `dir` (a local store flushes a
 * directory by opening it for reading and syncing it) until the returned
 * function restores `Deno.open`.
 */
function recordFlushesOf(dir: string, order: string[]): () => void {
  const open = Deno.open;
  Deno.open = ((path: string | URL, options?: Deno.OpenOptions) => {
    if (String(path) === dir && options?.read && !options.write) order.push("flush");
    return open(path, options);
  }) as typeof Deno.open;
  return () => {
    Deno.open = open;
  };
}

Deno.test("a restarted writer flushes the log before it reports the sequence it recovered", async () => {
  const dir = await Deno.makeTempDir({ prefix: "neuralake-writer-recovery-" });
  try {
    const { config, table } = await streamWriterTable(dir);
    // The incarnation that will be replaced: its batches are in the table.
    await runWritersUntilAcked(config, 1, 2);
    const committed = lastAppVersion(await snapshotOf(table), "writer-0");
    assert(committed !== undefined && committed >= 1, `committed ${committed}`);

    const order: string[] = [];
    const restore = recordFlushesOf(`${config.table}/_delta_log`, order);
    try {
      const state = new ChannelState();
      const channel = state.channel((report: Report) => {
        if (report.type !== "recovered") return;
        order.push(`recovered ${report.lastSeq}`);
        state.requestStop();
      }, () => {
        throw new Error("the writer died");
      });
      const spec: RoleSpec = {
        kind: "writer",
        id: "writer-0",
        config,
        sessionId: "s",
        runStartMs: Date.now(),
      };
      await runWriter(spec, channel);
    } finally {
      restore();
    }
    const recovered = order.indexOf(`recovered ${committed}`);
    assert(recovered >= 0, `the writer recovered sequence ${committed}: ${order}`);
    assertEquals(
      order.slice(0, recovered),
      ["flush"],
      "the log is flushed, once, before the orchestrator hears what to acknowledge",
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

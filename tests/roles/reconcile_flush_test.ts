/**
 * The end of a run settles the batches still in flight against the table
 * only once the table's log is durable: a writer stopped or killed between
 * its commit's link and the log's flush left a batch that is in the table
 * but not yet on disk, and the run acknowledges it.
 */

import { resolveConfig } from "../../src/roles/config.ts";
import { runStream } from "../../src/roles/orchestrator.ts";
import { assert } from "../_helpers/assert.ts";

Deno.test("a stream run flushes the log after its writers stop and before it settles batches against the table", async () => {
  const dir = await Deno.makeTempDir({ prefix: "neuralake-reconcile-flush-" });
  const base = resolveConfig({});
  const config = {
    ...base,
    table: `${dir}/t`,
    out: `${dir}/out`,
    writers: 1,
    durationMs: 800,
    batchRows: 500,
    batchIntervalMs: 0,
    rate: 0,
    compaction: { ...base.compaction, enabled: false },
    vacuum: { ...base.vacuum, enabled: false },
  };
  const log = `${config.table}/_delta_log`;
  const order: string[] = [];
  const open = Deno.open;
  // A local store flushes a directory by opening it for reading; the roles
  // run in workers, so only the orchestrator's own flushes are seen here.
  Deno.open = ((path: string | URL, options?: Deno.OpenOptions) => {
    if (String(path) === log && options?.read && !options.write) order.push("flush");
    return open(path, options);
  }) as typeof Deno.open;
  try {
    await runStream(config, {
      progress: false,
      onEvent: (e) => {
        const settled = String(e.detail ?? "").includes("writer died") ||
          String(e.detail ?? "").includes("when the writer stopped");
        order.push(
          e.event === "table_state" && e.role === "orchestrator"
            ? "table_state"
            : settled
            ? "settled"
            : `${e.role} ${e.event}`,
        );
      },
    });
  } finally {
    Deno.open = open;
    await Deno.remove(dir, { recursive: true });
  }
  const state = order.indexOf("table_state");
  assert(state > 0, `the run read the final table state: ${order.slice(-8)}`);
  const lastRoleEvent = order.findLastIndex((e, i) =>
    i < state && e !== "flush" && e !== "settled"
  );
  const between = order.slice(lastRoleEvent + 1, state);
  assert(
    between[0] === "flush",
    `after the roles' last event, the log is flushed before any batch is settled: ${between}`,
  );
});

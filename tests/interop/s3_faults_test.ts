/**
 * Appends to an S3 table through a fault-injecting proxy: 503 SlowDown,
 * connection resets, delays, and responses dropped after the server applied
 * a commit (the ambiguous commit). Under each fault every append either
 * finishes or fails with a clear error; retrying a failed append with its
 * txn marker never duplicates it; at the end each append is in the table
 * exactly once and the table verifies.
 */

import type { Field } from "../../src/columnar/batch.ts";
import { openTable } from "../../src/ops/table.ts";
import { writeTable } from "../../src/ops/write.ts";
import { verifyTable } from "../../src/ops/verify.ts";
import { assert, assertEquals } from "../_helpers/assert.ts";
import { batchOf, sourceOf } from "../_helpers/batches.ts";
import { type FaultAction, FaultProxy, type ProxiedRequest } from "../_helpers/fault_proxy.ts";
import { readWithNeuralake } from "../_helpers/delta_rs.ts";
import { s3TestEnv, testS3Options, uniquePrefix } from "../_helpers/s3.ts";

const FIELDS: Field[] = [
  { name: "seq", type: "long", nullable: false },
  { name: "i", type: "integer", nullable: false },
];

const isCommit = (r: ProxiedRequest) =>
  r.method === "PUT" && /\/_delta_log\/\d{20}\.json$/.test(r.path);

const FAULTS: Record<string, () => (r: ProxiedRequest) => FaultAction> = {
  "503 SlowDown on every third request": () => {
    let n = 0;
    return () => (++n % 3 === 0
      ? { kind: "respond", status: 503, code: "SlowDown" }
      : { kind: "forward" });
  },
  "a connection reset on every fourth request": () => {
    let n = 0;
    return () => (++n % 4 === 0 ? { kind: "reset" } : { kind: "forward" });
  },
  "delayed responses": () => {
    let n = 0;
    return () => (++n % 2 === 0 ? { kind: "delay", ms: 150, when: "after" } : { kind: "forward" });
  },
  "the response to every commit dropped after the server applied it": () => (r) =>
    isCommit(r) ? { kind: "drop-after-apply" } : { kind: "forward" },
};

for (const [name, makeRule] of Object.entries(FAULTS)) {
  Deno.test(`s3 appends under ${name} land exactly once`, async () => {
    const env = s3TestEnv();
    const proxy = FaultProxy.start(env.endpoint);
    const uri = `s3://${env.bucket}/${uniquePrefix("faults")}`;
    try {
      const faulty = await openTable(uri, { s3: testS3Options({ maxRetries: 4 }, proxy.endpoint) });
      const direct = await openTable(uri, { s3: testS3Options() });
      // The table exists before the faults start.
      await writeTable(direct, sourceOf(batchOf(FIELDS, [{ seq: -1n, i: 0 }])));
      proxy.rule = makeRule();
      const appends = 8;
      const errors: string[] = [];
      for (let seq = 0; seq < appends; seq++) {
        const batch = batchOf(
          FIELDS,
          Array.from({ length: 5 }, (_, i) => ({ seq: BigInt(seq), i })),
        );
        // Retry a failed append with the same txn marker until it is in.
        for (let attempt = 0;; attempt++) {
          try {
            await writeTable(faulty, sourceOf(batch), {
              appTxn: { appId: "faulty-writer", version: seq },
              autoCheckpoint: false,
            });
            break;
          } catch (error) {
            const message = (error as Error).message;
            assert(
              message.length > 10 && !message.includes("undefined"),
              `unclear error: ${message}`,
            );
            errors.push(message);
            assert(attempt < 20, `append ${seq} never succeeded: ${errors.slice(-3).join(" | ")}`);
          }
        }
      }
      proxy.rule = () => ({ kind: "forward" });
      const rows = (await readWithNeuralake(direct)).rows;
      assertEquals(rows.length, 1 + appends * 5, `rows (after ${errors.length} failed attempts)`);
      const keys = new Set(rows.map((r) => `${r.seq}/${r.i}`));
      assertEquals(keys.size, rows.length, "no duplicated rows");
      const report = await verifyTable(direct);
      assert(report.passed, JSON.stringify(report.checks));
      const faulted = proxy.log.filter((e) => e.action !== "forward").length;
      assert(faulted > 0, "the proxy injected no fault");
    } finally {
      await proxy.close();
    }
  });
}

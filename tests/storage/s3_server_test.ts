/**
 * The test server itself: moto behind a lock that makes conditional writes
 * atomic. Sixteen concurrent conditional PUTs of different bytes to one key
 * must give exactly one 200 and fifteen 412s, and the key must hold the
 * winner's bytes. These are raw signed requests, without the store's own
 * retry and read-back logic.
 */

import { S3Client } from "../../src/storage/s3/client.ts";
import { resolveS3Config } from "../../src/storage/s3/config.ts";
import { assertEquals } from "../_helpers/assert.ts";
import { s3TestEnv, testS3Options, uniquePrefix } from "../_helpers/s3.ts";

/**
 * Larger than moto's in-memory buffer (5 MiB), so that moto spools each body
 * to a file between its If-None-Match check and its write, releasing the GIL.
 * Without the server's lock about half of such rounds have two winners.
 */
const BODY_SIZE = 6 * 1024 * 1024;

Deno.test("the test server lets exactly one of 16 concurrent conditional PUTs win, every time", async () => {
  const env = s3TestEnv();
  const client = new S3Client(resolveS3Config({}, {}, testS3Options()), env.bucket, {
    uri: `s3://${env.bucket}`,
  });
  const prefix = uniquePrefix("atomic");
  const keys: string[] = [];
  try {
    for (let round = 0; round < 6; round++) {
      const objectKey = `${prefix}/_delta_log/${String(round).padStart(20, "0")}.json`;
      keys.push(objectKey);
      const bodies = Array.from(
        { length: 16 },
        (_, i) => new TextEncoder().encode(`{"writer":${i},"round":${round}}`.padEnd(BODY_SIZE)),
      );
      const results = await Promise.all(bodies.map((body) =>
        client.attempt({
          operation: "PutObject",
          method: "PUT",
          objectKey,
          headers: { "if-none-match": "*" },
          body,
        })
      ));
      const statuses = results.map((r) => (r.kind === "response" ? r.response.status : 0));
      const winners = statuses.flatMap((s, i) => (s === 200 ? [i] : []));
      assertEquals(winners.length, 1, `round ${round}: statuses ${statuses.join(",")}`);
      assertEquals(
        statuses.filter((s) => s === 412).length,
        15,
        `round ${round}: statuses ${statuses.join(",")}`,
      );
      const stored = await client.send({ operation: "GetObject", method: "GET", objectKey });
      assertEquals(
        stored.body,
        bodies[winners[0]!],
        `round ${round}: the key holds another writer's bytes`,
      );
    }
  } finally {
    for (const objectKey of keys) {
      await client.send({ operation: "DeleteObject", method: "DELETE", objectKey });
    }
  }
});

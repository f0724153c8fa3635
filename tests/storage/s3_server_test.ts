/**
 * The test server itself (MinIO): conditional writes are atomic. 32
 * concurrent `If-None-Match: *` PUTs of different bytes to one new key must
 * give exactly one 200 and 31 412s, for small bodies and for bodies large
 * enough to be streamed to disk while the others arrive, and the key must
 * hold the winner's bytes. (MinIO answers a loser's 412 before reading
 * its body and then closes the connection, which the client occasionally
 * sees as a reset instead of the 412; rounds with a reset still may have at
 * most one winner, and are repeated.) These are raw signed requests, without the
 * store's own retry and read-back logic, so they test the server, and the
 * commit protocol stands on what they prove.
 */

import { S3Client } from "../../src/storage/s3/client.ts";
import { resolveS3Config } from "../../src/storage/s3/config.ts";
import { assert, assertEquals } from "../_helpers/assert.ts";
import { s3TestEnv, testS3Options, uniquePrefix } from "../_helpers/s3.ts";

const WRITERS = 32;
/** Rounds in which every request got an answer, that must each have one winner. */
const CLEAN_ROUNDS = 3;
const MAX_ROUNDS = 12;

function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

for (const [label, size] of [["16-byte", 16], ["6 MiB", 6 * 1024 * 1024]] as const) {
  Deno.test(`the test server lets exactly one of ${WRITERS} concurrent conditional PUTs of ${label} bodies win, every time`, async () => {
    const env = s3TestEnv();
    const client = new S3Client(resolveS3Config({}, {}, testS3Options()), env.bucket, {
      uri: `s3://${env.bucket}`,
    });
    const prefix = uniquePrefix("atomic");
    const keys: string[] = [];
    let clean = 0;
    try {
      for (let round = 0; clean < CLEAN_ROUNDS; round++) {
        assert(
          round < MAX_ROUNDS,
          `only ${clean} of ${MAX_ROUNDS} rounds had an answer for every request`,
        );
        const objectKey = `${prefix}/_delta_log/${String(round).padStart(20, "0")}.json`;
        keys.push(objectKey);
        const bodies = Array.from(
          { length: WRITERS },
          (_, i) =>
            new TextEncoder().encode(
              `{"writer":${i},"round":${round}}`.padEnd(size).slice(0, size),
            ),
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
        const what = `round ${round}: statuses ${statuses.join(",")}`;
        const winners = statuses.flatMap((s, i) => (s === 200 ? [i] : []));
        assert(winners.length <= 1, what);
        const stored = await client.send({ operation: "GetObject", method: "GET", objectKey });
        const holder = bodies.findIndex((body) => equalBytes(body, stored.body));
        assert(holder >= 0, `${what}: the key holds bytes that no writer sent`);
        if (winners.length === 1) {
          assertEquals(holder, winners[0], `${what}: the key holds another writer's bytes`);
        }
        // A loser that the server answered before reading its body may see
        // the connection reset instead of its 412 (status 0 here); such a
        // round says nothing about the others' answers, so it is repeated.
        if (statuses.includes(0)) continue;
        assertEquals(winners.length, 1, what);
        assertEquals(statuses.filter((s) => s === 412).length, WRITERS - 1, what);
        clean++;
      }
    } finally {
      for (const objectKey of keys) {
        await client.send({ operation: "DeleteObject", method: "DELETE", objectKey });
      }
    }
  });
}

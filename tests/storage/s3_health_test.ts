/**
 * `checkS3Health` against the real test server: a healthy location, wrong
 * credentials, a missing bucket, and a server (simulated by the fault proxy)
 * that ignores If-None-Match.
 */

import { resolveS3Config } from "../../src/storage/s3/config.ts";
import { checkS3Health } from "../../src/storage/health.ts";
import { S3Store } from "../../src/storage/s3/s3_store.ts";
import { assert, assertEquals } from "../_helpers/assert.ts";
import { FaultProxy } from "../_helpers/fault_proxy.ts";
import { makeTestS3Store, s3TestEnv, testS3Options } from "../_helpers/s3.ts";

Deno.test("checkS3Health reports a healthy location with latencies and clock skew", async () => {
  const store = makeTestS3Store("health");
  const report = await checkS3Health(store);
  assertEquals(report.ok, true, JSON.stringify(report));
  assertEquals(report.credentials.ok, true);
  assertEquals(report.bucket.ok, true);
  assertEquals(report.conditionalPut.ok, true);
  assertEquals(report.conditionalPut.enforced, true);
  assert(report.bucket.latencyMs > 0 && report.conditionalPut.latencyMs > 0);
  assert(
    report.clockSkewMs !== null && Math.abs(report.clockSkewMs) < 5000,
    `skew ${report.clockSkewMs}`,
  );
  assertEquals(report.addressing, "path");
  assertEquals(report.accessKeyId, s3TestEnv().accessKeyId);
  // JSON-able, and without the secret.
  const json = JSON.stringify(report);
  assertEquals(JSON.parse(json).uri, store.uri);
  assert(!json.includes(s3TestEnv().secretAccessKey));
});

Deno.test("checkS3Health reports rejected credentials and skips the other checks", async () => {
  const env = s3TestEnv();
  const store = makeTestS3Store("health-creds", {
    credentials: { accessKeyId: env.accessKeyId, secretAccessKey: "not-the-secret" },
  });
  const report = await checkS3Health(store);
  assertEquals(report.ok, false);
  assertEquals(report.credentials.ok, false);
  assertEquals(report.credentials.code, "SignatureDoesNotMatch");
  assertEquals(report.bucket.ok, false);
  assertEquals(report.conditionalPut.enforced, null);
  assert(!JSON.stringify(report).includes("not-the-secret"));
});

Deno.test("checkS3Health reports a missing bucket", async () => {
  const config = resolveS3Config({}, {}, testS3Options());
  const store = new S3Store(`s3://missing-${crypto.randomUUID().slice(0, 8)}/t`, config);
  const report = await checkS3Health(store);
  assertEquals(report.ok, false);
  assertEquals(report.credentials.ok, true);
  assertEquals(report.bucket.ok, false);
  assertEquals(report.bucket.code, "NoSuchBucket");
});

Deno.test("checkS3Health reports a server that does not enforce conditional writes", async () => {
  const proxy = FaultProxy.start(s3TestEnv().endpoint);
  try {
    proxy.rule = (r) =>
      r.method === "PUT" && r.headers.has("if-none-match")
        ? { kind: "precondition-to-ok" }
        : { kind: "forward" };
    const store = makeTestS3Store("health-cas", {}, { endpoint: proxy.endpoint });
    const report = await checkS3Health(store);
    assertEquals(report.ok, false);
    assertEquals(report.bucket.ok, true);
    assertEquals(report.conditionalPut.enforced, false);
    assert(report.conditionalPut.error?.includes("overwrites"), report.conditionalPut.error);
  } finally {
    await proxy.close();
  }
});

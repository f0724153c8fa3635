/**
 * Multipart uploads against the real test server: a `put` above the
 * threshold round-trips through several parts, and a failed upload is
 * aborted so that no upload is left open.
 */

import { S3Error } from "../../src/storage/s3/errors.ts";
import { choosePartSize } from "../../src/storage/s3/multipart.ts";
import { assert, assertEquals, assertRejects } from "../_helpers/assert.ts";
import { FaultProxy } from "../_helpers/fault_proxy.ts";
import { emptyStore, makeTestS3Store, s3TestEnv, uniquePrefix } from "../_helpers/s3.ts";

const MiB = 1024 * 1024;
const SMALL_PARTS = { multipartThreshold: 6 * MiB, multipartPartSize: 5 * MiB };

function pattern(size: number, seed: number): Uint8Array {
  const bytes = new Uint8Array(size);
  let x = seed;
  for (let i = 0; i < size; i++) {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    bytes[i] = x >>> 24;
  }
  return bytes;
}

Deno.test("a put above the multipart threshold uploads in parts and round-trips", async () => {
  const proxy = FaultProxy.start(s3TestEnv().endpoint);
  const store = makeTestS3Store("multipart", SMALL_PARTS, { endpoint: proxy.endpoint });
  try {
    const bytes = pattern(12 * MiB + 123, 7);
    await store.put("data/part-00000.parquet", bytes);
    assertEquals(proxy.requests("POST", "uploads").length, 1, "one upload was created");
    assertEquals(proxy.requests("PUT", "partNumber").length, 3, "5 + 5 + 2 MiB parts");
    assertEquals(proxy.requests("POST", "uploadId").length, 1, "one completion");
    const back = await store.get("data/part-00000.parquet");
    assert(back !== undefined && back.length === bytes.length, "size differs");
    assertEquals(back, bytes);
    assertEquals((await store.head("data/part-00000.parquet"))?.size, bytes.length);
    const range = await store.get("data/part-00000.parquet", { offset: 5 * MiB - 3, length: 6 });
    assertEquals(range, bytes.slice(5 * MiB - 3, 5 * MiB + 3));
    assertEquals(await store.listMultipartUploads(), []);
  } finally {
    await emptyStore(store);
    await proxy.close();
  }
});

Deno.test("a put below the threshold is a single PUT", async () => {
  const proxy = FaultProxy.start(s3TestEnv().endpoint);
  const store = makeTestS3Store("multipart-small", SMALL_PARTS, { endpoint: proxy.endpoint });
  try {
    await store.put("small", pattern(6 * MiB - 1, 3));
    assertEquals(proxy.requests("POST", "uploads").length, 0);
    assertEquals(proxy.requests("PUT").length, 1);
  } finally {
    await emptyStore(store);
    await proxy.close();
  }
});

Deno.test("a failed multipart upload is aborted and leaves no upload behind", async () => {
  const proxy = FaultProxy.start(s3TestEnv().endpoint);
  const prefix = uniquePrefix("multipart-fail");
  const store = makeTestS3Store("multipart-fail", SMALL_PARTS, {
    endpoint: proxy.endpoint,
    prefix,
  });
  const direct = makeTestS3Store("multipart-fail", {}, { prefix });
  try {
    proxy.plan(
      (r) => r.method === "PUT" && r.query.get("partNumber") === "2",
      { kind: "respond", status: 403, code: "AccessDenied", message: "Denied by the test" },
    );
    const error = await assertRejects(
      () => store.put("data/big.bin", pattern(11 * MiB, 9)),
      "grant s3:PutObject",
    );
    assert(error instanceof S3Error && error.code === "AccessDenied", String(error));
    assertEquals(error.operation, "UploadPart");
    const aborts = proxy.requests("DELETE", "uploadId");
    assertEquals(aborts.length, 1, "the upload was aborted");
    assertEquals(aborts[0]?.upstreamStatus, 204);
    assertEquals(await direct.listMultipartUploads(), []);
    assertEquals(await direct.head("data/big.bin"), undefined, "no object appeared");
  } finally {
    await proxy.close();
    await emptyStore(direct);
  }
});

Deno.test("a failed completion is aborted too", async () => {
  const proxy = FaultProxy.start(s3TestEnv().endpoint);
  const prefix = uniquePrefix("multipart-complete");
  const store = makeTestS3Store("multipart-complete", SMALL_PARTS, {
    endpoint: proxy.endpoint,
    prefix,
  });
  const direct = makeTestS3Store("multipart-complete", {}, { prefix });
  try {
    proxy.plan(
      (r) => r.method === "POST" && r.query.has("uploadId"),
      { kind: "respond", status: 400, code: "InvalidPart" },
    );
    await assertRejects(() => store.put("data/big.bin", pattern(7 * MiB, 1)), "InvalidPart");
    assertEquals(proxy.requests("DELETE", "uploadId").length, 1);
    assertEquals(await direct.listMultipartUploads(), []);
  } finally {
    await proxy.close();
    await emptyStore(direct);
  }
});

Deno.test("choosePartSize keeps an object within 10,000 parts", () => {
  assertEquals(choosePartSize(100 * MiB, 16 * MiB), 16 * MiB);
  const huge = 10_000 * 16 * MiB + 1;
  assert(Math.ceil(huge / choosePartSize(huge, 16 * MiB)) <= 10_000);
});

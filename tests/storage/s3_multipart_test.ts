/**
 * Multipart uploads: against the real test server, a `put` above the
 * threshold round-trips through several parts (also when they finish out of
 * order), and a failed upload is aborted so that no upload is left open;
 * against a scripted client, parts run at most `multipartConcurrency` at a
 * time, complete in part order, and a failure stops new parts and aborts
 * once the parts in flight have settled.
 */

import type { S3Client, S3Request, S3Response } from "../../src/storage/s3/client.ts";
import { S3Error } from "../../src/storage/s3/errors.ts";
import { choosePartSize, putMultipart } from "../../src/storage/s3/multipart.ts";
import { assert, assertEquals, assertRejects } from "../_helpers/assert.ts";
import { FaultProxy } from "../_helpers/fault_proxy.ts";
import { emptyStore, makeTestS3Store, pattern, s3TestEnv, uniquePrefix } from "../_helpers/s3.ts";

const MiB = 1024 * 1024;
const SMALL_PARTS = { multipartThreshold: 6 * MiB, multipartPartSize: 5 * MiB };

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

Deno.test("parts that finish out of order still assemble in part order", async () => {
  const proxy = FaultProxy.start(s3TestEnv().endpoint);
  const store = makeTestS3Store("multipart-order", SMALL_PARTS, { endpoint: proxy.endpoint });
  try {
    // Part 1 is held back until the later parts have landed.
    proxy.plan(
      (r) => r.method === "PUT" && r.query.get("partNumber") === "1",
      { kind: "delay", ms: 400, when: "before" },
    );
    const bytes = pattern(16 * MiB + 5, 21);
    await store.put("data/ordered.bin", bytes);
    const parts = proxy.requests("PUT", "partNumber");
    assertEquals(parts.length, 4);
    assertEquals(parts.map((e) => e.upstreamStatus), [200, 200, 200, 200]);
    assertEquals(await store.get("data/ordered.bin"), bytes);
  } finally {
    await emptyStore(store);
    await proxy.close();
  }
});

/** A scripted stand-in for `S3Client`: it answers multipart requests and records them. */
function scriptedClient(options: {
  partSize: number;
  concurrency: number;
  /** How long part `n` (1-based) takes, in ms. */
  partDelay: (part: number) => number;
  /** A part that fails, with the error it fails with. */
  failPart?: { part: number; error: Error };
  /** How long CreateMultipartUpload takes, in ms. @default 0 */
  createDelay?: number;
}) {
  const events: string[] = [];
  let inFlight = 0;
  let maxInFlight = 0;
  let completion = "";
  const ok = (headers: Record<string, string> = {}, body = ""): S3Response => ({
    status: 200,
    headers: new Headers(headers),
    body: new TextEncoder().encode(body),
    outcome: { kind: "ok" },
    code: undefined,
    serverMessage: undefined,
    requestId: undefined,
    serverDate: undefined,
    localDate: new Date(),
    latencyMs: 0,
  });
  const client = {
    config: { multipartPartSize: options.partSize, multipartConcurrency: options.concurrency },
    payloadHash(body: Uint8Array): string {
      events.push(`hash ${body.length} bytes`);
      return `hash-of-${body.length}`;
    },
    async send(request: S3Request): Promise<S3Response> {
      switch (request.operation) {
        case "CreateMultipartUpload":
          await new Promise((r) => setTimeout(r, options.createDelay ?? 0));
          events.push("created");
          return ok(
            {},
            "<InitiateMultipartUploadResult><UploadId>U1</UploadId>" +
              "</InitiateMultipartUploadResult>",
          );
        case "UploadPart": {
          const part = Number(request.query?.["partNumber"]);
          events.push(`start ${part}${request.payloadHash ? " (hashed ahead)" : ""}`);
          maxInFlight = Math.max(maxInFlight, ++inFlight);
          await new Promise((r) => setTimeout(r, options.partDelay(part)));
          inFlight--;
          events.push(`end ${part}`);
          if (options.failPart?.part === part) throw options.failPart.error;
          return ok({ etag: `"etag-${part}-${request.body?.length}"` });
        }
        case "CompleteMultipartUpload":
          events.push("complete");
          completion = new TextDecoder().decode(request.body);
          return ok({}, "<CompleteMultipartUploadResult/>");
        case "AbortMultipartUpload":
          events.push(`abort with ${inFlight} in flight`);
          return ok();
      }
      throw new Error(`unexpected ${request.operation}`);
    },
  };
  return {
    client: client as unknown as S3Client,
    events,
    maxInFlight: () => maxInFlight,
    completion: () => completion,
  };
}

Deno.test("putMultipart keeps multipartConcurrency parts in flight and completes them in part order", async () => {
  // Seven parts of 10 bytes and one of 3; later parts finish first.
  const script = scriptedClient({ partSize: 10, concurrency: 3, partDelay: (n) => 40 - 4 * n });
  await putMultipart(script.client, "t/k", "k", new Uint8Array(73));
  assertEquals(script.maxInFlight(), 3, "the bound was reached and never passed");
  const ends = script.events.filter((e) => e.startsWith("end")).map((e) => Number(e.slice(4)));
  assertEquals(ends.length, 8);
  assert(ends.join() !== "1,2,3,4,5,6,7,8", `parts finished in order: ${ends}`);
  assertEquals(script.events.at(-1), "complete");
  const listed = [
    ...script.completion().matchAll(
      /<Part><PartNumber>(\d+)<\/PartNumber><ETag>([^<]*)<\/ETag><\/Part>/g,
    ),
  ].map((m) => [Number(m[1]), m[2]]);
  assertEquals(listed, [
    [1, "&quot;etag-1-10&quot;"],
    [2, "&quot;etag-2-10&quot;"],
    [3, "&quot;etag-3-10&quot;"],
    [4, "&quot;etag-4-10&quot;"],
    [5, "&quot;etag-5-10&quot;"],
    [6, "&quot;etag-6-10&quot;"],
    [7, "&quot;etag-7-10&quot;"],
    [8, "&quot;etag-8-3&quot;"],
  ]);
});

Deno.test("a failed part stops new parts, lets those in flight settle, then aborts once", async () => {
  const denied = new S3Error("UploadPart denied", {
    status: 403,
    code: "AccessDenied",
    operation: "UploadPart",
  });
  // Part 2 fails at once while part 1 is still uploading.
  const script = scriptedClient({
    partSize: 10,
    concurrency: 2,
    partDelay: (n) => (n === 1 ? 60 : 0),
    failPart: { part: 2, error: denied },
  });
  const error = await assertRejects(
    () => putMultipart(script.client, "t/k", "k", new Uint8Array(60)),
    "UploadPart denied",
  );
  assertEquals(error, denied, "the part's own error propagates");
  assertEquals(script.events.filter((e) => !e.startsWith("hash")), [
    "created",
    "start 1 (hashed ahead)",
    "start 2",
    "end 2",
    "end 1",
    "abort with 0 in flight",
  ]);
});

Deno.test("putMultipart hashes the first part while CreateMultipartUpload is on its way", async () => {
  const script = scriptedClient({
    partSize: 10,
    concurrency: 2,
    partDelay: () => 0,
    createDelay: 100,
  });
  await putMultipart(script.client, "t/k", "k", new Uint8Array(35));
  assertEquals(script.events.filter((e) => !e.startsWith("end")), [
    "hash 10 bytes",
    "created",
    "start 1 (hashed ahead)",
    "start 2",
    "start 3",
    "start 4",
    "complete",
  ]);
});

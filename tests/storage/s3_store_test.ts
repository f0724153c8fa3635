/**
 * The S3 store against the real test server (MinIO, which checks signatures):
 * the shared conformance suite, errors that say what to do, and secrets that
 * never leak into errors or serialised objects.
 */

import { resolveS3Config } from "../../src/storage/s3/config.ts";
import { S3Error } from "../../src/storage/s3/errors.ts";
import { S3Store } from "../../src/storage/s3/s3_store.ts";
import { assert, assertEquals, assertRejects } from "../_helpers/assert.ts";
import { emptyStore, makeTestS3Store, s3TestEnv, testS3Options } from "../_helpers/s3.ts";
import { runStoreConformance } from "./conformance.ts";

runStoreConformance("S3Store", () => {
  const store = makeTestS3Store("conformance");
  return { store, cleanup: () => emptyStore(store) };
});

runStoreConformance("S3Store with UNSIGNED-PAYLOAD", () => {
  const store = makeTestS3Store("unsigned", { payloadSigning: "unsigned" });
  return { store, cleanup: () => emptyStore(store) };
}, { manyKeys: 1001 });

/** Asserts that no output of `value` contains `secret`. */
function assertNoSecret(value: unknown, secret: string, what: string): void {
  const views = [
    String(value),
    Deno.inspect(value, { depth: 20, showHidden: true, getters: true }),
    JSON.stringify(value) ?? "",
  ];
  if (value instanceof Error) {
    views.push(value.message, value.stack ?? "");
    let cause: unknown = value.cause;
    while (cause) {
      views.push(Deno.inspect(cause, { depth: 20 }));
      cause = cause instanceof Error ? cause.cause : undefined;
    }
  }
  for (const view of views) {
    assert(!view.includes(secret), `${what} shows the secret: ${view}`);
  }
}

Deno.test("S3Store with a wrong secret fails with 403 SignatureDoesNotMatch and never shows the secret", async () => {
  const wrongSecret = `wrong-${crypto.randomUUID()}`;
  const env = s3TestEnv();
  const store = makeTestS3Store("wrong-secret", {
    credentials: { accessKeyId: env.accessKeyId, secretAccessKey: wrongSecret },
  });
  const error = await assertRejects(() => store.get("any"), "secret access key");
  assert(error instanceof S3Error, `expected an S3Error, got ${error.name}`);
  assertEquals(error.status, 403);
  assertEquals(error.code, "SignatureDoesNotMatch");
  assertEquals(error.operation, "GetObject");
  assertEquals(error.key, "any");
  assert(error.message.includes("AWS_SECRET_ACCESS_KEY"), error.message);
  assertEquals(error.attempts, 1, "a 403 is not retried");
  assertNoSecret(error, wrongSecret, "the error");
  assertNoSecret(store, wrongSecret, "the store");
  assertNoSecret(store.config, wrongSecret, "the config");
  assertNoSecret(store.client, wrongSecret, "the client");
  assertNoSecret(store.config.credentials, wrongSecret, "the credentials");
});

Deno.test("S3Store with an unknown access key says which key the server does not know", async () => {
  const store = makeTestS3Store("unknown-key", {
    credentials: { accessKeyId: "AKIAUNKNOWNKEY000000", secretAccessKey: "whatever-secret-value" },
  });
  const error = await assertRejects(
    () => store.put("k", new Uint8Array([1])),
    "AKIAUNKNOWNKEY000000",
  );
  assert(error instanceof S3Error);
  assertEquals(error.status, 403);
  assertEquals(error.code, "InvalidAccessKeyId");
  assertNoSecret(error, "whatever-secret-value", "the error");
});

Deno.test("S3Store on a missing bucket fails with NoSuchBucket instead of looking empty", async () => {
  const config = resolveS3Config({}, {}, testS3Options());
  const store = new S3Store(`s3://no-such-bucket-${crypto.randomUUID().slice(0, 8)}/t`, config);
  const error = await assertRejects(
    () => store.get("_delta_log/_last_checkpoint"),
    "does not exist",
  );
  assert(error instanceof S3Error);
  assertEquals(error.code, "NoSuchBucket");
  assertEquals(error.status, 404);
  const listError = await assertRejects(async () => {
    for await (const _ of store.list("")) break;
  }, "create it");
  assert(listError instanceof S3Error && listError.code === "NoSuchBucket");
});

Deno.test("S3Store serialises to JSON and inspects without its secret", () => {
  const env = s3TestEnv();
  const store = makeTestS3Store("serialise");
  const json = JSON.parse(JSON.stringify(store));
  assertEquals(json.config.credentials.secretAccessKey, "<redacted>");
  assertEquals(json.config.credentials.accessKeyId, env.accessKeyId);
  assertEquals(json.uri, store.uri);
  assertNoSecret(store, env.secretAccessKey, "the store");
  assertNoSecret({ nested: { store } }, env.secretAccessKey, "an object holding the store");
});

Deno.test("S3Store signs keys and listing queries that need encoding, as the server checks", async () => {
  // The server recomputes every signature; a wrong canonical form is a 403.
  const store = makeTestS3Store("signing");
  try {
    const keys = ["a b/c=d/e%20f/g+h/ሴ/😀 ü", "x/y?z=1&w=2#frag", "sp ace/ + = %2B"];
    for (const key of keys) {
      await store.put(key, new TextEncoder().encode(key));
      assertEquals(new TextDecoder().decode(await store.get(key)), key);
    }
    for (const prefix of ["a b/c=d/", "x/y?z=1&", "sp ace/ + "]) {
      const listed = [];
      for await (const meta of store.list(prefix, `${prefix} `)) listed.push(meta.key);
      assertEquals(listed.length, 1, `listing ${JSON.stringify(prefix)}`);
    }
  } finally {
    await emptyStore(store);
  }
});

Deno.test("S3Store reports its bucket, prefix and path-style address for a custom endpoint", () => {
  const store = makeTestS3Store("address", {}, { prefix: "some/prefix" });
  assertEquals(store.prefix, "some/prefix");
  assertEquals(store.objectKey("_delta_log/0.json"), "some/prefix/_delta_log/0.json");
  assert(store.client.address.pathStyle);
  assertEquals(store.client.address.basePath, `/${s3TestEnv().bucket}`);
});

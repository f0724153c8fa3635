/**
 * `openStore` and `describeStoreUri`: local paths and file:// URIs, s3:// and
 * s3a:// URIs with configuration from an explicit environment, and refusal of
 * other schemes.
 */

import { LocalStore } from "../../src/storage/local.ts";
import { describeStoreUri, openStore } from "../../src/storage/open.ts";
import { S3Store } from "../../src/storage/s3/s3_store.ts";
import { assert, assertEquals, assertRejects, assertThrows } from "../_helpers/assert.ts";

const ENV = {
  AWS_ACCESS_KEY_ID: "AKIAOPEN",
  AWS_SECRET_ACCESS_KEY: "open-secret",
  AWS_REGION: "eu-west-1",
  HOME: "/nonexistent-home-for-test",
};

Deno.test("describeStoreUri tells local paths from S3 locations", () => {
  assertEquals(describeStoreUri("/data/t1"), {
    kind: "local",
    path: "/data/t1",
    uri: "file:///data/t1",
  });
  assertEquals(describeStoreUri("file:///data/my%20table"), {
    kind: "local",
    path: "/data/my table",
    uri: "file:///data/my%20table",
  });
  assertEquals(describeStoreUri("s3://lab/rec/t1/"), {
    kind: "s3",
    bucket: "lab",
    prefix: "rec/t1",
    uri: "s3://lab/rec/t1",
  });
  assertEquals(describeStoreUri("s3a://lab/t").kind, "s3");
  const relative = describeStoreUri("neuralake-data/t1");
  assert(relative.kind === "local" && relative.path === `${Deno.cwd()}/neuralake-data/t1`);
});

Deno.test("describeStoreUri refuses other schemes and names the supported ones", () => {
  assertThrows(() => describeStoreUri("gs://bucket/t"), "Unsupported table URI scheme gs");
  assertThrows(() => describeStoreUri("https://example.com/t"), "s3://bucket/prefix");
  assertThrows(() => describeStoreUri(""), "Missing table URI");
  assertThrows(() => describeStoreUri("s3://bucket/../t"), "not a plain prefix");
});

Deno.test("openStore opens a LocalStore for paths and file:// URIs", async () => {
  const store = await openStore("/tmp/neuralake-open-test");
  assert(store instanceof LocalStore);
  assertEquals(store.uri, "file:///tmp/neuralake-open-test");
  assert((await openStore("file:///tmp/x")) instanceof LocalStore);
});

Deno.test("openStore opens an S3Store configured from the given environment", async () => {
  const store = await openStore("s3a://lab/rec/t1", { env: ENV, awsFiles: {} });
  assert(store instanceof S3Store);
  assertEquals(store.uri, "s3://lab/rec/t1");
  assertEquals(store.config.region, "eu-west-1");
  assertEquals(store.client.address.host, "lab.s3.eu-west-1.amazonaws.com");
  const overridden = await openStore("s3://lab/t", {
    env: ENV,
    awsFiles: {},
    s3: { endpoint: "https://minio.local", region: "us-west-2" },
  });
  assert(overridden instanceof S3Store);
  assertEquals(overridden.client.address.host, "minio.local");
  assertEquals(overridden.config.region, "us-west-2");
  assert(!JSON.stringify(overridden).includes("open-secret"));
});

Deno.test("openStore refuses an S3 location without credentials or over plain HTTP", async () => {
  await assertRejects(
    () => openStore("s3://lab/t", { env: { HOME: "/nonexistent-home-for-test" }, awsFiles: {} }),
    "No S3 credentials for s3://lab/t",
  );
  await assertRejects(
    () =>
      openStore("s3://lab/t", {
        env: { ...ENV, AWS_ENDPOINT_URL: "http://10.0.0.1:9000" },
        awsFiles: {},
      }),
    "AWS_ALLOW_HTTP",
  );
});

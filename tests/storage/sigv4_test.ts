/**
 * SigV4 signing: AWS's published test suite through our signer, the URI
 * encoding that S3 requests use, and S3 signatures for awkward keys and
 * query strings checked by the real test server.
 */

import { S3Client } from "../../src/storage/s3/client.ts";
import { resolveS3Config } from "../../src/storage/s3/config.ts";
import { S3Credentials } from "../../src/storage/s3/credentials.ts";
import {
  canonicalQuery,
  encodePath,
  escapeUri,
  RequestSigner,
} from "../../src/storage/s3/signer.ts";
import { assertEquals } from "../_helpers/assert.ts";
import { s3TestEnv, testS3Options, uniquePrefix } from "../_helpers/s3.ts";
import {
  SIGV4_VECTORS,
  SUITE_CREDENTIALS,
  SUITE_DATE,
  SUITE_REGION,
  SUITE_SERVICE,
} from "./sigv4_vectors.ts";

for (const vector of SIGV4_VECTORS) {
  Deno.test(`RequestSigner reproduces the AWS SigV4 suite case ${vector.name}`, async () => {
    const { "x-amz-security-token": token, ...headers } = vector.headers;
    const signer = new RequestSigner({
      service: SUITE_SERVICE,
      region: SUITE_REGION,
      credentials: new S3Credentials({ ...SUITE_CREDENTIALS, sessionToken: token }),
    });
    const signed = await signer.sign({
      method: vector.method,
      protocol: "https:",
      host: vector.host,
      path: vector.path,
      query: vector.query,
      headers,
      body: vector.body,
    }, SUITE_DATE);
    assertEquals(signed["authorization"], vector.authorization);
    assertEquals(signed["x-amz-date"], "20150830T123600Z");
    assertEquals(signed["x-amz-security-token"], token);
  });
}

Deno.test("escapeUri encodes everything but unreserved characters, as UTF-8 with upper-case hex", () => {
  assertEquals(escapeUri("-._~AZaz09"), "-._~AZaz09");
  assertEquals(escapeUri("a b=c+d%e"), "a%20b%3Dc%2Bd%25e");
  assertEquals(escapeUri("!'()*"), "%21%27%28%29%2A");
  assertEquals(escapeUri("/?#&"), "%2F%3F%23%26");
  assertEquals(escapeUri("ሴ😀"), "%E1%88%B4%F0%9F%98%80");
});

Deno.test("encodePath keeps slashes and encodes each segment once", () => {
  assertEquals(encodePath("p/a b/100%/x+y"), "p/a%20b/100%25/x%2By");
  assertEquals(encodePath("already%20encoded"), "already%2520encoded");
});

Deno.test("canonicalQuery sorts by encoded name and gives empty values an equals sign", () => {
  assertEquals(
    canonicalQuery({ "start-after": "a b", prefix: "x=y&z", "list-type": "2", uploads: "" }),
    "list-type=2&prefix=x%3Dy%26z&start-after=a%20b&uploads=",
  );
  // Upper-case sorts before lower-case, by byte.
  assertEquals(canonicalQuery({ b: "1", B: "2", a: "3" }), "B=2&a=3&b=1");
});

Deno.test("S3 signatures for keys with spaces, =, %, + and unicode are accepted by the server", async () => {
  const env = s3TestEnv();
  const client = new S3Client(resolveS3Config({}, {}, testS3Options()), env.bucket, {
    uri: `s3://${env.bucket}`,
  });
  const prefix = uniquePrefix("sigv4");
  const keys = [" lead", "a b", "a=b", "100%", "%2F", "a+b", "ሴ/ü/😀", "q?x=1&y=2", "semi;colon"];
  try {
    for (const key of keys) {
      const objectKey = `${prefix}/${key}`;
      const put = await client.send({
        operation: "PutObject",
        method: "PUT",
        objectKey,
        body: new TextEncoder().encode(key),
      });
      assertEquals(put.status, 200, `PUT ${key}`);
      const get = await client.send({ operation: "GetObject", method: "GET", objectKey });
      assertEquals(new TextDecoder().decode(get.body), key, `GET ${key}`);
    }
    // Query values with the same characters (prefix, start-after) are signed too.
    const list = await client.send({
      operation: "ListObjectsV2",
      method: "GET",
      query: {
        "list-type": "2",
        prefix: `${prefix}/`,
        "start-after": `${prefix}/ + = % ሴ`,
        "max-keys": "1000",
      },
    });
    assertEquals(list.status, 200);
  } finally {
    for (const key of keys) {
      await client.send({
        operation: "DeleteObject",
        method: "DELETE",
        objectKey: `${prefix}/${key}`,
      });
    }
  }
});

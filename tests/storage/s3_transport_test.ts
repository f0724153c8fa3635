/**
 * How S3 requests travel: bodies through `node:http` (no copies) unless the
 * configuration says `fetch`, everything else through `fetch`; failures on
 * the `node:http` path classified like those of `fetch`; and listings that
 * ask for full pages.
 */

import { resolveS3Config } from "../../src/storage/s3/config.ts";
import { S3Error } from "../../src/storage/s3/errors.ts";
import { classifyFailure } from "../../src/storage/s3/outcome.ts";
import {
  HttpConnectionError,
  HttpTransport,
  NODE_HTTP_MIN_BODY,
} from "../../src/storage/s3/transport.ts";
import { assert, assertEquals, assertRejects, assertThrows } from "../_helpers/assert.ts";
import { FaultProxy } from "../_helpers/fault_proxy.ts";
import { emptyStore, makeTestS3Store, pattern, s3TestEnv } from "../_helpers/s3.ts";

const MiB = 1024 * 1024;
const BASE_ENV = { AWS_ACCESS_KEY_ID: "AKIAENV", AWS_SECRET_ACCESS_KEY: "secret" };

/** Runs `fn` with `globalThis.fetch` counting its calls by method. */
async function countingFetch(fn: (calls: string[]) => Promise<void>): Promise<void> {
  const original = globalThis.fetch;
  const calls: string[] = [];
  globalThis.fetch = (input, init) => {
    calls.push(init?.method ?? "GET");
    return original(input, init);
  };
  try {
    await fn(calls);
  } finally {
    globalThis.fetch = original;
  }
}

Deno.test("bodyTransport is fetch where only fetch would honour the proxy or certificate settings", () => {
  assertEquals(resolveS3Config(BASE_ENV).bodyTransport, "node-http");
  for (const name of ["HTTPS_PROXY", "http_proxy", "ALL_PROXY"]) {
    const config = resolveS3Config({ ...BASE_ENV, [name]: "http://proxy.lab:3128" });
    assertEquals(config.bodyTransport, "fetch", name);
  }
  assertEquals(
    resolveS3Config({ ...BASE_ENV, HTTPS_PROXY: "http://p:1" }, {}, { bodyTransport: "node-http" })
      .bodyTransport,
    "node-http",
    "an explicit option wins",
  );
  const https = { ...BASE_ENV, AWS_ENDPOINT_URL: "https://minio.lab:9000" };
  assertEquals(resolveS3Config(https).bodyTransport, "node-http");
  for (const name of ["DENO_CERT", "DENO_TLS_CA_STORE"]) {
    assertEquals(resolveS3Config({ ...https, [name]: "x" }).bodyTransport, "fetch", name);
    const http = { ...BASE_ENV, AWS_ENDPOINT_URL: "http://127.0.0.1:9000", AWS_ALLOW_HTTP: "1" };
    assertEquals(resolveS3Config({ ...http, [name]: "x" }).bodyTransport, "node-http", name);
  }
  assertEquals(
    resolveS3Config({ ...https, DENO_CERT: "x", NEURALAKE_S3_BODY_TRANSPORT: "node-http" })
      .bodyTransport,
    "node-http",
    "the variable wins over the automatic choice",
  );
  assertEquals(
    resolveS3Config({ ...BASE_ENV, NEURALAKE_S3_BODY_TRANSPORT: "fetch" }).bodyTransport,
    "fetch",
  );
  assertThrows(
    () => resolveS3Config({ ...BASE_ENV, NEURALAKE_S3_BODY_TRANSPORT: "curl" }),
    'Invalid NEURALAKE_S3_BODY_TRANSPORT: expected "node-http" or "fetch", got "curl"',
  );
  assertEquals(resolveS3Config(BASE_ENV).toJSON().bodyTransport, "node-http");
  assertThrows(
    () => resolveS3Config(BASE_ENV, {}, { bodyTransport: "curl" as "fetch" }),
    'expected "node-http" or "fetch"',
  );
});

Deno.test("bodies of 1 MiB or more bypass fetch by default, and use it when configured", async () => {
  const viaNode = makeTestS3Store("transport-node");
  const viaFetch = makeTestS3Store("transport-fetch", { bodyTransport: "fetch" });
  try {
    const bytes = pattern(3 * MiB + 17, 5);
    await countingFetch(async (calls) => {
      await viaNode.put("data/a.bin", bytes);
      assertEquals(calls, [], "the PUT did not go through fetch");
      assertEquals(await viaNode.get("data/a.bin"), bytes);
      assertEquals(calls, ["GET"]);
      await viaNode.put("data/small.bin", bytes.subarray(0, NODE_HTTP_MIN_BODY - 1));
      assertEquals(calls, ["GET", "PUT"], "a small body goes through fetch");
    });
    await countingFetch(async (calls) => {
      await viaFetch.put("data/a.bin", bytes);
      assertEquals(calls, ["PUT"]);
      assertEquals(await viaFetch.get("data/a.bin"), bytes);
    });
  } finally {
    await emptyStore(viaNode);
    await emptyStore(viaFetch);
    viaNode.client.close();
  }
});

Deno.test("an upload through node:http carries a Content-Length and a subarray sends only its bytes", async () => {
  const proxy = FaultProxy.start(s3TestEnv().endpoint);
  const store = makeTestS3Store("transport-length", {}, { endpoint: proxy.endpoint });
  try {
    const whole = pattern(2 * MiB, 11);
    const view = whole.subarray(1000, 1000 + MiB + 3);
    await store.put("view.bin", view);
    const put = proxy.requests("PUT")[0];
    assertEquals(put?.headers.get("content-length"), String(view.length));
    assertEquals(put?.headers.has("transfer-encoding"), false);
    assertEquals(put?.upstreamStatus, 200);
    assertEquals(await store.get("view.bin"), view.slice());
  } finally {
    await emptyStore(store);
    await proxy.close();
    store.client.close();
  }
});

Deno.test("an upload through node:http is retried after a reset connection", async () => {
  const proxy = FaultProxy.start(s3TestEnv().endpoint);
  const store = makeTestS3Store("transport-reset", {}, { endpoint: proxy.endpoint });
  try {
    proxy.plan((r) => r.method === "PUT", { kind: "reset" }, { kind: "reset" });
    const bytes = pattern(NODE_HTTP_MIN_BODY + 1, 3);
    await store.put("reset.bin", bytes);
    assertEquals(proxy.requests("PUT").map((e) => e.action), ["reset", "reset", "forward"]);
    assertEquals(await store.get("reset.bin"), bytes);
  } finally {
    await emptyStore(store);
    await proxy.close();
    store.client.close();
  }
});

Deno.test("an upload through node:http times out after requestTimeoutMs", async () => {
  const proxy = FaultProxy.start(s3TestEnv().endpoint);
  const store = makeTestS3Store("transport-timeout", { requestTimeoutMs: 300, maxRetries: 0 }, {
    endpoint: proxy.endpoint,
  });
  try {
    proxy.plan((r) => r.method === "PUT", { kind: "delay", ms: 2000, when: "before" });
    const started = performance.now();
    const error = await assertRejects(
      () => store.put("slow.bin", pattern(MiB, 2)),
      "no complete response within 300 ms",
    );
    assert(error instanceof S3Error && error.code === "RequestTimeoutClient", String(error));
    assert(performance.now() - started < 1500, "the timeout took too long");
  } finally {
    await emptyStore(store);
    await proxy.close();
    store.client.close();
  }
});

Deno.test("HttpTransport rejects with the abort reason, before or during a request", async () => {
  const transport = new HttpTransport("node-http");
  const reason = new DOMException("No response within 1 ms", "TimeoutError");
  const exchange = {
    method: "PUT",
    url: "http://127.0.0.1:9/never",
    headers: {},
    body: new Uint8Array(NODE_HTTP_MIN_BODY),
    signal: AbortSignal.abort(reason),
  };
  assertEquals(await transport.send(exchange).catch((e) => e), reason);
  // A listener that accepts and never answers: the abort must end the wait.
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const accepted: Deno.Conn[] = [];
  const accepting = (async () => {
    for await (const conn of listener) accepted.push(conn);
  })();
  try {
    const controller = new AbortController();
    const pending = transport.send({
      ...exchange,
      url: `http://127.0.0.1:${listener.addr.port}/slow`,
      signal: controller.signal,
    });
    setTimeout(() => controller.abort(reason), 50);
    assertEquals(await pending.catch((e) => e), reason);
  } finally {
    listener.close();
    await accepting;
    for (const conn of accepted) conn.close();
    transport.close();
  }
});

Deno.test("HttpTransport rejects a response cut short instead of returning part of it", async () => {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const serving = (async () => {
    for await (const conn of listener) {
      // Take the whole request, then answer with half the promised body.
      const buffer = new Uint8Array(64 * 1024);
      let received = 0;
      while (received < NODE_HTTP_MIN_BODY) {
        const n = await conn.read(buffer);
        if (n === null) break;
        received += n;
      }
      await conn.write(
        new TextEncoder().encode(`HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\n${"x".repeat(50)}`),
      );
      conn.close();
    }
  })();
  const transport = new HttpTransport("node-http");
  try {
    const error = await transport.send({
      method: "PUT",
      url: `http://127.0.0.1:${listener.addr.port}/cut`,
      headers: {},
      body: new Uint8Array(NODE_HTTP_MIN_BODY),
      signal: new AbortController().signal,
    }).then(() => undefined, (e) => e);
    assert(error !== undefined, "a truncated response resolved");
    assertEquals(classifyFailure(error), {
      kind: "retryable",
      throttled: false,
      mayHaveApplied: true,
    });
  } finally {
    listener.close();
    await serving;
    transport.close();
  }
});

Deno.test("classifyFailure treats node:http failures like fetch failures", () => {
  const reset = Object.assign(new Error("socket hang up"), { code: "ECONNRESET" });
  assertEquals(classifyFailure(reset), {
    kind: "retryable",
    throttled: false,
    mayHaveApplied: true,
  });
  assertEquals(
    classifyFailure(new HttpConnectionError("closed mid-response", "ECONNRESET")).kind,
    "retryable",
  );
  const refused = Object.assign(new Error("connect ECONNREFUSED"), { code: "ECONNREFUSED" });
  assertEquals(classifyFailure(refused), {
    kind: "retryable",
    throttled: false,
    mayHaveApplied: false,
  });
  const tls = Object.assign(new Error("bad certificate"), { code: "CERT_HAS_EXPIRED" });
  assertEquals(classifyFailure(tls), { kind: "fatal" });
  assertEquals(classifyFailure({ code: "ECONNRESET" }), { kind: "fatal" }, "not an Error");
});

Deno.test("a listing asks for pages of 1000 keys", async () => {
  const proxy = FaultProxy.start(s3TestEnv().endpoint);
  const store = makeTestS3Store("transport-list", {}, { endpoint: proxy.endpoint });
  try {
    await store.put("k/a+b c", new Uint8Array(1));
    const keys: string[] = [];
    for await (const meta of store.list("k/")) keys.push(meta.key);
    assertEquals(keys, ["k/a+b c"]);
    const list = proxy.requests("GET", "list-type")[0];
    assertEquals(new URLSearchParams(list?.query).get("max-keys"), "1000");
  } finally {
    await emptyStore(store);
    await proxy.close();
    store.client.close();
  }
});

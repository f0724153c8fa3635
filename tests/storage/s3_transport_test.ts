/**
 * How S3 requests travel (one stack: `fetch`): uploads carry a length and
 * only their own bytes, resets and timeouts are retried or reported, aborts
 * end an exchange at any point, a response cut short is never returned in
 * part, failures are classified alike whatever raised them, and listings ask
 * for full pages.
 */

import { S3Error } from "../../src/storage/s3/errors.ts";
import { classifyFailure } from "../../src/storage/s3/outcome.ts";
import { sendHttp } from "../../src/storage/s3/transport.ts";
import { assert, assertEquals, assertRejects } from "../_helpers/assert.ts";
import { FaultProxy } from "../_helpers/fault_proxy.ts";
import { emptyStore, makeTestS3Store, pattern, s3TestEnv } from "../_helpers/s3.ts";

const MiB = 1024 * 1024;
Deno.test("an upload carries a Content-Length and a subarray sends only its bytes", async () => {
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
  }
});

Deno.test("an upload is retried after a reset connection", async () => {
  const proxy = FaultProxy.start(s3TestEnv().endpoint);
  const store = makeTestS3Store("transport-reset", {}, { endpoint: proxy.endpoint });
  try {
    proxy.plan((r) => r.method === "PUT", { kind: "reset" }, { kind: "reset" });
    const bytes = pattern(MiB + 1, 3);
    await store.put("reset.bin", bytes);
    assertEquals(proxy.requests("PUT").map((e) => e.action), ["reset", "reset", "forward"]);
    assertEquals(await store.get("reset.bin"), bytes);
  } finally {
    await emptyStore(store);
    await proxy.close();
  }
});

Deno.test("an upload times out after requestTimeoutMs", async () => {
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
  }
});

Deno.test("sendHttp rejects with the abort reason, before or during a request", async () => {
  const reason = new DOMException("No response within 1 ms", "TimeoutError");
  const exchange = {
    method: "PUT",
    url: "http://127.0.0.1:9/never",
    headers: {},
    body: new Uint8Array(MiB),
    signal: AbortSignal.abort(reason),
  };
  assertEquals(await sendHttp(exchange).catch((e) => e), reason);
  // A listener that accepts and never answers: the abort must end the wait.
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const accepted: Deno.Conn[] = [];
  const accepting = (async () => {
    for await (const conn of listener) accepted.push(conn);
  })();
  try {
    const controller = new AbortController();
    const pending = sendHttp({
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
  }
});

Deno.test("sendHttp rejects a response cut short instead of returning part of it", async () => {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const serving = (async () => {
    for await (const conn of listener) {
      // Take the whole request, then answer with half the promised body.
      const buffer = new Uint8Array(64 * 1024);
      let received = 0;
      while (received < MiB) {
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
  try {
    const error = await sendHttp({
      method: "PUT",
      url: `http://127.0.0.1:${listener.addr.port}/cut`,
      headers: {},
      body: new Uint8Array(MiB),
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
  }
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
  }
});

Deno.test({
  name: "sendHttp keeps no copy of a large upload alive on a pooled connection",
  // mallinfo2 is glibc's.
  ignore: Deno.build.os !== "linux" || Deno.build.env !== "gnu",
  fn: async () => {
    // A server that takes PUTs and answers GETs with 256 KiB, on this process.
    const answer = new Uint8Array(256 * 1024).fill(7);
    const server = Deno.serve(
      { hostname: "127.0.0.1", port: 0, onListen: () => {} },
      async (req) => {
        if (req.method === "PUT") {
          await req.arrayBuffer();
          return new Response(null, { status: 200 });
        }
        return new Response(answer);
      },
    );
    const url = `http://127.0.0.1:${server.addr.port}`;
    // The client in a process of its own: 12 uploads of 16 MiB, each followed by
    // 6 concurrent downloads (so the pool holds several connections), then the
    // bytes malloc still has in large (mmapped) blocks once garbage is collected.
    const transport = new URL("../../src/storage/s3/transport.ts", import.meta.url).href;
    const dir = await Deno.makeTempDir();
    const script = `${dir}/client.ts`;
    await Deno.writeTextFile(
      script,
      `import { sendHttp } from ${JSON.stringify(transport)};
      const libc = Deno.dlopen("libc.so.6", {
        mallinfo2: { parameters: [], result: { struct: Array(10).fill("usize") } },
      });
      const mmapped = () => {
        const info = libc.symbols.mallinfo2();
        return Number(new BigUint64Array(info.buffer, info.byteOffset, 10)[4]);
      };
      const exchange = (method, body) => sendHttp({
        method, url: ${JSON.stringify(url)} + "/k", headers: {}, body,
        signal: AbortSignal.timeout(60_000),
      });
      const upload = new Uint8Array(16 * 1024 * 1024).fill(1);
      for (let i = 0; i < 12; i++) {
        await exchange("PUT", upload);
        await Promise.all(Array.from({ length: 6 }, () => exchange("GET", undefined)));
      }
      for (let i = 0; i < 3; i++) globalThis.gc();
      await new Promise((resolve) => setTimeout(resolve, 200));
      console.log(JSON.stringify({ mmapped: mmapped(), upload: upload.length }));`,
    );
    try {
      const output = await new Deno.Command(Deno.execPath(), {
        args: ["run", "-A", "--quiet", "--v8-flags=--expose-gc", script],
        stdout: "piped",
        stderr: "piped",
      }).output();
      assert(output.success, new TextDecoder().decode(output.stderr));
      const { mmapped, upload } = JSON.parse(new TextDecoder().decode(output.stdout));
      // The caller's own buffer, and not one more upload's worth besides.
      assert(
        mmapped < 1.5 * upload,
        `${(mmapped / MiB).toFixed(0)} MiB in large blocks stayed alive after 12 uploads of ${
          upload / MiB
        } MiB`,
      );
    } finally {
      await server.shutdown();
      await Deno.remove(dir, { recursive: true });
    }
  },
});

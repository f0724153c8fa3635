/**
 * The S3 store under injected faults, through a proxy in front of the real
 * test server: retries of 503 and resets, no retries of other 4xx, request
 * timeouts, the ambiguous conditional write (a response lost after the
 * server applied the PUT), clock-skew advice, and the refusal to commit to a
 * server that ignores If-None-Match.
 */

import { listAll } from "../../src/storage/object_store.ts";
import type { S3Options } from "../../src/storage/s3/config.ts";
import { ConditionalWriteNotEnforcedError, S3Error } from "../../src/storage/s3/errors.ts";
import { PROBE_KEY_PREFIX, type S3Store } from "../../src/storage/s3/s3_store.ts";
import { assert, assertEquals, assertRejects } from "../_helpers/assert.ts";
import { FaultProxy, type ProxiedRequest } from "../_helpers/fault_proxy.ts";
import { emptyStore, makeTestS3Store, s3TestEnv, uniquePrefix } from "../_helpers/s3.ts";

const enc = new TextEncoder();
const dec = new TextDecoder();
const COMMIT = "_delta_log/00000000000000000001.json";

/** A store through a fresh proxy, a direct store on the same prefix, and clean-up. */
async function withProxy(
  overrides: S3Options,
  fn: (proxied: S3Store, proxy: FaultProxy, direct: S3Store) => Promise<void>,
): Promise<void> {
  const env = s3TestEnv();
  const proxy = FaultProxy.start(env.endpoint);
  const prefix = uniquePrefix("faults");
  const proxied = makeTestS3Store("faults", overrides, { endpoint: proxy.endpoint, prefix });
  const direct = makeTestS3Store("faults", {}, { prefix });
  try {
    await fn(proxied, proxy, direct);
  } finally {
    await proxy.close();
    await emptyStore(direct);
  }
}

/** Matches requests for one store key (a key that needs no encoding). */
const forKey = (store: S3Store, key: string, method?: string) => (r: ProxiedRequest) =>
  r.path.endsWith(`/${store.objectKey(key)}`) && (method === undefined || r.method === method);

const countFor = (proxy: FaultProxy, store: S3Store, key: string, method: string) =>
  proxy.log.filter((e) => e.method === method && e.path.endsWith(`/${store.objectKey(key)}`))
    .length;

Deno.test("S3Store retries 503 SlowDown and then succeeds", async () => {
  await withProxy({}, async (store, proxy, direct) => {
    await direct.put("data/a.bin", enc.encode("payload"));
    proxy.plan(
      forKey(store, "data/a.bin", "GET"),
      { kind: "respond", status: 503, code: "SlowDown" },
      { kind: "respond", status: 503, code: "SlowDown" },
    );
    assertEquals(dec.decode(await store.get("data/a.bin")), "payload");
    assertEquals(countFor(proxy, store, "data/a.bin", "GET"), 3);
  });
});

Deno.test("S3Store retries 500, 502, 504 and 429 but gives up after maxRetries", async () => {
  await withProxy({ maxRetries: 3 }, async (store, proxy, direct) => {
    await direct.put("k", enc.encode("v"));
    proxy.plan(
      forKey(store, "k", "GET"),
      { kind: "respond", status: 500, code: "InternalError" },
      { kind: "respond", status: 502 },
      { kind: "respond", status: 504 },
    );
    assertEquals(dec.decode(await store.get("k")), "v");
    proxy.rule = (r) =>
      forKey(store, "k", "GET")(r) ? { kind: "respond", status: 429, code: "TooManyRequests" } : {
        kind: "forward",
      };
    const error = await assertRejects(() => store.get("k"), "after 4 attempts");
    assert(error instanceof S3Error);
    assertEquals(error.status, 429);
    assertEquals(error.attempts, 4);
  });
});

Deno.test("S3Store retries a reset connection", async () => {
  await withProxy({}, async (store, proxy) => {
    proxy.plan(forKey(store, "data/b.bin", "PUT"), { kind: "reset" }, { kind: "reset" });
    await store.put("data/b.bin", enc.encode("after resets"));
    assertEquals(dec.decode(await store.get("data/b.bin")), "after resets");
    assertEquals(countFor(proxy, store, "data/b.bin", "PUT"), 3);
  });
});

Deno.test("S3Store does not retry a 4xx other than 429", async () => {
  await withProxy({}, async (store, proxy) => {
    for (
      const [status, code] of [[403, "AccessDenied"], [400, "InvalidArgument"], [
        405,
        undefined,
      ]] as const
    ) {
      const key = `no-retry-${status}`;
      proxy.plan(forKey(store, key, "GET"), { kind: "respond", status, ...(code ? { code } : {}) });
      const error = await assertRejects(() => store.get(key));
      assert(error instanceof S3Error, `expected an S3Error, got ${error}`);
      assertEquals(error.status, status);
      assertEquals(error.attempts, 1);
      assertEquals(countFor(proxy, store, key, "GET"), 1, `${status} was retried`);
    }
    const denied = proxy.log.length;
    proxy.plan(forKey(store, "denied", "PUT"), {
      kind: "respond",
      status: 403,
      code: "AccessDenied",
    });
    await assertRejects(() => store.put("denied", enc.encode("x")), "grant s3:PutObject");
    assertEquals(proxy.log.length, denied + 1);
  });
});

Deno.test("S3Store gives up on a request after requestTimeoutMs", async () => {
  await withProxy({ requestTimeoutMs: 300, maxRetries: 0 }, async (store, proxy) => {
    proxy.plan(forKey(store, "slow", "GET"), { kind: "delay", ms: 2000, when: "before" });
    const started = performance.now();
    const error = await assertRejects(
      () => store.get("slow"),
      "no complete response within 300 ms",
    );
    const elapsed = performance.now() - started;
    assert(error instanceof S3Error);
    assertEquals(error.code, "RequestTimeoutClient");
    assertEquals(error.status, 0);
    assert(elapsed < 1500, `the timeout took ${elapsed} ms`);
  });
});

Deno.test("S3Store retries a request that timed out", async () => {
  await withProxy({ requestTimeoutMs: 300 }, async (store, proxy, direct) => {
    await direct.put("slow-once", enc.encode("eventually"));
    proxy.plan(forKey(store, "slow-once", "GET"), { kind: "delay", ms: 1000, when: "after" });
    assertEquals(dec.decode(await store.get("slow-once")), "eventually");
    assertEquals(countFor(proxy, store, "slow-once", "GET"), 2);
  });
});

Deno.test("putIfAbsent whose response is dropped after the server applied it returns created", async () => {
  await withProxy({}, async (store, proxy) => {
    const ours = enc.encode(`{"commitInfo":{"txnId":"${crypto.randomUUID()}"}}`);
    proxy.plan(forKey(store, COMMIT, "PUT"), { kind: "drop-after-apply" });
    assertEquals(await store.putIfAbsent(COMMIT, ours), "created");
    const put = proxy.log.find((e) => e.method === "PUT" && e.path.endsWith(COMMIT));
    assertEquals(put?.upstreamStatus, 200, "the server applied the dropped PUT");
    assertEquals(countFor(proxy, store, COMMIT, "PUT"), 1, "no second PUT was needed");
    assertEquals(countFor(proxy, store, COMMIT, "GET"), 1, "the key was read back");
    assertEquals(await store.get(COMMIT), ours);
  });
});

Deno.test("putIfAbsent whose response is dropped while another writer's object is there returns exists", async () => {
  await withProxy({}, async (store, proxy, direct) => {
    const theirs = enc.encode(`{"commitInfo":{"txnId":"${crypto.randomUUID()}"}}`);
    const ours = enc.encode(`{"commitInfo":{"txnId":"${crypto.randomUUID()}"}}`);
    assertEquals(await direct.putIfAbsent(COMMIT, theirs), "created");
    proxy.plan(forKey(store, COMMIT, "PUT"), { kind: "drop-after-apply" });
    assertEquals(await store.putIfAbsent(COMMIT, ours), "exists");
    assertEquals(await store.get(COMMIT), theirs, "the other writer's commit is untouched");
    const put = proxy.log.find((e) => e.method === "PUT" && e.path.endsWith(COMMIT));
    assertEquals(put?.upstreamStatus, 412);
  });
});

Deno.test("putIfAbsent settles a 412 that follows an ambiguous attempt by reading back", async () => {
  await withProxy({}, async (store, proxy) => {
    const ours = enc.encode(`{"commitInfo":{"txnId":"${crypto.randomUUID()}"}}`);
    // Attempt 1 is cut off at once but reaches the server 300 ms later; the
    // read-back in between finds nothing; attempt 2 arrives after attempt 1
    // landed and gets 412, which is our own write.
    proxy.plan(
      forKey(store, COMMIT, "PUT"),
      { kind: "apply-later", ms: 300 },
      { kind: "delay", ms: 700, when: "before" },
    );
    assertEquals(await store.putIfAbsent(COMMIT, ours), "created");
    const puts = proxy.log.filter((e) => e.method === "PUT" && e.path.endsWith(COMMIT));
    assertEquals(puts.map((e) => e.upstreamStatus), [200, 412]);
    assertEquals(countFor(proxy, store, COMMIT, "GET"), 2, "read back after each ambiguity");
    assertEquals(await store.get(COMMIT), ours);
  });
});

Deno.test("putIfAbsent reads back after a 503, then retries the PUT when the key is absent", async () => {
  await withProxy({}, async (store, proxy) => {
    proxy.plan(forKey(store, COMMIT, "PUT"), { kind: "respond", status: 503, code: "SlowDown" });
    assertEquals(await store.putIfAbsent(COMMIT, enc.encode("ours")), "created");
    assertEquals(countFor(proxy, store, COMMIT, "PUT"), 2);
    assertEquals(countFor(proxy, store, COMMIT, "GET"), 1);
  });
});

Deno.test("putIfAbsent that stays ambiguous until the retries run out says the outcome is unknown", async () => {
  await withProxy({ maxRetries: 2 }, async (store, proxy) => {
    proxy.rule = (r) => forKey(store, COMMIT, "PUT")(r) ? { kind: "reset" } : { kind: "forward" };
    const error = await assertRejects(
      () => store.putIfAbsent(COMMIT, enc.encode("ours")),
      "Cannot tell whether the conditional write",
    );
    assert(error instanceof S3Error && error.code === "AmbiguousConditionalWrite", String(error));
    assertEquals(countFor(proxy, store, COMMIT, "PUT"), 3);
    assertEquals(countFor(proxy, store, COMMIT, "GET"), 3, "each ambiguity was read back");
    proxy.rule = (r) =>
      forKey(store, COMMIT)(r)
        ? (r.method === "PUT"
          ? { kind: "reset" }
          : { kind: "respond", status: 403, code: "AccessDenied" })
        : { kind: "forward" };
    await assertRejects(
      () => store.putIfAbsent(COMMIT, enc.encode("ours")),
      "reading the key back failed",
    );
  });
});

Deno.test("putIfAbsent retries 409 ConditionalRequestConflict without reading back", async () => {
  await withProxy({}, async (store, proxy) => {
    proxy.plan(forKey(store, COMMIT, "PUT"), {
      kind: "respond",
      status: 409,
      code: "ConditionalRequestConflict",
    });
    assertEquals(await store.putIfAbsent(COMMIT, enc.encode("ours")), "created");
    assertEquals(countFor(proxy, store, COMMIT, "PUT"), 2);
    assertEquals(countFor(proxy, store, COMMIT, "GET"), 0);
  });
});

Deno.test("putIfAbsent does not retry a 403", async () => {
  await withProxy({}, async (store, proxy) => {
    proxy.plan(forKey(store, COMMIT, "PUT"), {
      kind: "respond",
      status: 403,
      code: "AccessDenied",
    });
    const error = await assertRejects(() => store.putIfAbsent(COMMIT, enc.encode("x")));
    assert(error instanceof S3Error && error.code === "AccessDenied", String(error));
    assertEquals(countFor(proxy, store, COMMIT, "PUT"), 1);
  });
});

Deno.test("a RequestTimeTooSkewed error says how far off the clock is", async () => {
  await withProxy({}, async (store, proxy) => {
    const serverDate = new Date(Date.now() - 20 * 60_000);
    proxy.plan(forKey(store, "k", "GET"), {
      kind: "respond",
      status: 403,
      code: "RequestTimeTooSkewed",
      headers: { date: serverDate.toUTCString() },
    });
    const error = await assertRejects(() => store.get("k"), "20 min ahead of the server's");
    assert(error.message.includes("NTP"), error.message);
    assert(error instanceof S3Error && error.code === "RequestTimeTooSkewed");
    const skew = store.client.clockSkewMs ?? 0;
    assert(Math.abs(skew - 20 * 60_000) < 5000, `clockSkewMs ${skew}`);
  });
});

Deno.test("putIfAbsent refuses a server that ignores If-None-Match, once per store", async () => {
  await withProxy({}, async (store, proxy, direct) => {
    proxy.rule = (r) =>
      r.method === "PUT" && r.headers.has("if-none-match")
        ? { kind: "precondition-to-ok" }
        : { kind: "forward" };
    const error = await assertRejects(
      () => store.putIfAbsent(COMMIT, enc.encode("x")),
      "silently overwrote",
    );
    assert(error instanceof ConditionalWriteNotEnforcedError, String(error));
    assert(error.message.includes("would lose data"), error.message);
    const requests = proxy.log.length;
    await assertRejects(() => store.putIfAbsent(COMMIT, enc.encode("y")), "silently overwrote");
    assertEquals(proxy.log.length, requests, "the verdict is cached");
    assertEquals(await direct.get(COMMIT), undefined, "nothing was committed");
    assertEquals(await listAll(direct, PROBE_KEY_PREFIX), [], "the probe key was deleted");
    const probes = proxy.log.filter((e) => e.method === "PUT" && e.path.includes(PROBE_KEY_PREFIX));
    assertEquals(probes.map((e) => e.upstreamStatus), [200, 412]);
  });
});

Deno.test("putIfAbsent probes an enforcing server once and then commits", async () => {
  await withProxy({}, async (store, proxy, direct) => {
    assertEquals(await store.putIfAbsent(COMMIT, enc.encode("one")), "created");
    assertEquals(
      await store.putIfAbsent("_delta_log/00000000000000000002.json", enc.encode("two")),
      "created",
    );
    const probePuts = proxy.log.filter((e) =>
      e.method === "PUT" && e.path.includes(PROBE_KEY_PREFIX)
    );
    assertEquals(probePuts.map((e) => e.upstreamStatus), [200, 412]);
    assertEquals(proxy.log.filter((e) => e.method === "DELETE").length, 1);
    assertEquals(await listAll(direct, PROBE_KEY_PREFIX), []);
    const verdict = await store.verifyConditionalWrites();
    assertEquals(verdict.enforced, true);
    assertEquals(verdict.secondStatus, 412);
  });
});

Deno.test("delete sends at most 1000 keys per DeleteObjects, with Content-MD5, and deletes keys XML cannot carry one by one", async () => {
  await withProxy({}, async (store, proxy, direct) => {
    const control = "ctl/bell\u0007key";
    await direct.put(control, enc.encode("x"));
    await direct.put("keep/0", enc.encode("y"));
    const absent = Array.from({ length: 1001 }, (_, i) => `absent/${i}`);
    const outcome = await store.delete([...absent, control, "keep/0"]);
    assertEquals(outcome.failed, []);
    assertEquals(outcome.deleted.length, 1003);
    const batches = proxy.requests("POST", "delete");
    assertEquals(batches.length, 2);
    for (const batch of batches) {
      assert(/^[A-Za-z0-9+/]{22}==$/.test(batch.headers.get("content-md5") ?? ""), "Content-MD5");
    }
    assertEquals(proxy.requests("DELETE").length, 1, "the control-character key alone");
    assertEquals(await listAll(direct, ""), []);
  });
});

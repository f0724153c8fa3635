/**
 * The behaviour every `ObjectStore` must share, as one suite that each
 * backend's test file runs against its own store: reads and ranges, puts,
 * put-if-absent (also under concurrency), listings (order, prefix,
 * start-after, more than 1,000 keys), deletes, unsafe keys, and key
 * characters that need encoding.
 */

import { compareKeys } from "../../src/storage/keys.ts";
import { listAll, type ObjectStore } from "../../src/storage/object_store.ts";
import { assert, assertEquals, assertRejects } from "../_helpers/assert.ts";

/** A store for one test, and how to clean up after it. */
export interface StoreFixture {
  store: ObjectStore;
  cleanup?: () => Promise<void>;
}

/** Options for the suite. */
export interface ConformanceOptions {
  /** How many keys the paging test writes. @default 1100 */
  manyKeys?: number;
}

const enc = new TextEncoder();
const dec = new TextDecoder();

/** Keys whose characters need care in URLs, signatures, XML and file names. */
export const ODD_KEYS = [
  "odd/with space.txt",
  "odd/a=b",
  "odd/100%",
  "odd/%41 not an A",
  "odd/a+b",
  "odd/plus+and space",
  "odd/ünïcødé-ሴ-😀",
  "odd/q?x#y&z",
  "odd/~!*'()$,;@[]",
  "odd/amp&lt;not-an-entity",
  'odd/<tag>"quoted"',
];

/** Keys that every store must refuse. */
export const UNSAFE_KEYS = ["../escape", "a/../../b", "/absolute", "a//b", "a/./b", "a\\b", ""];

/**
 * Registers the conformance tests for a store. `makeStore` is called once per
 * test and must return an empty store.
 */
export function runStoreConformance(
  name: string,
  makeStore: () => StoreFixture | Promise<StoreFixture>,
  options: ConformanceOptions = {},
): void {
  const test = (title: string, fn: (store: ObjectStore) => Promise<void>) => {
    Deno.test(`${name}: ${title}`, async () => {
      const fixture = await makeStore();
      try {
        await fn(fixture.store);
      } finally {
        await fixture.cleanup?.();
      }
    });
  };

  test("get and head resolve undefined for an absent key", async (store) => {
    assertEquals(await store.get("missing/key.bin"), undefined);
    assertEquals(await store.get("missing/key.bin", { offset: 1, length: 2 }), undefined);
    assertEquals(await store.head("missing/key.bin"), undefined);
  });

  test("put then get returns the same bytes, and head their size", async (store) => {
    const bytes = new Uint8Array(70_000).map((_, i) => (i * 31) & 0xff);
    const before = Date.now();
    await store.put("data/part-0.bin", bytes);
    assertEquals(await store.get("data/part-0.bin"), bytes);
    const meta = await store.head("data/part-0.bin");
    assert(meta !== undefined, "head found nothing");
    assertEquals(meta.key, "data/part-0.bin");
    assertEquals(meta.size, bytes.length);
    // Second-resolution clocks (HTTP dates) may round down.
    assert(Math.abs(meta.lastModified - before) < 10 * 60_000, `lastModified ${meta.lastModified}`);
  });

  test("put of an empty object round-trips", async (store) => {
    await store.put("empty", new Uint8Array(0));
    assertEquals(await store.get("empty"), new Uint8Array(0));
    assertEquals((await store.head("empty"))?.size, 0);
  });

  test("put replaces an existing object", async (store) => {
    await store.put("k", enc.encode("first"));
    await store.put("k", enc.encode("second, longer"));
    assertEquals(dec.decode(await store.get("k")), "second, longer");
  });

  test("get with a range returns exactly those bytes", async (store) => {
    await store.put("r", enc.encode("0123456789"));
    assertEquals(dec.decode(await store.get("r", { offset: 2, length: 3 })), "234");
    assertEquals(dec.decode(await store.get("r", { offset: 7 })), "789");
    assertEquals(dec.decode(await store.get("r", { offset: 0, length: 1 })), "0");
    assertEquals(dec.decode(await store.get("r", { offset: 8, length: 100 })), "89");
    assertEquals(dec.decode(await store.get("r", { offset: 4, length: 0 })), "");
    assertEquals(dec.decode(await store.get("r", { offset: 10 })), "");
    assertEquals(dec.decode(await store.get("r", { offset: 25, length: 5 })), "");
  });

  test("putIfAbsent creates once and then reports exists without writing", async (store) => {
    assertEquals(
      await store.putIfAbsent("_delta_log/00000000000000000000.json", enc.encode("a")),
      "created",
    );
    assertEquals(
      await store.putIfAbsent("_delta_log/00000000000000000000.json", enc.encode("b")),
      "exists",
    );
    assertEquals(dec.decode(await store.get("_delta_log/00000000000000000000.json")), "a");
  });

  test("concurrent putIfAbsent calls have exactly one winner", async (store) => {
    for (let round = 0; round < 3; round++) {
      const key = `_delta_log/${String(round).padStart(20, "0")}.json`;
      const writers = Array.from(
        { length: 16 },
        (_, i) => enc.encode(`writer ${i} round ${round}`),
      );
      const outcomes = await Promise.all(writers.map((bytes) => store.putIfAbsent(key, bytes)));
      const winners = outcomes.flatMap((o, i) => (o === "created" ? [i] : []));
      assertEquals(winners.length, 1, `round ${round}: outcomes ${outcomes.join(",")}`);
      assertEquals(await store.get(key), writers[winners[0]!]);
    }
  });

  test("list returns every key under a prefix, recursively, in byte order", async (store) => {
    const keys = ["b/2", "a/1", "a/sub/deep/3", "a/0", "ab", "a/é", "a/z", "a/Z", "c"];
    for (const key of keys) await store.put(key, enc.encode(key));
    const all = (await listAll(store, "")).map((m) => m.key);
    assertEquals(all, [...keys].sort(compareKeys));
    assertEquals(
      (await listAll(store, "a/")).map((m) => m.key),
      ["a/0", "a/1", "a/Z", "a/sub/deep/3", "a/z", "a/é"],
    );
    // A prefix is a string prefix, not a directory.
    assertEquals((await listAll(store, "a")).length, 7);
    assertEquals((await listAll(store, "nothing/")).length, 0);
    const meta = (await listAll(store, "c"))[0];
    assertEquals(meta?.size, 1);
    // A store that lists keys alone lists the same keys.
    if (store.listKeys) {
      for (const prefix of ["", "a/", "a", "nothing/"]) {
        assertEquals(
          await store.listKeys(prefix),
          (await listAll(store, prefix)).map((m) => m.key),
          `listKeys("${prefix}")`,
        );
        // In no order, the same keys.
        assertEquals(
          (await store.listKeys(prefix, { ordered: false })).sort(compareKeys),
          await store.listKeys(prefix),
          `listKeys("${prefix}", { ordered: false })`,
        );
      }
    }
  });

  test("list starts after startAfter", async (store) => {
    for (const key of ["l/1", "l/2", "l/3", "l/3a", "l/4"]) await store.put(key, enc.encode(key));
    assertEquals((await listAll(store, "l/", "l/2")).map((m) => m.key), ["l/3", "l/3a", "l/4"]);
    assertEquals((await listAll(store, "l/", "l/25")).map((m) => m.key), ["l/3", "l/3a", "l/4"]);
    assertEquals((await listAll(store, "l/", "l/4")).map((m) => m.key), []);
    assertEquals((await listAll(store, "l/", "a")).length, 5);
    // Keys under a "directory" sort by their full key, not by the directory's name.
    for (const key of ["n/a/x", "n/a.json", "n/b"]) await store.put(key, enc.encode(key));
    assertEquals((await listAll(store, "n/", "n/a.json")).map((m) => m.key), ["n/a/x", "n/b"]);
    assertEquals((await listAll(store, "n/", "n/a")).length, 3);
  });

  test("list pages through more than 1000 keys and delete removes them all", async (store) => {
    const count = options.manyKeys ?? 1100;
    const keys = Array.from({ length: count }, (_, i) => `many/${String(i).padStart(5, "0")}`);
    await inBatches(keys, 32, (key) => store.put(key, enc.encode(key)));
    await store.put("many-not/x", enc.encode("x"));
    const listed = (await listAll(store, "many/")).map((m) => m.key);
    assertEquals(listed.length, count);
    assertEquals(listed, keys);
    const tail = await listAll(store, "many/", keys[count - 3]);
    assertEquals(tail.map((m) => m.key), keys.slice(count - 2));
    const outcome = await store.delete(keys);
    assertEquals(outcome.failed, []);
    assertEquals(outcome.deleted.length, count);
    assertEquals((await listAll(store, "many/")).length, 0);
    assertEquals((await listAll(store, "many")).map((m) => m.key), ["many-not/x"]);
  });

  test("delete treats absent keys as deleted", async (store) => {
    await store.put("d/1", enc.encode("1"));
    await store.put("d/2", enc.encode("2"));
    const outcome = await store.delete(["d/1", "d/absent", "d/2", "never/was"]);
    assertEquals(outcome.failed, []);
    assertEquals([...outcome.deleted].sort(), ["d/1", "d/2", "d/absent", "never/was"]);
    assertEquals(await store.get("d/1"), undefined);
    assertEquals(await store.head("d/2"), undefined);
    assertEquals(await store.delete([]), { deleted: [], failed: [] });
  });

  test("unsafe keys are refused by every operation", async (store) => {
    for (const key of UNSAFE_KEYS) {
      const shown = JSON.stringify(key);
      await assertRejects(() => store.get(key)).then(expectRangeError(shown, "get"));
      await assertRejects(() => store.head(key)).then(expectRangeError(shown, "head"));
      await assertRejects(() => store.put(key, enc.encode("x"))).then(
        expectRangeError(shown, "put"),
      );
      await assertRejects(() => store.putIfAbsent(key, enc.encode("x"))).then(
        expectRangeError(shown, "putIfAbsent"),
      );
      await expectDeleteRefused(store, key);
    }
    await assertRejects(() => listAll(store, "../")).then(expectRangeError('"../"', "list"));
    assertEquals(await listAll(store, ""), [], "nothing was written by a refused call");
  });

  test("keys with spaces, =, %, +, unicode and URL syntax round-trip", async (store) => {
    for (const key of ODD_KEYS) await store.put(key, enc.encode(`content of ${key}`));
    for (const key of ODD_KEYS) {
      assertEquals(dec.decode(await store.get(key)), `content of ${key}`, key);
      assertEquals((await store.head(key))?.key, key);
      assertEquals(dec.decode(await store.get(key, { offset: 11, length: 4 })), key.slice(0, 4));
    }
    assertEquals((await listAll(store, "odd/")).map((m) => m.key), [...ODD_KEYS].sort(compareKeys));
    assertEquals(
      (await listAll(store, "odd/a")).map((m) => m.key),
      ["odd/a+b", "odd/a=b", "odd/amp&lt;not-an-entity"],
    );
    assertEquals((await listAll(store, "odd/plus+and ")).map((m) => m.key), ["odd/plus+and space"]);
    assertEquals(
      (await listAll(store, "odd/", "odd/with space.txt")).map((m) => m.key),
      ODD_KEYS.filter((k) => compareKeys(k, "odd/with space.txt") > 0).sort(compareKeys),
    );
    assertEquals(
      await store.putIfAbsent("odd/new = 100% + ሴ", enc.encode("n")),
      "created",
    );
    assertEquals(await store.putIfAbsent("odd/new = 100% + ሴ", enc.encode("m")), "exists");
    const outcome = await store.delete([...ODD_KEYS, "odd/new = 100% + ሴ"]);
    assertEquals(outcome.failed, []);
    assertEquals(await listAll(store, "odd/"), []);
  });
}

function expectRangeError(key: string, operation: string) {
  return (error: Error) => {
    assert(
      error instanceof RangeError,
      `${operation}(${key}) should reject with a RangeError, got ${error.name}: ${error.message}`,
    );
  };
}

/** A batch delete may refuse an unsafe key by rejecting or by reporting it as failed. */
async function expectDeleteRefused(store: ObjectStore, key: string): Promise<void> {
  let outcome;
  try {
    outcome = await store.delete(["fine/key", key]);
  } catch (error) {
    expectRangeError(JSON.stringify(key), "delete")(error as Error);
    return;
  }
  assert(!outcome.deleted.includes(key), `delete reported ${JSON.stringify(key)} as deleted`);
  assertEquals(outcome.failed.map((f) => f.key), [key]);
}

async function inBatches<T>(items: T[], size: number, fn: (item: T) => Promise<unknown>) {
  let next = 0;
  await Promise.all(Array.from({ length: size }, async () => {
    while (next < items.length) await fn(items[next++]!);
  }));
}

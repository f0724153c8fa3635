import { CommitFeed } from "../../src/delta/commit_feed.ts";
import { commit, newIntent } from "../../src/delta/transaction.ts";
import { followLog, loadSnapshot, readCommit } from "../../src/delta/snapshot.ts";
import { LocalStore, TEMP_MARKER } from "../../src/storage/local.ts";
import { MemoryStore } from "../../src/storage/memory.ts";
import { addAction, createActions, jsonCheckpointCodec, writeCommit } from "../_helpers/log.ts";
import { assert, assertEquals, assertThrows } from "../_helpers/assert.ts";

/** A table at version 0, and a view of it that counts commit reads and puts. */
async function countedTable() {
  const store = new MemoryStore();
  await writeCommit(store, 0, createActions());
  const counts = { gets: 0, puts: 0 };
  const counted = Object.create(store) as MemoryStore;
  counted.get = (key, range) => {
    counts.gets++;
    return store.get(key, range);
  };
  counted.putIfAbsent = (key, bytes) => {
    counts.puts++;
    return store.putIfAbsent(key, bytes);
  };
  return { store: counted, counts };
}

/** Waits until `feed` knows `version` (another feed's post arrives as a message). */
async function until(feed: CommitFeed, version: number): Promise<void> {
  for (let i = 0; i < 200 && !feed.get(version); i++) {
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  assert(feed.get(version), `the feed never learnt version ${version}`);
}

const append = (name: string) => [addAction(name)];
const description = { operation: "STREAMING UPDATE", isBlindAppend: true };

Deno.test("commit() with known commits puts at the head at once, reading nothing", async () => {
  const { store, counts } = await countedTable();
  const mine = new CommitFeed("memory://t", "id-1");
  const theirs = new CommitFeed("memory://t", "id-1");
  try {
    // Another committer of this process takes versions 1 and 2.
    for (const v of [1, 2]) {
      const outcome = await commit(
        store,
        append(`other-${v}.parquet`),
        newIntent(v - 1),
        description,
        {
          known: theirs,
        },
      );
      assertEquals(outcome.kind, "committed");
    }
    await until(mine, 2);
    counts.gets = counts.puts = 0;
    const outcome = await commit(store, append("mine.parquet"), newIntent(0), description, {
      known: mine,
    });
    assertEquals(outcome, { kind: "committed", version: 3, attempts: 1, lostRaces: 0 });
    assertEquals(counts, { gets: 0, puts: 1 });
    // What the feed held is what the store holds.
    assertEquals(mine.get(1), await readCommit(store, 1));
    assertEquals(mine.get(3), await readCommit(store, 3));
  } finally {
    mine.close();
    theirs.close();
  }
});

Deno.test("commit() judges known commits by the conflict rules, before any put", async () => {
  const { store, counts } = await countedTable();
  const mine = new CommitFeed("memory://t", "id-2");
  const theirs = new CommitFeed("memory://t", "id-2");
  try {
    // A schema change at version 1 made in this process.
    await commit(store, [createActions()[1]!], newIntent(0), { operation: "SET" }, {
      known: theirs,
    });
    await until(mine, 1);
    counts.gets = counts.puts = 0;
    const outcome = await commit(store, append("mine.parquet"), newIntent(0), description, {
      known: mine,
    });
    assertEquals(outcome.kind, "conflict");
    assert(outcome.kind === "conflict");
    assertEquals([outcome.atVersion, outcome.rule], [1, "metadataChanged"]);
    assertEquals(counts, { gets: 0, puts: 0 });
  } finally {
    mine.close();
    theirs.close();
  }
});

Deno.test("commit() past a version its feed does not know reads the winners from the store", async () => {
  const { store, counts } = await countedTable();
  const mine = new CommitFeed("memory://t", "id-3");
  try {
    // Another process wrote versions 1 and 2: nothing in the feed.
    await writeCommit(store, 1, append("a.parquet"));
    await writeCommit(store, 2, append("b.parquet"));
    const outcome = await commit(store, append("mine.parquet"), newIntent(0), description, {
      known: mine,
    });
    assertEquals(outcome, { kind: "committed", version: 3, attempts: 2, lostRaces: 1 });
    assert(counts.gets > 0);
    // Its own commit is now known.
    assertEquals(mine.get(3), await readCommit(store, 3));
  } finally {
    mine.close();
  }
});

Deno.test("CommitFeed shares commits only within one table URI and metadata id", async () => {
  const sender = new CommitFeed("s3://b/t", "id-a");
  const same = new CommitFeed("s3://b/t", "id-a");
  const recreated = new CommitFeed("s3://b/t", "id-b");
  const other = new CommitFeed("s3://b/u", "id-a");
  try {
    const body = new TextEncoder().encode(JSON.stringify(addAction("x.parquet")) + "\n");
    sender.add(7, body);
    await until(same, 7);
    assertEquals(same.get(7), [addAction("x.parquet")]);
    assertEquals([recreated.get(7), other.get(7)], [undefined, undefined]);
  } finally {
    for (const feed of [sender, same, recreated, other]) feed.close();
  }
});

Deno.test("CommitFeed keeps only its most recent versions", () => {
  const feed = new CommitFeed("memory://t", "id-4", { limit: 3 });
  try {
    const body = new TextEncoder().encode(JSON.stringify(addAction("x.parquet")) + "\n");
    for (let v = 1; v <= 5; v++) feed.add(v, body);
    assertEquals([1, 2, 3, 4, 5].map((v) => feed.get(v) !== undefined), [
      false,
      false,
      true,
      true,
      true,
    ]);
  } finally {
    feed.close();
  }
});

/** Waits until a message posted by another feed can have arrived. */
async function delivered(): Promise<void> {
  for (let i = 0; i < 5; i++) await new Promise((resolve) => setTimeout(resolve, 5));
}

Deno.test("commit() waits for another committer's claim of its version instead of racing it", async () => {
  const { store, counts } = await countedTable();
  const mine = new CommitFeed("memory://t", "id-5");
  const theirs = new CommitFeed("memory://t", "id-5");
  try {
    assertEquals(await theirs.claim(1), true);
    await delivered();
    const committing = commit(store, append("mine.parquet"), newIntent(0), description, {
      known: mine,
    });
    // The claimant's put lands after ours would have, had we not waited.
    await delivered();
    assertEquals(counts.puts, 0);
    const body = new TextEncoder().encode(
      append("theirs.parquet").map((a) => JSON.stringify(a)).join("\n") + "\n",
    );
    assertEquals(await store.putIfAbsent("_delta_log/00000000000000000001.json", body), "created");
    theirs.add(1, body);
    assertEquals(await committing, { kind: "committed", version: 2, attempts: 1, lostRaces: 0 });
    assertEquals(counts.gets, 0);
  } finally {
    mine.close();
    theirs.close();
  }
});

Deno.test("commit() waits for a claim that never resolves only up to the feed's bound", async () => {
  const { store } = await countedTable();
  const mine = new CommitFeed("memory://t", "id-6", { claimWaitMs: 30 });
  const theirs = new CommitFeed("memory://t", "id-6");
  try {
    await theirs.claim(1);
    await delivered();
    const outcome = await commit(store, append("mine.parquet"), newIntent(0), description, {
      known: mine,
    });
    assertEquals(outcome, { kind: "committed", version: 1, attempts: 1, lostRaces: 0 });
  } finally {
    mine.close();
    theirs.close();
  }
});

Deno.test("followLog() applies known commits without reading them", async () => {
  const { store, counts } = await countedTable();
  const theirs = new CommitFeed("memory://t", "id-7");
  const mine = new CommitFeed("memory://t", "id-7");
  try {
    for (const v of [1, 2]) {
      await commit(store, append(`f-${v}.parquet`), newIntent(v - 1), description, {
        known: theirs,
      });
    }
    await until(mine, 2);
    const state = await loadSnapshot(store, jsonCheckpointCodec, { version: 0 });
    counts.gets = 0;
    assertEquals(await followLog(store, state, mine), 2);
    assertEquals(state.version, 2);
    assertEquals([...state.files.keys()].sort(), ["f-1.parquet", "f-2.parquet"]);
    // Version 3 is not known: read from the store (one GET, not found).
    assertEquals(counts.gets, 1);
  } finally {
    mine.close();
    theirs.close();
  }
});

Deno.test("CommitFeed closes at the end of a using scope, however the scope ends", () => {
  let closed = 0;
  class Counted extends CommitFeed {
    override close(): void {
      closed++;
      super.close();
    }
  }
  {
    using _feed = new Counted("memory://dispose", "id");
    assertEquals(closed, 0);
  }
  assertEquals(closed, 1);
  assertThrows(() => {
    using _feed = new Counted("memory://dispose", "id");
    throw new Error("the role failed");
  });
  assertEquals(closed, 2);
});

/** A worker running a feed of its own (tests/_helpers/feed_worker.ts). */
function feedWorker() {
  const worker = new Worker(new URL("../_helpers/feed_worker.ts", import.meta.url).href, {
    type: "module",
  });
  const ask = (request: Record<string, unknown>) =>
    new Promise<unknown>((resolve) => {
      worker.onmessage = (message) => resolve(message.data);
      worker.postMessage(request);
    });
  return { ask, [Symbol.dispose]: () => worker.terminate() };
}

const commitText = (name: string) => JSON.stringify(addAction(name)) + "\n";

Deno.test("CommitFeed shares commits with a worker given its memory, both ways, with no message", async () => {
  using mine = new CommitFeed("memory://t", "id-8");
  using worker = feedWorker();
  await worker.ask({ kind: "join", uri: "memory://t", id: "id-8", shared: mine.shared });
  mine.add(1, new TextEncoder().encode(commitText("mine.parquet")));
  assertEquals(await worker.ask({ kind: "get", version: 1 }), [addAction("mine.parquet")]);
  await worker.ask({ kind: "add", version: 2, text: commitText("theirs.parquet") });
  // Known the moment the worker's add returned: nothing was posted to us.
  assertEquals(mine.get(2), [addAction("theirs.parquet")]);
  // A claim made in one thread holds in the other until the version is known.
  assertEquals(await mine.claim(3), true);
  const claiming = worker.ask({ kind: "claim", version: 3 });
  mine.add(3, new TextEncoder().encode(commitText("third.parquet")));
  assertEquals(await claiming, false);
});

Deno.test("CommitFeed joins another table's memory never: a wrong key gets memory of its own", () => {
  using sender = new CommitFeed("memory://t", "id-9");
  sender.add(1, new TextEncoder().encode(commitText("x.parquet")));
  // Same URI, another metadata id (the table was created again).
  using recreated = new CommitFeed("memory://t", "id-9b", { shared: sender.shared });
  assertEquals(recreated.get(1), undefined);
});

Deno.test("CommitFeed forgets a commit overwritten in its ring rather than return other bytes", () => {
  using feed = new CommitFeed("memory://t", "id-10", { ringBytes: 4096 });
  const name = (v: number) => `f-${v}`.padEnd(700, "x");
  for (let v = 1; v <= 10; v++) feed.add(v, new TextEncoder().encode(commitText(name(v))));
  // About five bodies of ~800 bytes fit in 4 KiB: the oldest are gone, the
  // newest are there, and whatever is known is exactly its own commit.
  assertEquals([1, 2, 3].map((v) => feed.get(v)), [undefined, undefined, undefined]);
  for (const v of [8, 9, 10]) assertEquals(feed.get(v), [addAction(name(v))]);
  for (let v = 1; v <= 10; v++) {
    const known = feed.get(v);
    if (known) assertEquals(known, [addAction(name(v))]);
  }
});

Deno.test("CommitFeed reads a commit whose bytes changed in memory as unknown", () => {
  using feed = new CommitFeed("memory://t", "id-11", { limit: 4, ringBytes: 4096 });
  feed.add(1, new TextEncoder().encode(commitText("a.parquet")));
  assert(feed.get(1));
  // A writer killed halfway, or a reader that lost a race with one: the
  // ring holds other bytes than the slot's checksum.
  const ring = new Uint8Array(feed.shared.buffer, feed.shared.buffer.byteLength - 4096);
  ring[10] = ring[10]! ^ 0x20;
  assertEquals(feed.get(1), undefined);
});

Deno.test("commit() with a commit too large for the feed's ring reads it from the store", async () => {
  const { store, counts } = await countedTable();
  using theirs = new CommitFeed("memory://t", "id-12", { ringBytes: 4096 });
  using mine = new CommitFeed("memory://t", "id-12");
  const many = Array.from({ length: 40 }, (_, i) => addAction(`large-${i}.parquet`));
  assertEquals(
    (await commit(store, many, newIntent(0), description, { known: theirs })).kind,
    "committed",
  );
  assertEquals(mine.get(1), undefined);
  counts.gets = counts.puts = 0;
  const outcome = await commit(store, append("mine.parquet"), newIntent(0), description, {
    known: mine,
  });
  assertEquals(outcome, { kind: "committed", version: 2, attempts: 2, lostRaces: 1 });
  assert(counts.gets > 0);
});

Deno.test("commit() behind another committer's claim on local disk links the next version once that version is taken, and is acknowledged after its own flush names both", async () => {
  const root = await Deno.makeTempDir({ prefix: "neuralake-feed-flush-" });
  try {
    await writeCommit(new LocalStore(root), 0, createActions());
    // The other committer's flush of _delta_log after its link is held back.
    let open!: () => void;
    const gate = new Promise<void>((resolve) => open = resolve);
    const slow = new LocalStore(root, { syncDirectory: () => gate });
    const named: string[][] = [];
    const fast = new LocalStore(root, {
      syncDirectory: (dir) => {
        named.push(
          [...Deno.readDirSync(dir)].map((e) => e.name)
            .filter((name) => !name.startsWith(TEMP_MARKER)).sort(),
        );
      },
    });
    const uri = `file://${root}`;
    const theirs = new CommitFeed(uri, "id-flush");
    // Long enough that only the claim's end can let this committer on.
    const mine = new CommitFeed(uri, "id-flush", { claimWaitMs: 600_000 });
    try {
      const order: string[] = [];
      const first = commit(slow, append("theirs.parquet"), newIntent(0), description, {
        known: theirs,
      }).then((outcome) => (order.push("theirs"), outcome));
      // Version 1 is known as soon as its key is taken, while its flush waits.
      await until(mine, 1);
      const second = await commit(fast, append("mine.parquet"), newIntent(0), description, {
        known: mine,
      });
      order.push("mine");
      assertEquals(second, { kind: "committed", version: 2, attempts: 1, lostRaces: 0 });
      // Its own flush, which it awaited, had both names in the directory.
      assertEquals(named, [[
        "00000000000000000000.json",
        "00000000000000000001.json",
        "00000000000000000002.json",
      ]]);
      open();
      assertEquals(await first, { kind: "committed", version: 1, attempts: 1, lostRaces: 0 });
      assertEquals(order, ["mine", "theirs"]);
    } finally {
      open();
      mine.close();
      theirs.close();
    }
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

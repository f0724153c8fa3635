import { commit, newIntent } from "../../src/delta/transaction.ts";
import { loadSnapshot, readCommit } from "../../src/delta/snapshot.ts";
import { LocalStore } from "../../src/storage/local.ts";
import { MemoryStore } from "../../src/storage/memory.ts";
import { retryingStore } from "../../src/storage/retry.ts";
import { addAction, createActions, jsonCheckpointCodec, writeCommit } from "../_helpers/log.ts";
import { assert, assertEquals, assertRejects } from "../_helpers/assert.ts";

async function newTable(): Promise<MemoryStore> {
  const store = new MemoryStore();
  await writeCommit(store, 0, createActions());
  return store;
}

Deno.test("commit() writes the next version with commitInfo first", async () => {
  const store = await newTable();
  const intent = newIntent(0);
  const outcome = await commit(store, [addAction("a.parquet")], intent, {
    operation: "WRITE",
    operationParameters: { mode: "Append" },
    isBlindAppend: true,
  });
  assertEquals(outcome, { kind: "committed", version: 1, attempts: 1, lostRaces: 0 });
  const actions = await readCommit(store, 1);
  assert(actions && "commitInfo" in actions[0]!);
  const info = actions[0].commitInfo;
  assertEquals(info.operation, "WRITE");
  assertEquals(info.txnId, intent.txnId);
  assert(String(info.engineInfo).startsWith("neuralake/"));
  assert(typeof info.timestamp === "number");
});

Deno.test("commit() retries past concurrent appends at the next free version", async () => {
  const store = await newTable();
  await writeCommit(store, 1, [addAction("other-1.parquet")]);
  await writeCommit(store, 2, [addAction("other-2.parquet")]);
  const lost: number[] = [];
  const outcome = await commit(store, [addAction("mine.parquet")], newIntent(0), {
    operation: "WRITE",
  }, { onLostRace: ({ version }) => lost.push(version) });
  assertEquals(outcome.kind, "committed");
  assert(outcome.kind === "committed");
  assertEquals(outcome.version, 3);
  assertEquals(lost, [1]);
});

Deno.test("commit() reports a conflict as a value with the rule that found it", async () => {
  const store = await newTable();
  await writeCommit(store, 1, [createActions()[1]!]);
  const outcome = await commit(store, [addAction("a.parquet")], newIntent(0), {
    operation: "WRITE",
  });
  assertEquals(outcome.kind, "conflict");
  assert(outcome.kind === "conflict");
  assertEquals([outcome.atVersion, outcome.rule], [1, "metadataChanged"]);
});

Deno.test("commit() reports a batch that another process already committed", async () => {
  const store = await newTable();
  await writeCommit(store, 1, [addAction("a.parquet"), { txn: { appId: "w1", version: 5 } }]);
  const outcome = await commit(
    store,
    [addAction("b.parquet"), { txn: { appId: "w1", version: 5 } }],
    newIntent(0, { appTxns: [{ appId: "w1", version: 5 }] }),
    { operation: "WRITE" },
  );
  assertEquals(outcome.kind, "already-committed");
  assertEquals(await readCommit(store, 2), undefined);
});

Deno.test("commit() gives up after its attempt budget", async () => {
  const store = await newTable();
  // A store where every version is always taken by someone else.
  const busy = Object.create(store) as MemoryStore;
  let next = 1;
  busy.putIfAbsent = async (key, bytes) => {
    void bytes;
    await writeCommit(store, next++, [addAction(`x${next}.parquet`)]);
    return store.objects.has(key) ? "exists" : "created";
  };
  const outcome = await commit(busy, [addAction("a.parquet")], newIntent(0), {
    operation: "WRITE",
  }, { maxAttempts: 3, backoff: { baseMs: 1, maxMs: 1 } });
  assertEquals(outcome.kind, "gave-up");
  assert(outcome.kind === "gave-up");
  assertEquals(outcome.attempts, 3);
});

Deno.test("concurrent commits of many writers all land, at contiguous versions, one per commit", async () => {
  const store = await newTable();
  // Storage that takes a little time, as real storage does.
  const slow = Object.create(store) as MemoryStore;
  const pause = () => new Promise((r) => setTimeout(r, Math.random() < 0.5 ? 0 : 1));
  slow.putIfAbsent = async (key, bytes) => {
    await pause();
    return store.putIfAbsent(key, bytes);
  };
  const writers = 8;
  const perWriter = 25;
  await Promise.all(
    Array.from({ length: writers }, async (_, w) => {
      let readVersion = 0;
      for (let i = 0; i < perWriter; i++) {
        // Preparing the next batch takes a moment, as encoding and uploading do.
        await pause();
        const outcome = await commit(
          slow,
          [addAction(`w${w}-${i}.parquet`), { txn: { appId: `w${w}`, version: i } }],
          newIntent(readVersion, { appTxns: [{ appId: `w${w}`, version: i }] }),
          { operation: "WRITE", isBlindAppend: true },
        );
        // None starves: a writer that lost retries before the winners are back.
        assertEquals(outcome.kind, "committed", JSON.stringify(outcome));
        if (outcome.kind === "committed") readVersion = outcome.version;
      }
    }),
  );
  const snapshot = await loadSnapshot(store, jsonCheckpointCodec);
  assertEquals(snapshot.version, writers * perWriter);
  assertEquals(snapshot.files.size, writers * perWriter);
  for (let w = 0; w < writers; w++) {
    assertEquals(snapshot.txns.get(`w${w}`)?.version, perWriter - 1);
  }
});

Deno.test("commit() stages its body beside the commit it claims, naming that key to the store", async () => {
  const store = await newTable();
  const nears: string[] = [];
  const staging = Object.assign(Object.create(store), {
    stage(bytes: Uint8Array, near: string) {
      nears.push(near);
      return Promise.resolve({
        putIfAbsent: (key: string) => store.putIfAbsent(key, bytes),
        discard: () => Promise.resolve(),
      });
    },
  });
  const outcome = await commit(staging, [addAction("a.parquet")], newIntent(0), {
    operation: "WRITE",
  });
  assertEquals(outcome.kind, "committed");
  assertEquals(nears, ["_delta_log/00000000000000000001.json"]);
});

/**
 * A store where another committer takes the version a commit tries, the
 * first `wins` times: each put first writes the rival's commit at that key.
 */
function rivalWins(store: MemoryStore, wins: number): MemoryStore {
  const rival = Object.create(store) as MemoryStore;
  let won = 0;
  rival.putIfAbsent = async (key, bytes) => {
    if (won < wins) {
      won++;
      await store.putIfAbsent(
        key,
        new TextEncoder().encode(
          [
            { commitInfo: { operation: "WRITE", txnId: `rival-${won}` } },
            addAction(`rival-${won}.parquet`),
          ]
            .map((a) => JSON.stringify(a)).join("\n") + "\n",
        ),
      );
    }
    return store.putIfAbsent(key, bytes);
  };
  return rival;
}

Deno.test("commit() retries a blind append at once after every lost race, never backing off", async () => {
  const store = await newTable();
  let waits = 0;
  const outcome = await commit(
    rivalWins(store, 30),
    [addAction("mine.parquet"), { txn: { appId: "w", version: 0 } }],
    newIntent(0, { appTxns: [{ appId: "w", version: 0 }] }),
    { operation: "STREAMING UPDATE", isBlindAppend: true },
    // The jitter source is drawn once per backoff: it counts the waits.
    { backoff: { random: () => (waits++, 0) } },
  );
  assertEquals(outcome, { kind: "committed", version: 31, attempts: 31, lostRaces: 30 });
  assertEquals(waits, 0);
});

Deno.test("commit() that yields to others backs off after a lost race", async () => {
  const store = await newTable();
  let waits = 0;
  const outcome = await commit(
    rivalWins(store, 3),
    [addAction("merged.parquet")],
    newIntent(0),
    { operation: "OPTIMIZE" },
    { yieldToOthers: true, backoff: { random: () => (waits++, 0) } },
  );
  assertEquals(outcome, { kind: "committed", version: 4, attempts: 4, lostRaces: 3 });
  assertEquals(waits, 3);
});

Deno.test("commit() on a store with cheap looks reads past the head only once per lost race", async () => {
  const store = await newTable();
  await writeCommit(store, 1, [addAction("other.parquet")]);
  const reads: string[] = [];
  const counting = Object.create(store) as MemoryStore & { headIsCheap: boolean };
  counting.headIsCheap = true;
  counting.get = (key, range) => {
    reads.push(key);
    return store.get(key, range);
  };
  const outcome = await commit(counting, [addAction("mine.parquet")], newIntent(0), {
    operation: "WRITE",
    isBlindAppend: true,
  });
  assertEquals(outcome, { kind: "committed", version: 2, attempts: 2, lostRaces: 1 });
  // The winner and the one version past it; not a window of missing
  // versions, each a failed look on local disk.
  assertEquals(reads, [1, 2].map((v) => `_delta_log/${String(v).padStart(20, "0")}.json`));
});

Deno.test("commit() reads each commit it lost to once", async () => {
  const store = await newTable();
  for (let v = 1; v <= 40; v++) await writeCommit(store, v, [addAction(`other-${v}.parquet`)]);
  const reads = new Map<string, number>();
  const counting = Object.create(store) as MemoryStore;
  counting.get = (key, range) => {
    reads.set(key, (reads.get(key) ?? 0) + 1);
    return store.get(key, range);
  };
  const outcome = await commit(counting, [addAction("mine.parquet")], newIntent(0), {
    operation: "WRITE",
    isBlindAppend: true,
  });
  assertEquals(outcome, { kind: "committed", version: 41, attempts: 2, lostRaces: 1 });
  for (let v = 1; v <= 40; v++) {
    assertEquals(reads.get(`_delta_log/${String(v).padStart(20, "0")}.json`), 1, `version ${v}`);
  }
});

/**
 * A local table whose log directory flushes fail while `failing()` says so
 * (as EIO would), behind request retries as a role's store is: a claim whose
 * link applied and whose flush failed is retried, and answers `exists`.
 * `flushes` records each flush of the log, `ok` or `failed`.
 */
async function tableWithFailingLogFlush(root: string, failing: () => boolean) {
  const flushes: string[] = [];
  let armed = false;
  const local = new LocalStore(root, {
    syncDirectory: (dir) => {
      if (!dir.endsWith("/_delta_log")) return;
      if (armed && failing()) {
        flushes.push("failed");
        throw new Error(
          `Cannot flush the directory ${dir} to disk: Input/output error (os error 5)`,
        );
      }
      flushes.push("ok");
    },
  });
  await writeCommit(local, 0, createActions());
  flushes.length = 0;
  armed = true;
  const store = retryingStore(local, { budgetMs: 500, backoff: { baseMs: 1, maxMs: 5 } });
  return { store, flushes };
}

Deno.test("commit() that recognises its own commit after a failed log flush reports it only once a flush succeeds", async () => {
  const root = await Deno.makeTempDir({ prefix: "neuralake-commit-flush-" });
  try {
    let failures = 1;
    const { store, flushes } = await tableWithFailingLogFlush(root, () => failures-- > 0);
    const outcome = await commit(store, [addAction("a.parquet")], newIntent(0), {
      operation: "WRITE",
    });
    flushes.push("reported");
    assertEquals(outcome.kind, "committed");
    assert(outcome.kind === "committed" && outcome.version === 1);
    assertEquals(
      flushes,
      ["failed", "ok", "reported"],
      "the link's own flush failed; the commit, found again as ours, waits for a flush that succeeds",
    );
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("commit() fails rather than report a commit it found as its own when the log cannot be flushed", async () => {
  const root = await Deno.makeTempDir({ prefix: "neuralake-commit-flush-" });
  try {
    const { store, flushes } = await tableWithFailingLogFlush(root, () => true);
    await assertRejects(
      () => commit(store, [addAction("a.parquet")], newIntent(0), { operation: "WRITE" }),
      "00000000000000000001.json durable",
    );
    assert(flushes.length > 1, `the flush was tried again: ${flushes}`);
    assert(!flushes.includes("ok"), "no flush succeeded");
    assert((await readCommit(store, 1)) !== undefined, "the link itself applied");
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

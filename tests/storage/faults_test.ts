/**
 * Injected storage faults and the retries that ride them out: every fault
 * is reported, a write whose response was lost applied exactly once, and a
 * commit through a faulty store lands once whatever the faults did.
 */

import { type FaultRecord, faultyStore, InjectedFault } from "../../src/storage/faults.ts";
import { retryingStore } from "../../src/storage/retry.ts";
import { MemoryStore } from "../../src/storage/memory.ts";
import { listAll } from "../../src/storage/object_store.ts";
import { commit, newIntent } from "../../src/delta/transaction.ts";
import { readCommit } from "../../src/delta/snapshot.ts";
import { chaosStore } from "../../src/roles/chaos_store.ts";
import { assert, assertEquals } from "../_helpers/assert.ts";

const bytes = (text: string) => new TextEncoder().encode(text);

function seeded(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 4294967296;
  };
}

Deno.test("faultyStore() injects every kind of fault, reports each, and retries ride them out", async () => {
  const inner = new MemoryStore();
  const faults: FaultRecord[] = [];
  const faulty = faultyStore(inner, {
    rate: 0.5,
    random: seeded(1),
    stallMs: [1, 2],
    onFault: (f) => faults.push(f),
  });
  const store = retryingStore(faulty, { budgetMs: 60_000, backoff: { baseMs: 1, maxMs: 2 } });
  for (let i = 0; i < 40; i++) await store.put(`data/f${i}`, bytes(`v${i}`));
  for (let i = 0; i < 40; i++) {
    assertEquals(new TextDecoder().decode(await store.get(`data/f${i}`)), `v${i}`);
  }
  assertEquals((await listAll(store, "data/")).length, 40);
  assertEquals(
    new Set(faults.map((f) => f.kind)),
    new Set(["5xx", "reset", "lost-response", "stall"]),
  );
  // Straight to the faulty store, a failure is an InjectedFault naming what failed.
  let thrown: unknown;
  for (let i = 0; i < 20 && thrown === undefined; i++) {
    await faulty.head("data/f0").catch((e) => (thrown = e));
  }
  assert(thrown instanceof InjectedFault, String(thrown));
  assert(thrown.message.includes("data/f0"), thrown.message);
});

Deno.test("a commit through lost responses and resets lands exactly once per transaction", async () => {
  const inner = new MemoryStore();
  const store = retryingStore(
    faultyStore(inner, { rate: 0.6, random: seeded(7), stallMs: [0, 1] }),
    { budgetMs: 60_000, backoff: { baseMs: 1, maxMs: 2 } },
  );
  const txnIds: string[] = [];
  for (let i = 0; i < 15; i++) {
    const intent = newIntent(i - 1);
    txnIds.push(intent.txnId);
    const outcome = await commit(store, [], intent, { operation: "WRITE" });
    assertEquals(outcome.kind, "committed");
  }
  const landed: string[] = [];
  for (let v = 0;; v++) {
    const actions = await readCommit(inner, v);
    if (!actions) break;
    for (const a of actions) if ("commitInfo" in a) landed.push(String(a.commitInfo.txnId));
  }
  assertEquals(landed, txnIds);
});

Deno.test("a partition fails every request until it ends; a full disk fails writes, not reads", async () => {
  let now = 1_000;
  let until = 2_000;
  const kinds: string[] = [];
  const inner = new MemoryStore();
  await inner.put("a", bytes("x"));
  const store = faultyStore(inner, {
    partitionedUntil: () => until,
    diskFullFrom: 5_000,
    now: () => now,
    onFault: (f) => kinds.push(`${f.kind} ${f.op}`),
  });
  const error = await store.get("a").catch((e) => e);
  assert(error instanceof InjectedFault && error.kind === "partition", String(error));
  now = 2_500;
  assertEquals((await store.get("a"))?.length, 1);
  until = 0;
  now = 6_000;
  const full = await store.put("b", bytes("y")).catch((e) => e);
  assert(full instanceof InjectedFault && full.kind === "disk-full", String(full));
  assert(full.message.startsWith("No space left on device"), full.message);
  assertEquals((await store.get("a"))?.length, 1, "reads go on");
  assertEquals(await inner.head("b"), undefined, "nothing written");
  assertEquals(kinds, ["partition get", "disk-full put"]);
});

Deno.test("retries give up after their budget with the store's own error", async () => {
  const store = retryingStore(
    faultyStore(new MemoryStore(), { diskFullFrom: 0 }),
    { budgetMs: 30, backoff: { baseMs: 5, maxMs: 10 } },
  );
  const error = await store.put("k", bytes("v")).catch((e) => e);
  assert(error instanceof InjectedFault && error.kind === "disk-full", String(error));
});

Deno.test("chaosStore() splits an armed delete and passes the mid-delete point with half done", async () => {
  const inner = new MemoryStore();
  const keys = ["a", "b", "c", "d"];
  for (const k of keys) await inner.put(k, bytes(k));
  const seen: string[] = [];
  // Dying at the point is a throw here (a SIGKILL in a role): the rest is never deleted.
  const store = chaosStore(inner, (phase) => {
    seen.push(phase);
    throw new Error("killed");
  }, (phase) => phase === "mid-delete");
  await store.delete(keys).catch(() => {});
  assertEquals(seen, ["mid-delete"]);
  assertEquals((await listAll(inner, "")).map((m) => m.key), ["c", "d"]);
  // Disarmed, a delete is one request and passes no point.
  const plain = chaosStore(inner, () => seen.push("phase"), () => false);
  assertEquals((await plain.delete(["c", "d"])).deleted, ["c", "d"]);
  assertEquals(seen.length, 1);
});

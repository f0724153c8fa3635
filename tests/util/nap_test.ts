/**
 * Waits that end at a stop hold nothing once they end: a role waits this way
 * millions of times in a run of days, while its stop stays pending.
 */

import { assert, assertEquals, assertRejects } from "../_helpers/assert.ts";
import { nap, sleep, unlessAborted } from "../../src/util/backoff.ts";

/** Whether `promise` settles within the microtasks queued now, before any timer runs. */
async function settlesAtOnce(promise: Promise<unknown>): Promise<boolean> {
  let settled = false;
  promise.then(() => settled = true, () => settled = true);
  for (let i = 0; i < 10; i++) await Promise.resolve();
  return settled;
}

Deno.test("nap() resolves after its time, or at once when its signal aborts", async () => {
  const stop = new AbortController();
  const t0 = performance.now();
  await nap(30, stop.signal);
  assert(performance.now() - t0 >= 25);
  // A nap that waited out its time instead would still resolve, a minute
  // later: the abort must end it before any timer could.
  const long = nap(60_000, stop.signal);
  const other = new AbortController();
  assert(!await settlesAtOnce(nap(60_000, other.signal)), "a nap ended early");
  other.abort();
  stop.abort();
  assert(await settlesAtOnce(long), "an abort did not end the nap");
  await long; // its timer cleared, or the test would leak it
  assert(await settlesAtOnce(nap(60_000, stop.signal)), "a nap on an aborted signal waited");
});

Deno.test("sleep() rejects with the signal's reason where nap() resolves, both at the abort", async () => {
  const stop = new AbortController();
  const slept = sleep(60_000, stop.signal);
  const napped = nap(60_000, stop.signal);
  stop.abort(new Error("stopping"));
  await assertRejects(() => slept, "stopping");
  assert(await settlesAtOnce(napped), "the nap did not end at the abort");
  assertEquals(await napped, undefined);
  await assertRejects(() => sleep(10, stop.signal), "stopping");
});

Deno.test("unlessAborted() gives the promise's value or error, or undefined once aborted", async () => {
  const stop = new AbortController();
  assertEquals(await unlessAborted(Promise.resolve(7), stop.signal), 7);
  await assertRejects(
    () => unlessAborted(Promise.reject(new Error("poll failed")), stop.signal),
    "poll failed",
  );
  const never = new Promise<number>(() => {});
  const waiting = unlessAborted(never, stop.signal);
  stop.abort();
  assertEquals(await waiting, undefined);
  assertEquals(await unlessAborted(Promise.resolve(1), stop.signal), undefined);
});

async function retainedAfter(kind: string, waits: number): Promise<number> {
  const probe = new URL("../_helpers/wait_heap_probe.ts", import.meta.url).pathname;
  const output = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--v8-flags=--expose-gc", "--quiet", probe, kind, String(waits)],
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert(output.success, new TextDecoder().decode(output.stderr));
  return JSON.parse(new TextDecoder().decode(output.stdout)).retained_bytes;
}

/** Heap kept per wait: what 80,000 waits keep beyond what 20,000 keep, over 60,000. */
async function bytesPerWait(kind: string): Promise<number> {
  return ((await retainedAfter(kind, 80_000)) - (await retainedAfter(kind, 20_000))) / 60_000;
}

Deno.test("waits against a stop that never comes keep nothing per wait, where Promise.race kept hundreds of bytes", async () => {
  // What the roles did: each race leaves a reaction on the pending stop
  // (about 310 bytes each, measured).
  const race = await bytesPerWait("race");
  assert(race > 100, `Promise.race kept ${race} bytes per wait: the probe sees no leak`);
  const napped = await bytesPerWait("nap");
  const polled = await bytesPerWait("unless");
  assert(napped < 5, `nap() kept ${napped} bytes per wait`);
  assert(polled < 5, `unlessAborted() kept ${polled} bytes per wait`);
});

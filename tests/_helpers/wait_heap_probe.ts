/**
 * Prints how much V8 heap stays in use after N waits of one kind (100 at a
 * time) against a stop that never comes, after garbage collection. Run with
 * `--v8-flags=--expose-gc` by tests/util/nap_test.ts:
 *
 *   deno run --v8-flags=--expose-gc tests/_helpers/wait_heap_probe.ts nap|unless|race N
 */

import { nap, sleep, unlessAborted } from "../../src/util/backoff.ts";

const WAITS = Number(Deno.args[1] ?? 200_000);
const CONCURRENT = 100;
const kind = Deno.args[0];
const stop = new AbortController();
const stopRequested = new Promise<void>((resolve) =>
  stop.signal.addEventListener("abort", () => resolve())
);
const gc = (globalThis as unknown as { gc: () => void }).gc;

function collect(): number {
  for (let i = 0; i < 3; i++) gc();
  return Deno.memoryUsage().heapUsed;
}

const before = collect();
for (let done = 0; done < WAITS; done += CONCURRENT) {
  const waits: Promise<unknown>[] = [];
  for (let i = 0; i < CONCURRENT; i++) {
    if (kind === "nap") waits.push(nap(1, stop.signal));
    else if (kind === "unless") waits.push(unlessAborted(Promise.resolve(i), stop.signal));
    else if (kind === "race") waits.push(Promise.race([sleep(1), stopRequested]));
    else throw new TypeError(`Unknown kind of wait: ${kind}`);
  }
  await Promise.all(waits);
}
console.log(JSON.stringify({ kind, retained_bytes: collect() - before }));

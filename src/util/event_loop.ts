/**
 * Giving the event loop a turn from a loop whose steps may all be
 * synchronous.
 *
 * Why: a local store's small writes, links and flushes are synchronous
 * system calls (storage/local.ts), so a writer's batch can run from its
 * generator to its acknowledged commit without one asynchronous operation.
 * `await` on a settled promise only runs microtasks; a loop of such batches
 * never lets its event loop run, and a stop request (a worker message or a
 * signal), the commit feed's messages and every timer wait for as long as
 * the loop runs. Every loop that appends or commits therefore awaits
 * `yieldToEventLoop()` once per iteration.
 *
 * Invariants:
 * - The promise settles from an immediate (Node's `setImmediate`, a global
 *   in Deno 2), which runs after the event loop has fired the timers due
 *   and polled its pending operations, worker and channel messages included.
 *   It costs about 10–20 µs. Two other ways were measured and
 *   rejected (2026-12-01, Deno 2.9.6): `setTimeout(0)` is clamped and took
 *   2.5 ms per yield in a loop; a message on a fresh `MessageChannel` took
 *   40 µs, but once an npm CommonJS package is loaded (jsonc-parser, which
 *   every role loads through its config) it settles without the loop
 *   turning: no timer fired and no `BroadcastChannel` message arrived in
 *   15 yields.
 * - Nothing is left behind that keeps a process or worker alive.
 */

/**
 * Resolves after one turn of the event loop: timers due, operations done
 * and messages received meanwhile are handled first.
 *
 * @example
 * ```ts
 * while (!channel.stopping) {
 *   await yieldToEventLoop(); // serves the stop request
 *   await appendBatch(target, next(), options);
 * }
 * ```
 */
export function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/**
 * `yieldToEventLoop` gives the event loop a real turn: a timer due and a
 * channel message are handled within a yield or two, even with an npm
 * CommonJS package loaded (which made a `MessageChannel` message settle
 * without the loop turning).
 */

import { yieldToEventLoop } from "../../src/util/event_loop.ts";
import { assert } from "../_helpers/assert.ts";

/** Spins for `ms` without awaiting, as an encode or a synchronous write does. */
function busy(ms: number): void {
  const end = performance.now() + ms;
  while (performance.now() < end) { /* spin */ }
}

Deno.test("yieldToEventLoop lets a due timer and a BroadcastChannel message run, with an npm CommonJS package loaded", async () => {
  // The roles load it through their config.
  await import("jsonc-parser");
  const sender = new BroadcastChannel("neuralake-event-loop-test");
  const receiver = new BroadcastChannel("neuralake-event-loop-test");
  try {
    let fired = false;
    let heard = false;
    receiver.onmessage = () => heard = true;
    setTimeout(() => fired = true, 0);
    sender.postMessage("stop");
    let yields = 0;
    while (!(fired && heard) && yields < 20) {
      busy(3); // past the timer's 1 ms
      await yieldToEventLoop();
      yields++;
    }
    assert(fired, `a timer due at once did not run in ${yields} yields`);
    assert(heard, `a BroadcastChannel message was not delivered in ${yields} yields`);
    assert(yields <= 2, `the timer and the message took ${yields} yields`);
  } finally {
    sender.close();
    receiver.close();
  }
});

/**
 * Jittered exponential backoff, shared by the commit loop and the S3 client so
 * that both retry the same way: full jitter over an exponentially growing cap.
 */

/** How a retry loop waits between attempts. */
export interface BackoffOptions {
  /** The first cap, in milliseconds. @default 10 */
  baseMs?: number;
  /** The largest cap, in milliseconds. @default 2000 */
  maxMs?: number;
  /** A source of numbers in [0, 1), injectable for tests. @default Math.random */
  random?: () => number;
}

/** Returns the delay before retry number `attempt` (0-based), in ms. */
export function backoffDelay(
  attempt: number,
  options: BackoffOptions = {},
): number {
  const base = options.baseMs ?? 10;
  const max = options.maxMs ?? 2000;
  const random = options.random ?? Math.random;
  const cap = Math.min(max, base * 2 ** Math.min(attempt, 30));
  return Math.floor(random() * cap);
}

/**
 * Sleeps for `ms` milliseconds, or less if `signal` aborts: resolves either
 * way, and leaves nothing attached to the signal once it resolves. It is
 * `sleep` with the abort taken as the end of the wait, so there is one timer
 * and one listener to get right. A loop that runs for days waits this way
 * rather than with `Promise.race([sleep(ms), stopRequested])`: each race adds
 * a reaction to the pending stop promise that stays until it settles, so a
 * writer leaked one per batch and the compactor one per pass
 * (tests/util/nap_test.ts).
 */
export function nap(ms: number, signal: AbortSignal): Promise<void> {
  return sleep(ms, signal).catch(() => {});
}

/**
 * `promise`'s value, or undefined as soon as `signal` aborts (the promise
 * then settles unheard). Like `Promise.race([promise, aborted])`, but what it
 * attaches to the signal is removed once `promise` settles, so a loop that
 * polls for days holds nothing per poll.
 */
export function unlessAborted<T>(promise: Promise<T>, signal: AbortSignal): Promise<T | undefined> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) {
      resolve(undefined);
      return;
    }
    const onAbort = () => resolve(undefined);
    signal.addEventListener("abort", onAbort, { once: true });
    promise.then((value) => {
      signal.removeEventListener("abort", onAbort);
      resolve(value);
    }, (error) => {
      signal.removeEventListener("abort", onAbort);
      reject(error);
    });
  });
}

/**
 * Sleeps for `ms` milliseconds, or rejects with the signal's reason when it
 * aborts (at once if it has). The timer is cleared on abort and the listener
 * removed when the time is up, so nothing stays attached to the signal.
 */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason);
      return;
    }
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

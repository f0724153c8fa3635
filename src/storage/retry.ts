/**
 * Retries of storage requests that failed, for roles that run for days: a
 * failed request is tried again with jittered exponential backoff until it
 * succeeds or a time budget runs out, and then the last error is thrown.
 * The S3 client already retries what S3 says is retryable; this gives a
 * local disk, and faults injected by chaos, the same resilience.
 *
 * Invariants:
 * - Only errors that are not argument errors are retried (`TypeError`,
 *   `RangeError` and `Deno.errors.NotSupported` mean retrying cannot help).
 * - Retrying is safe for every request: get, head, list and delete are
 *   idempotent, a put writes the same bytes again, and a put-if-absent
 *   whose first attempt applied answers `exists`, which the commit loop
 *   resolves by reading the key back (our `txnId` there means committed).
 */

import { backoffDelay, sleep } from "../util/backoff.ts";
import { type Around, interceptStore, type StoreOp } from "./intercept.ts";
import type { ObjectStore } from "./object_store.ts";

/** How requests are retried. */
export interface RetryOptions {
  /** The longest time spent on one request, retries included, in ms. @default 5_000 */
  budgetMs?: number;
  /** Backoff between attempts. @default { baseMs: 50, maxMs: 1_000 } */
  backoff?: { baseMs: number; maxMs: number };
  /** Called before each retry, for metrics and logs. */
  onRetry?: (info: { op: StoreOp; key: string; attempt: number; error: unknown }) => void;
}

/**
 * Wraps a store so that failed requests are retried within a time budget.
 *
 * @example
 * ```ts
 * import { MemoryStore } from "./memory.ts";
 * const store = retryingStore(new MemoryStore(), { budgetMs: 2_000 });
 * ```
 */
export function retryingStore(store: ObjectStore, options: RetryOptions = {}): ObjectStore {
  const budget = options.budgetMs ?? 5_000;
  const backoff = options.backoff ?? { baseMs: 50, maxMs: 1_000 };
  const around: Around = async (op, key, run) => {
    const started = performance.now();
    for (let attempt = 0;; attempt++) {
      try {
        return await run();
      } catch (error) {
        if (!retryable(error)) throw error;
        const delay = Math.max(backoff.baseMs, backoffDelay(attempt, backoff));
        if (performance.now() - started + delay > budget) throw error;
        options.onRetry?.({ op, key, attempt: attempt + 1, error });
        await sleep(delay);
      }
    }
  };
  return interceptStore(store, around);
}

function retryable(error: unknown): boolean {
  return !(error instanceof TypeError || error instanceof RangeError ||
    error instanceof Deno.errors.NotSupported);
}

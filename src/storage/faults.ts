/**
 * Injected storage faults, for chaos runs: a store that fails a share of its
 * requests the ways real stores fail, cuts all requests off for a while (a
 * network partition), or refuses every write from some moment on (a full
 * disk). Each fault is reported, so a run can list every one it survived.
 *
 * The kinds, drawn with equal odds:
 * - `5xx`: the request fails before it reaches the store (a 503);
 * - `reset`: the connection is reset before the request applies;
 * - `lost-response`: the request applies, then its response is lost (the
 *   caller sees an error for a write that happened);
 * - `stall`: the request waits for seconds, then goes through.
 *
 * Invariant: a fault never changes what is stored beyond what the request
 * itself would have done; `lost-response` applies the request exactly once.
 */

import { sleep } from "../util/backoff.ts";
import { type Around, interceptStore, isWrite, type StoreOp } from "./intercept.ts";
import type { ObjectStore } from "./object_store.ts";

/** What went wrong, as chaos injected it. */
export type FaultKind = "5xx" | "reset" | "lost-response" | "stall" | "partition" | "disk-full";

/** An error that chaos injected rather than one the store raised. */
export class InjectedFault extends Error {
  constructor(
    readonly kind: FaultKind,
    readonly op: StoreOp,
    readonly key: string,
    message: string,
  ) {
    super(message);
    this.name = "InjectedFault";
  }
}

/** One injected fault, as reported. */
export interface FaultRecord {
  kind: FaultKind;
  op: StoreOp;
  key: string;
  /** For a stall, how long it lasted. */
  ms?: number;
}

/** What to inject. */
export interface FaultOptions {
  /** The share of requests that meet a fault, 0 to 1. @default 0 */
  rate?: number;
  /** Numbers in [0, 1), seeded for a repeatable run. @default Math.random */
  random?: () => number;
  /** How long a stall lasts, in ms: [shortest, longest]. @default [1_000, 3_000] */
  stallMs?: [number, number];
  /** Every request fails until this epoch time (ms): a partition. @default none */
  partitionedUntil?: () => number;
  /** Every write fails with "no space left on device" from this epoch time (ms). @default never */
  diskFullFrom?: number;
  /** Called for each fault injected. */
  onFault?: (fault: FaultRecord) => void;
  /** The clock, epoch ms. @default Date.now */
  now?: () => number;
}

const KINDS: readonly FaultKind[] = ["5xx", "reset", "lost-response", "stall"];

/**
 * Wraps a store so that its requests meet faults.
 *
 * @example
 * ```ts
 * import { MemoryStore } from "./memory.ts";
 * const faults: string[] = [];
 * const store = faultyStore(new MemoryStore(), {
 *   rate: 0.05,
 *   onFault: (f) => faults.push(`${f.kind} ${f.op} ${f.key}`),
 * });
 * ```
 */
export function faultyStore(store: ObjectStore, options: FaultOptions): ObjectStore {
  const rate = options.rate ?? 0;
  const random = options.random ?? Math.random;
  const now = options.now ?? Date.now;
  const [stallMin, stallMax] = options.stallMs ?? [1_000, 3_000];
  const report = (fault: FaultRecord) => options.onFault?.(fault);
  const around: Around = async (op, key, run) => {
    if (op === "discard") return await run(); // cleanup of our own staging only
    if ((options.partitionedUntil?.() ?? 0) > now()) {
      report({ kind: "partition", op, key });
      throw new InjectedFault(
        "partition",
        op,
        key,
        `Injected network partition: ${op} ${key} could not reach the store`,
      );
    }
    if (
      options.diskFullFrom !== undefined && now() >= options.diskFullFrom && isWrite(op) &&
      op !== "delete"
    ) {
      report({ kind: "disk-full", op, key });
      throw new InjectedFault(
        "disk-full",
        op,
        key,
        `No space left on device (os error 28): ${op} ${key}`,
      );
    }
    if (rate <= 0 || random() >= rate) return await run();
    const kind = KINDS[Math.floor(random() * KINDS.length) % KINDS.length]!;
    switch (kind) {
      case "stall": {
        const ms = Math.round(stallMin + random() * (stallMax - stallMin));
        report({ kind, op, key, ms });
        await sleep(ms);
        return await run();
      }
      case "lost-response":
        await run();
        report({ kind, op, key });
        throw new InjectedFault(
          kind,
          op,
          key,
          `Injected fault: the response to ${op} ${key} was lost after it applied`,
        );
      default:
        report({ kind, op, key });
        throw new InjectedFault(
          kind,
          op,
          key,
          kind === "5xx"
            ? `Injected fault: ${op} ${key} failed with 503 Service Unavailable`
            : `Injected fault: connection reset during ${op} ${key}`,
        );
    }
  };
  return interceptStore(store, around);
}

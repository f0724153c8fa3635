/**
 * What the ingest role makes of a Kafka broker it cannot reach. Pure: it
 * learns from the consumer's outage state after each poll, at a time it is
 * given, so each rule is unit-tested with an injected clock.
 *
 * Invariants:
 * - A poll that could not reach the broker is not a quiet topic: `quietFor`
 *   counts only from the first poll that got an answer after an outage, so
 *   `--until-idle` means "fetched successfully and got nothing for that
 *   long".
 * - An outage is reported when it starts, then at most every
 *   `reportEveryMs`, and once more when the broker answers again.
 * - With a `timeoutMs`, an outage that lasts that long is a
 *   `BrokerUnreachableError`; without one the role waits however long.
 */

import type { BrokerOutage } from "../sources/kafka.ts";

/** What to tell people about an outage. */
export type OutageReport =
  | { kind: "down"; downMs: number; error: string; timeoutMs: number | undefined }
  | { kind: "back"; downMs: number };

/** Options of an `OutageWatch`. */
export interface OutageWatchOptions {
  /** Give up once the broker has been unreachable this long (ms); undefined: never. */
  timeoutMs?: number | undefined;
  /** The least time between two reports of one outage, in ms. @default 5000 */
  reportEveryMs?: number;
  /** Called with each report. */
  report: (report: OutageReport) => void;
}

/** How long a run with --until-idle waits for an unreachable broker by default (ms). */
export const DEFAULT_BROKER_TIMEOUT_MS = 5 * 60_000;

/**
 * The broker timeout in force: the one given (ms, > 0), else
 * `DEFAULT_BROKER_TIMEOUT_MS` with --until-idle (a nightly run must end),
 * else none (a long-running ingest waits however long the broker is down).
 */
export function brokerTimeoutFor(
  givenMs: number | undefined,
  untilIdleMs: number | undefined,
): number | undefined {
  if (givenMs !== undefined && givenMs > 0) return givenMs;
  return untilIdleMs !== undefined && untilIdleMs > 0 ? DEFAULT_BROKER_TIMEOUT_MS : undefined;
}

/** Kafka could not be reached for longer than the ingest was told to wait. */
export class BrokerUnreachableError extends Error {
  /** How long the broker had been unreachable, in ms. */
  readonly downMs: number;
  constructor(downMs: number, timeoutMs: number, error: string) {
    super(
      `Kafka has been unreachable for ${seconds(downMs)} s, past --broker-timeout ` +
        `${seconds(timeoutMs)} s; what was read before was committed, and nothing was read ` +
        `since. Run it again once the broker answers. Last error: ${error}`,
    );
    this.name = "BrokerUnreachableError";
    this.downMs = downMs;
  }
}

/**
 * Follows the broker's reachability across polls.
 *
 * @example
 * ```ts
 * const watch = new OutageWatch({ timeoutMs: 60_000, report: console.log });
 * watch.observe(consumer.outage(), Date.now()); // undefined, or the error to stop with
 * watch.quietFor(Date.now()); // ms since the last poll that failed
 * ```
 */
export class OutageWatch {
  readonly #timeoutMs: number | undefined;
  readonly #reportEveryMs: number;
  readonly #report: (report: OutageReport) => void;
  #current: BrokerOutage | undefined;
  #lastDownAt = -Infinity;
  #reportedAt = -Infinity;

  constructor(options: OutageWatchOptions) {
    this.#timeoutMs = options.timeoutMs;
    this.#reportEveryMs = options.reportEveryMs ?? 5_000;
    this.#report = options.report;
  }

  /**
   * Learns the consumer's state after a poll at epoch time `now`; returns
   * the error to stop with once the outage has lasted `timeoutMs`.
   */
  observe(outage: BrokerOutage | undefined, now: number): BrokerUnreachableError | undefined {
    if (outage === undefined) {
      if (this.#current !== undefined) {
        this.#report({ kind: "back", downMs: Math.max(0, now - this.#current.since) });
        // Quiet time starts with the first answer, not with the last failure.
        this.#lastDownAt = now;
        this.#current = undefined;
        this.#reportedAt = -Infinity;
      }
      return undefined;
    }
    this.#current = outage;
    this.#lastDownAt = now;
    const downMs = Math.max(0, now - outage.since);
    if (this.#timeoutMs !== undefined && downMs >= this.#timeoutMs) {
      return new BrokerUnreachableError(downMs, this.#timeoutMs, outage.error);
    }
    if (now - this.#reportedAt >= this.#reportEveryMs) {
      this.#reportedAt = now;
      this.#report({ kind: "down", downMs, error: outage.error, timeoutMs: this.#timeoutMs });
    }
    return undefined;
  }

  /** The ongoing outage, if the last poll could not reach the broker. */
  get outage(): BrokerOutage | undefined {
    return this.#current;
  }

  /**
   * Milliseconds since the broker answers again after its last outage
   * (0 during one, Infinity if there was none).
   */
  quietFor(now: number): number {
    return now - this.#lastDownAt;
  }
}

function seconds(ms: number): string {
  return (Math.round(ms / 100) / 10).toString();
}

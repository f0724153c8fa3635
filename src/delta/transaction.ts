/**
 * The commit: put-if-absent of the next version, and on a lost race, reading
 * the winners, applying the conflict rules, and retrying at once at the next
 * free version, within a bounded budget. Every outcome a caller branches on
 * is a value, not an exception; only storage failures throw.
 *
 * Invariants:
 * - A transaction writes at most one commit, because every attempt carries
 *   the same unique `txnId` and a winner holding it counts as ours.
 * - A lost race costs reading the winners (each once) and one more put, never
 *   a wait: a winner means the table moved on, not that the store is
 *   overloaded, and a committer that sleeps falls further behind writers
 *   that do not, until it loses for its whole budget. Throttling is the
 *   store's to back off from (the S3 client retries 429 and 503 SlowDown
 *   with jittered backoff). Only a committer that yields to others
 *   (`yieldToOthers`: the compactor, to the writers) waits after a loss.
 * - A winner is judged from the same bytes whether it was read from the
 *   store or known from the committer in this process that created it
 *   (`known`); knowing it only saves the lost race and the read. Waiting
 *   for another committer's claim of a version is bounded, and the put
 *   stays conditional: a claim orders committers, it never replaces the
 *   store's put-if-absent.
 * - A commit is reported only once it is durable. A put that says `created`
 *   made it so; a commit recognised as ours among the winners (an earlier
 *   attempt's put applied, then failed or was answered ambiguously, such as
 *   a local link whose directory flush failed) or a batch already committed
 *   by an earlier transaction of the same app may not be, so the log is
 *   made durable (`syncPrefix`, where the store has it) before either is
 *   reported, and a failure of that flush is thrown.
 */

import { joinUri, type ObjectStore } from "../storage/object_store.ts";
import { backoffDelay, type BackoffOptions, sleep } from "../util/backoff.ts";
import { ENGINE_INFO } from "../version.ts";
import { type Action, type CommitInfo, serializeActions } from "./actions.ts";
import type { KnownCommits } from "./commit_feed.ts";
import { checkConflicts, type TransactionIntent } from "./conflicts.ts";
import { commitKey, LOG_DIR } from "./log_path.ts";
import { readCommit } from "./snapshot.ts";

/**
 * Winners read at once after a lost race; the window doubles while all
 * exist. Four covers the usual gap among a few writers in one round trip.
 */
const FIRST_READ_WINDOW = 4;
/** The most winners read at once, for a committer far behind the head. */
const MAX_READ_WINDOW = 16;

/** What a commit says about itself in `commitInfo`. */
export interface CommitDescription {
  operation: string;
  operationParameters?: Record<string, unknown>;
  operationMetrics?: Record<string, unknown>;
  isBlindAppend?: boolean;
  /** `commitInfo.tags` (Spark's `delta.rowTracking.preserved`, for one). */
  tags?: Record<string, string>;
}

/** Limits and hooks of the retry loop. */
export interface CommitOptions {
  /** The most put attempts. @default 100 */
  maxAttempts?: number;
  /** The longest time spent retrying, in ms. @default 60_000 */
  maxRetryMs?: number;
  /**
   * Wait after every lost race, with jitter, so that others commit first: for
   * a committer whose commit can wait (compaction yields to writers). Without
   * it a lost race is retried at once. @default false
   */
  yieldToOthers?: boolean;
  /** The wait after a lost race when yielding to others. @default { baseMs: 5, maxMs: 200 } */
  backoff?: BackoffOptions;
  /** The clock for `commitInfo.timestamp`. @default Date.now */
  now?: () => number;
  /**
   * Commits after `intent.readVersion` that the caller already read, oldest
   * first and contiguous (`readWinners`, started while the data uploads).
   * They are judged as lost races are, but cost no put: the first attempt
   * goes to the version after them. @default none
   */
  readAhead?: readonly (readonly Action[])[];
  /**
   * Commits of this table known without a read (`CommitFeed`: the versions
   * other committers in this process created). Known versions after
   * `intent.readVersion`, and after a lost race, are judged from memory, so
   * the put goes to the head without a lost race or a GET; every version
   * this commit creates is added. @default none
   */
  known?: KnownCommits;
  /** Called for each lost race, for metrics. */
  onLostRace?: (info: { version: number; attempt: number }) => void;
  /** Aborts waiting between attempts. */
  signal?: AbortSignal;
  /**
   * Called before every put attempt. A reason it returns abandons the commit
   * (outcome `abandoned`) without putting anything: the caller's bound on how
   * long it may hold uncommitted files ran out, or a file it would reference
   * is gone.
   */
  beforeAttempt?: () => Promise<string | undefined> | string | undefined;
  /**
   * Write `commitInfo.inCommitTimestamp` (the inCommitTimestamp feature, on
   * while `delta.enableInCommitTimestamps=true`): the clock, but always above
   * the timestamp of the version read (known, or read) and of every winner
   * met, taken again for the version of every attempt. @default false
   */
  inCommitTimestamps?: boolean;
  /**
   * Rewrites the actions for the version they are about to be put at, for
   * commits whose actions depend on it (row tracking: `defaultRowCommitVersion`,
   * and row ids after the high water mark of the winners). Called before the
   * first attempt and after every lost race, with every winner read so far,
   * oldest first. @default the actions unchanged
   */
  actionsFor?: (
    actions: readonly Action[],
    version: number,
    winners: readonly (readonly Action[])[],
  ) => readonly Action[];
}

/** The outcome of a commit. */
export type CommitOutcome =
  | { kind: "committed"; version: number; attempts: number; lostRaces: number }
  | { kind: "already-committed"; atVersion: number; reason: string; attempts: number }
  | { kind: "conflict"; atVersion: number; rule: string; reason: string; attempts: number }
  | { kind: "gave-up"; attempts: number; lastVersion: number; reason: string }
  | { kind: "abandoned"; attempts: number; lastVersion: number; reason: string };

/** Creates an intent for a transaction that read version `readVersion`. */
export function newIntent(
  readVersion: number,
  fields: Partial<Omit<TransactionIntent, "readVersion">> = {},
): TransactionIntent {
  return {
    txnId: fields.txnId ?? crypto.randomUUID(),
    readVersion,
    readFiles: fields.readFiles ?? new Set(),
    readWholeTable: fields.readWholeTable ?? false,
    appTxns: fields.appTxns ?? [],
    domains: fields.domains ?? [],
  };
}

/**
 * Commits `actions` (without a commitInfo; one is added first) as the next
 * version after `intent.readVersion`, retrying past concurrent commits.
 */
export async function commit(
  store: ObjectStore,
  actions: readonly Action[],
  intent: TransactionIntent,
  description: CommitDescription,
  options: CommitOptions = {},
): Promise<CommitOutcome> {
  const prepared = await prepareCommit(store, actions, intent, description, options);
  return await prepared.run();
}

/**
 * A commit whose body is built and, where the store stages bytes, already
 * written and flushed (`prepareCommit`). Exactly one of `run` and `discard`
 * is called.
 */
export interface PreparedCommit {
  /** Puts the body at the next free version, as `commit` does, and releases what was staged. */
  run(): Promise<CommitOutcome>;
  /** Releases what was staged without putting anything. */
  discard(): Promise<void>;
}

/**
 * The first half of `commit`: the commitInfo, the known commits after the
 * version read judged, and the body encoded and staged (on local disk a
 * temporary file written and flushed). Nothing is put, so a caller may
 * prepare while the data files it references are still being stored, and
 * run it once they are: the commit step is then the link and the log's
 * flush. Storage failures throw before anything was put.
 */
export async function prepareCommit(
  store: ObjectStore,
  actions: readonly Action[],
  intent: TransactionIntent,
  description: CommitDescription,
  options: CommitOptions = {},
): Promise<PreparedCommit> {
  const found = { inTable: false };
  const attempt = await prepareAttempts(store, actions, intent, description, options, found);
  return {
    async run() {
      const outcome = await attempt.run();
      if (
        found.inTable && (outcome.kind === "committed" || outcome.kind === "already-committed")
      ) {
        // Found in the log rather than created by this call's put: whoever
        // linked it may not have flushed the log, so flush it before saying so.
        const version = outcome.kind === "committed" ? outcome.version : outcome.atVersion;
        try {
          await store.syncPrefix?.(`${LOG_DIR}/`);
        } catch (error) {
          throw new Error(
            `Cannot make ${joinUri(store.uri, commitKey(version))} durable: the commit is ` +
              `in the log, but flushing the log to disk failed`,
            { cause: error },
          );
        }
      }
      return outcome;
    },
    discard: () => attempt.discard(),
  };
}

/**
 * The attempts of `commit`, prepared: `run` sets `found.inTable` when the
 * outcome comes from a commit found in the log (ours, or the batch already
 * committed) rather than from a put that created it.
 */
async function prepareAttempts(
  store: ObjectStore,
  actions: readonly Action[],
  intent: TransactionIntent,
  description: CommitDescription,
  options: CommitOptions,
  found: { inTable: boolean },
): Promise<{ run(): Promise<CommitOutcome>; discard(): Promise<void> }> {
  const maxAttempts = options.maxAttempts ?? 100;
  const maxRetryMs = options.maxRetryMs ?? 60_000;
  const now = options.now ?? Date.now;
  const backoff = options.backoff ?? { baseMs: 5, maxMs: 200 };
  let started = performance.now();
  let version = intent.readVersion + 1;
  let lostRaces = 0;
  // One body for every attempt: its txnId makes it ours wherever it lands.
  const info: CommitInfo = {
    timestamp: now(),
    operation: description.operation,
    operationParameters: description.operationParameters ?? {},
    ...(description.operationMetrics ? { operationMetrics: description.operationMetrics } : {}),
    isBlindAppend: description.isBlindAppend ?? false,
    ...(description.tags ? { tags: description.tags } : {}),
    readVersion: intent.readVersion,
    engineInfo: ENGINE_INFO,
    txnId: intent.txnId,
  };
  const winners: (readonly Action[])[] = [];
  let latestIct = 0;
  // An outcome decided before any put: nothing is staged for it.
  const decided = (outcome: CommitOutcome) => ({
    run: () => Promise.resolve(outcome),
    discard: () => Promise.resolve(),
  });
  for (const winner of options.readAhead ?? []) {
    const verdict = judge(winner, 0);
    if (verdict) return decided(verdict);
  }
  // Known commits after the version read: the first put goes past them.
  for (let winner; (winner = options.known?.get(version));) {
    const verdict = judge(winner, 0);
    if (verdict) return decided(verdict);
  }
  // The commitInfo is the first action, as in-commit timestamps require.
  let current = options.actionsFor ? options.actionsFor(actions, version, winners) : actions;
  const encode = () =>
    new TextEncoder().encode(serializeActions([{ commitInfo: info }, ...current]));
  if (options.inCommitTimestamps) {
    // The version read, from memory when this process made it: the first
    // put goes after it and after every winner judged above.
    const read = intent.readVersion < 0
      ? []
      : options.known?.get(intent.readVersion) ?? await readCommit(store, intent.readVersion);
    latestIct = Math.max(latestIct, ictOf(read));
    info.inCommitTimestamp = Math.max(info.timestamp!, latestIct + 1);
  }
  let body = encode();
  // Where the store can stage bytes, write them once and only claim keys in
  // the loop: a lost race then costs a link attempt rather than a sync.
  let staged = store.stage ? await store.stage(body, commitKey(version)) : undefined;
  let done = false;
  const release = async () => {
    if (done) return;
    done = true;
    await staged?.discard();
  };
  return {
    async run() {
      if (done) throw new Error("A prepared commit runs once");
      started = performance.now();
      try {
        return await attempts();
      } finally {
        await release();
      }
    },
    discard: release,
  };

  /**
   * After a lost race: the timestamp for the new version (the clock, above
   * every winner's), and the actions for it. The body changes, so it is
   * staged again.
   */
  async function advance(): Promise<void> {
    if (!options.inCommitTimestamps && !options.actionsFor) return;
    if (options.inCommitTimestamps) info.inCommitTimestamp = Math.max(now(), latestIct + 1);
    if (options.actionsFor) current = options.actionsFor(actions, version, winners);
    body = encode();
    if (staged) {
      await staged.discard();
      staged = await store.stage!(body, commitKey(version));
    }
  }

  /**
   * Judges the commit at `version`, which another transaction made, and
   * moves past it; an outcome if it ends this commit.
   */
  function judge(winner: readonly Action[], attempt: number): CommitOutcome | undefined {
    latestIct = Math.max(latestIct, ictOf(winner));
    winners.push(winner);
    const verdict = checkConflicts(intent, winner);
    switch (verdict.kind) {
      case "ours":
        found.inTable = true;
        return { kind: "committed", version, attempts: attempt, lostRaces };
      case "already-committed":
        found.inTable = true;
        return {
          kind: "already-committed",
          atVersion: version,
          reason: verdict.reason,
          attempts: attempt,
        };
      case "conflict":
        return {
          kind: "conflict",
          atVersion: version,
          rule: verdict.rule,
          reason: verdict.reason,
          attempts: attempt,
        };
    }
    version++;
    return undefined;
  }

  /** The known commits from `from` on, or undefined if `from` is not known. */
  function knownFrom(from: number): Action[][] | undefined {
    const found: Action[][] = [];
    for (let winner; (winner = options.known?.get(from + found.length));) found.push(winner);
    return found.length > 0 ? found : undefined;
  }

  async function attempts(): Promise<CommitOutcome> {
    for (let attempt = 1;; attempt++) {
      const abandon = await options.beforeAttempt?.();
      if (abandon !== undefined) {
        return {
          kind: "abandoned",
          attempts: attempt - 1,
          lastVersion: version - 1,
          reason: abandon,
        };
      }
      // Another committer of this process putting this version would win:
      // wait for it, and move past what it created, rather than race it.
      while (options.known?.claim && !(await options.known.claim(version))) {
        for (const winner of knownFrom(version) ?? []) {
          const verdict = judge(winner, attempt - 1);
          if (verdict) return verdict;
        }
        await advance();
      }
      const key = commitKey(version);
      let outcome;
      let published = false;
      // A version is published to the other committers of this process once
      // its key is taken, before the store has made it durable (a local
      // store's directory flush): the next committer links the next version
      // at once, and its own flush of the same directory, which it awaits
      // before saying `created`, makes both names durable. Waiting for this
      // flush too made every commit behind a claim pay two flushes.
      const publish = () => {
        published = true;
        options.known?.add(version, body);
      };
      try {
        outcome = staged
          ? await staged.putIfAbsent(key, publish)
          : await store.putIfAbsent(key, body);
      } catch (error) {
        if (!published) options.known?.release?.(version);
        throw error;
      }
      if (outcome === "created") {
        if (!published) options.known?.add(version, body);
        return { kind: "committed", version, attempts: attempt, lostRaces };
      }
      options.known?.release?.(version);
      lostRaces++;
      options.onLostRace?.({ version, attempt });
      // Judge every winner up to the head, oldest first.
      for (const winner of knownFrom(version) ?? await readWinners(store, version)) {
        const verdict = judge(winner, attempt);
        if (verdict) return verdict;
      }
      const elapsed = performance.now() - started;
      if (attempt >= maxAttempts || elapsed >= maxRetryMs) {
        return {
          kind: "gave-up",
          attempts: attempt,
          lastVersion: version - 1,
          reason: `lost the race for a version ${attempt} times in ${Math.round(elapsed)} ms`,
        };
      }
      // Losing a race taught us the new head: retry there at once, unless
      // this commit makes way for others.
      if (options.yieldToOthers) {
        await sleep(backoffDelay(lostRaces - 1, backoff), options.signal);
      }
      await advance();
    }
  }
}

/**
 * The commits from `version` up to the head, oldest first: read in windows
 * that double while every commit in them exists, so that a committer one
 * version behind pays one round of reads, and one far behind (a compaction
 * that took seconds) a few rounds rather than one per version. On a store
 * whose look is cheap, one by one: only the version after the head is missed.
 */
export async function readWinners(store: ObjectStore, version: number): Promise<Action[][]> {
  const found: Action[][] = [];
  // Where a look is cheap (local disk), one commit at a time: a window saves
  // round trips, but every version in it past the head is a failed look.
  const first = store.headIsCheap ? 1 : FIRST_READ_WINDOW;
  const most = store.headIsCheap ? 1 : MAX_READ_WINDOW;
  for (let window = first;; window = Math.min(window * 2, most)) {
    const from = version + found.length;
    const read = await Promise.all(
      Array.from({ length: window }, (_, i) => readCommit(store, from + i)),
    );
    for (const actions of read) {
      if (!actions) return found;
      found.push(actions);
    }
  }
}

/** The `inCommitTimestamp` of a commit's commitInfo, or 0. */
function ictOf(actions: readonly Action[] | undefined): number {
  for (const a of actions ?? []) {
    if ("commitInfo" in a && typeof a.commitInfo.inCommitTimestamp === "number") {
      return a.commitInfo.inCommitTimestamp;
    }
  }
  return 0;
}

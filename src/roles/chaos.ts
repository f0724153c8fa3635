/**
 * Chaos planning and scheduling for `--chaos`: which role to kill when, and
 * how, and which role to cut off from storage for how long. The plan is pure
 * and seeded, so a chaos run can be repeated; the scheduler only turns a plan
 * into timers.
 *
 * Kills cycle through the ways that hit each crash window of a role:
 * - writers: at a random moment, right after a data file is uploaded (before
 *   its commit), and right after a commit is created (before it is
 *   acknowledged);
 * - the compactor: mid-rewrite (after the compacted file is uploaded, before
 *   its commit), right after its commit, and at a random moment;
 * - vacuum: mid-delete (half of a pass's deletions done) and at a random
 *   moment.
 *
 * Storage faults are not planned here: each role's store draws them at the
 * configured rate, and a full disk starts half way into the run (see
 * storage/faults.ts and roles/chaos_store.ts).
 */

import { mixCounter, toUnit } from "../sources/prng.ts";
import type { ChaosPhase, RoleKind } from "./messages.ts";

/** The chaos modes of `--chaos`. */
export const CHAOS_MODES = [
  "none",
  "kill-writers",
  "kill-compactor",
  "kill-vacuum",
  "kill-ingest",
  "storage-faults",
  "partition",
  "disk-full",
] as const;

/** A chaos mode. */
export type ChaosMode = typeof CHAOS_MODES[number];

/** How one kill is done. */
export type KillMethod = "random" | ChaosPhase;

/** One planned kill of a writer (kept for `planKills`). */
export interface PlannedKill {
  atMs: number;
  writer: number;
  method: KillMethod;
}

/** One planned chaos action, at `atMs` after the run started. */
export type ChaosAction =
  | { kind: "kill"; atMs: number; target: string; method: KillMethod }
  | { kind: "partition"; atMs: number; target: string; durationMs: number };

/** The roles of a run, for choosing targets. */
export interface ChaosRoles {
  writers: number;
  /** Ingest roles (a Kafka-sourced stream). @default 0 */
  ingest?: number;
  compactor: boolean;
  vacuum: boolean;
}

/** What the plan needs of the configuration. */
export interface ChaosSettings {
  mode: ChaosMode;
  kills: number;
  partitionMs: number;
}

const METHODS: Record<RoleKind, readonly KillMethod[]> = {
  writer: ["after-upload", "after-commit", "random"],
  compactor: ["after-upload", "after-commit", "random"],
  vacuum: ["mid-delete", "random"],
  ingest: ["random", "after-upload", "after-commit"],
};

/** Plans `kills` writer kills over a run of `durationMs`, between 10% and 80% of it. */
export function planKills(
  kills: number,
  writers: number,
  durationMs: number,
  seed: number,
): PlannedKill[] {
  const out: PlannedKill[] = [];
  for (let k = 0; k < kills; k++) {
    const r1 = draw(seed, k * 2);
    const r2 = draw(seed, k * 2 + 1);
    out.push({
      atMs: Math.round(durationMs * (0.1 + 0.7 * r1)),
      writer: Math.floor(r2 * writers) % writers,
      method: METHODS.writer[k % METHODS.writer.length]!,
    });
  }
  return out.sort((a, b) => a.atMs - b.atMs);
}

/**
 * Plans the chaos actions of a run. Kills fall between 10% and 80% of the
 * run; a partition starts at a quarter of it. A mode whose target role does
 * not run plans nothing.
 *
 * @example
 * ```ts
 * planChaos({ mode: "kill-compactor", kills: 2, partitionMs: 0 },
 *   { writers: 3, compactor: true, vacuum: true }, 20_000, 42);
 * // [{ kind: "kill", target: "compactor-0", method: "after-upload", atMs: ... }, ...]
 * ```
 */
export function planChaos(
  settings: ChaosSettings,
  roles: ChaosRoles,
  durationMs: number,
  seed: number,
): ChaosAction[] {
  switch (settings.mode) {
    case "none":
    case "storage-faults":
    case "disk-full":
      return [];
    case "kill-writers":
      return planKills(settings.kills, roles.writers, durationMs, seed).map((k) => ({
        kind: "kill",
        atMs: k.atMs,
        target: `writer-${k.writer}`,
        method: k.method,
      }));
    case "kill-ingest": {
      const roles_ = roles.ingest ?? 0;
      if (roles_ === 0) return [];
      const out: ChaosAction[] = [];
      for (let k = 0; k < settings.kills; k++) {
        out.push({
          kind: "kill",
          atMs: Math.round(durationMs * (0.1 + 0.7 * draw(seed, k * 2))),
          target: `ingest-${Math.floor(draw(seed, k * 2 + 1) * roles_) % roles_}`,
          method: METHODS.ingest[k % METHODS.ingest.length]!,
        });
      }
      return out.sort((a, b) => a.atMs - b.atMs);
    }
    case "kill-compactor":
    case "kill-vacuum": {
      const kind: RoleKind = settings.mode === "kill-compactor" ? "compactor" : "vacuum";
      if (!(kind === "compactor" ? roles.compactor : roles.vacuum)) return [];
      const out: ChaosAction[] = [];
      for (let k = 0; k < settings.kills; k++) {
        out.push({
          kind: "kill",
          atMs: Math.round(durationMs * (0.1 + 0.7 * draw(seed, k * 2))),
          target: `${kind}-0`,
          method: METHODS[kind][k % METHODS[kind].length]!,
        });
      }
      return out.sort((a, b) => a.atMs - b.atMs);
    }
    case "partition": {
      // A role that talks to storage all the time, so that the partition bites:
      // a writer (or ingest role) or the compactor (vacuum only when nothing else runs).
      const targets = [
        ...Array.from({ length: roles.writers }, (_, w) => `writer-${w}`),
        ...Array.from({ length: roles.ingest ?? 0 }, (_, w) => `ingest-${w}`),
        ...(roles.compactor ? ["compactor-0"] : []),
      ];
      if (targets.length === 0 && roles.vacuum) targets.push("vacuum-0");
      if (targets.length === 0) return [];
      const target = targets[Math.floor(draw(seed, 1) * targets.length) % targets.length]!;
      return [{
        kind: "partition",
        atMs: Math.round(durationMs * 0.25),
        target,
        durationMs: settings.partitionMs,
      }];
    }
  }
}

/**
 * Runs a plan: calls `act` for each action at its time after `start()`, until
 * `stop()`. Actions not yet due when the run stops do not happen: `stop()`
 * returns them, for the run's report.
 */
export class ChaosScheduler {
  readonly #timers: ReturnType<typeof setTimeout>[] = [];
  readonly #pending = new Set<ChaosAction>();
  #stopped = false;

  constructor(
    readonly plan: readonly ChaosAction[],
    private readonly act: (action: ChaosAction) => void,
  ) {}

  /** Arms a timer per action. */
  start(): void {
    for (const action of this.plan) {
      this.#pending.add(action);
      this.#timers.push(setTimeout(() => {
        if (this.#stopped) return;
        this.#pending.delete(action);
        this.act(action);
      }, action.atMs));
    }
  }

  /** Cancels the actions that have not happened yet, and returns them. */
  stop(): ChaosAction[] {
    this.#stopped = true;
    this.#timers.forEach(clearTimeout);
    return [...this.#pending];
  }
}

/**
 * The plan of a run whose roles were all up `upMs` after it started, timed
 * from that moment: the actions spread over the time left of `durationMs`
 * (as `planChaos` spreads them over a whole run), so that a slow start does
 * not push them before the roles exist or past the end. A run without a
 * duration (0: until stopped) acts at once.
 */
export function planFromStart(
  settings: ChaosSettings,
  roles: ChaosRoles,
  durationMs: number,
  upMs: number,
  seed: number,
): ChaosAction[] {
  return planChaos(settings, roles, durationMs > 0 ? Math.max(0, durationMs - upMs) : 0, seed);
}

/** Why a planned chaos action did not happen, for the report. */
export function missedDetail(
  action: ChaosAction,
  why: "not-up" | "stopped" | "not-reached",
  atS?: number,
): string {
  const what = action.kind === "kill"
    ? `kill (${action.method === "random" ? "random moment" : action.method})`
    : `partition of ${action.target}`;
  switch (why) {
    case "not-up":
      return `${what} did not happen: the run ended before every role was up`;
    case "stopped":
      return `${what} did not happen: the run stopped before its time`;
    case "not-reached":
      return `${what} did not happen: armed at ${atS?.toFixed(1)} s, the role did not reach ${
        action.kind === "kill" ? action.method : "it"
      } before the run ended`;
  }
}

function draw(seed: number, n: number): number {
  return toUnit(mixCounter(seed ^ 0x5eed, n));
}

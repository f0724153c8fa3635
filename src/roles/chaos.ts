/**
 * Chaos planning for `--chaos kill-writers[=N]`: when to kill which writer,
 * and how. Pure and seeded, so a chaos run can be repeated. Kills alternate
 * between three ways so that each crash window is hit: at a random moment,
 * right after a data file is uploaded (before its commit), and right after a
 * commit is created (before it is acknowledged).
 */

import { mixCounter, toUnit } from "../sources/prng.ts";
import type { ChaosPhase } from "./messages.ts";

/** How one kill is done. */
export type KillMethod = "random" | ChaosPhase;

/** One planned kill. */
export interface PlannedKill {
  atMs: number;
  writer: number;
  method: KillMethod;
}

const METHODS: readonly KillMethod[] = ["after-upload", "after-commit", "random"];

/** Plans `kills` kills over a run of `durationMs`, between 10% and 80% of it. */
export function planKills(
  kills: number,
  writers: number,
  durationMs: number,
  seed: number,
): PlannedKill[] {
  const out: PlannedKill[] = [];
  for (let k = 0; k < kills; k++) {
    const r1 = toUnit(mixCounter(seed ^ 0x5eed, k * 2));
    const r2 = toUnit(mixCounter(seed ^ 0x5eed, k * 2 + 1));
    out.push({
      atMs: Math.round(durationMs * (0.1 + 0.7 * r1)),
      writer: Math.floor(r2 * writers) % writers,
      method: METHODS[k % METHODS.length]!,
    });
  }
  return out.sort((a, b) => a.atMs - b.atMs);
}

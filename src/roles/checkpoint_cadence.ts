/**
 * When the stream's compactor writes a checkpoint: the rule, as a pure
 * predicate over what it knows (easy to test with any figures, no clock).
 *
 * PROTOCOL.md leaves when to checkpoint to writers, and a skipped checkpoint
 * is always correct: readers replay the JSON commits after the last one.
 * The table's `delta.checkpointInterval` (Delta's 10 where it declares none)
 * is the shortest gap, and two bounds stretch it once checkpoints get dear:
 *
 * - **Cost in wall time.** A checkpoint waits until `COST_FACTOR` times the
 *   last one's duration has passed since it ended, so checkpointing takes at
 *   most about 1/(COST_FACTOR + 1), under 5%, of the compactor's time. A
 *   stream commits 10 to 80 versions a second, so on a table with Delta's
 *   default interval the compactor would otherwise checkpoint after every
 *   pass, and each checkpoint carries every tombstone of the table's
 *   retention (a week where it declares none): in a long run millions of
 *   removes rewritten every few seconds.
 * - **Size in versions.** A checkpoint of `actions` actions waits at least
 *   `actions / ACTIONS_PER_VERSION` versions, so each version committed
 *   pays for the rewrite of at most that many actions. This bound needs no
 *   measurement, so it holds from the first checkpoint after a restart,
 *   while the time bound has none to go by yet.
 *
 * The time bound alone could let the log grow without end on a fast
 * machine-bound stream (a 1,000 s checkpoint waits 20,000 s, 700,000
 * versions at 37 a second), and every reader replays each commit after the
 * checkpoint. So once `actions / VERSIONS_CAP_DIVISOR` versions have passed
 * (and the interval), a checkpoint is due whatever the time: a reader then
 * replays at most one commit per 10 actions of the checkpoint it reads.
 *
 * While checkpoints are cheap (under `ACTIONS_PER_VERSION × interval`
 * actions and quick), both stretching bounds are below the interval, which
 * decides alone. Tombstones are never dropped early to make checkpoints
 * cheaper: they stay for the table's retention; only how often they are
 * rewritten changes.
 */

/** A checkpoint waits this many times the last one's duration after it. */
export const COST_FACTOR = 20;

/**
 * Actions a checkpoint may rewrite per version committed since the last.
 * A stream's checkpoints took 12 to 130 µs per action on a loaded 2-core
 * machine (docs/benchmarks.md, "Checkpoint cadence"), so this is at most
 * about 13 ms of checkpoint per version; the interval stays the rule up to
 * 1,000 actions.
 */
export const ACTIONS_PER_VERSION = 100;

/** A checkpoint is due, whatever its cost, once actions / this versions have passed. */
export const VERSIONS_CAP_DIVISOR = 10;

/** What the compactor knows when it asks whether a checkpoint is due. */
export interface CheckpointCadence {
  /** The table's latest version. */
  version: number;
  /** The version of the last checkpoint (0 where there is none). */
  lastCheckpoint: number;
  /** The table's `delta.checkpointInterval`, or Delta's default. */
  interval: number;
  /** Actions the next checkpoint would hold: files, tombstones and the rest. */
  actions: number;
  /** How long the compactor took for its last checkpoint, if it wrote one. */
  lastCheckpointMs?: number | undefined;
  /** Milliseconds since that checkpoint ended. */
  sinceLastCheckpointMs?: number | undefined;
}

/** The fewest versions between two checkpoints of `actions` actions. */
export function versionsBetweenCheckpoints(interval: number, actions: number): number {
  return Math.max(interval, Math.ceil(actions / ACTIONS_PER_VERSION));
}

/**
 * The most versions between two checkpoints of `actions` actions: past it
 * a checkpoint is due whatever it costs, so that readers' replay stays in
 * proportion to the checkpoint.
 */
export function versionsCap(interval: number, actions: number): number {
  return Math.max(interval, Math.ceil(actions / VERSIONS_CAP_DIVISOR));
}

/** Whether the compactor writes a checkpoint now (module header). */
export function checkpointDue(c: CheckpointCadence): boolean {
  const since = c.version - c.lastCheckpoint;
  if (since < versionsBetweenCheckpoints(c.interval, c.actions)) return false;
  if (since >= versionsCap(c.interval, c.actions)) return true;
  if (c.lastCheckpointMs === undefined || c.sinceLastCheckpointMs === undefined) return true;
  return c.sinceLastCheckpointMs >= c.lastCheckpointMs * COST_FACTOR;
}

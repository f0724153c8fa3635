/**
 * Loading a snapshot: find the log segment, read the checkpoint parts and
 * the commits after them in parallel, replay newest first, and check that
 * neuralake can read the table. Also: following the log forward from a
 * loaded snapshot, and reading single commits.
 */

import { joinUri, type ObjectStore } from "../storage/object_store.ts";
import { mapLimit } from "../util/concurrency.ts";
import { type Action, parseCommit } from "./actions.ts";
import type { KnownCommits } from "./commit_feed.ts";
import type {
  CheckpointCodec,
  CheckpointReadContext,
  ColumnarCheckpointPart,
} from "./checkpoint.ts";
import { commitKey, sidecarKeyOf } from "./log_path.ts";
import {
  buildLogSegment,
  type LogSegment,
  probeIsTrusted,
  probeLogSegment,
} from "./log_segment.ts";
import { logRetentionOf } from "./checkpoint.ts";
import { checkCanRead } from "./protocol.ts";
import {
  applyCommit,
  type CheckpointInput,
  replay,
  type SnapshotState,
  splitAdds,
} from "./replay.ts";

/** A loaded snapshot: the state plus how it was reconstructed. */
export interface Snapshot extends SnapshotState {
  segment: LogSegment;
}

/** Options for loading a snapshot. */
export interface LoadOptions {
  /** The version to load (time travel). @default the latest */
  version?: number;
  /** Skip the reader feature check (for commands that only print metadata). @default false */
  skipProtocolCheck?: boolean;
  /**
   * Commits known without a read (`CommitFeed`): the exact bytes this
   * process put, so the snapshot is the one the reads would give. The log is
   * listed and the checkpoint read as always. @default none
   */
  known?: KnownCommits;
}

/** How many objects are read at once while loading. */
const READ_CONCURRENCY = 32;

/**
 * Loads a snapshot of the table in `store`. The latest version of a table
 * on a store with cheap lookups (local disk) is found without listing the
 * log when `_last_checkpoint` allows it (`probeLogSegment`); every other
 * open lists the log from the hinted checkpoint.
 */
export async function loadSnapshot(
  store: ObjectStore,
  codec: CheckpointCodec,
  options: LoadOptions = {},
): Promise<Snapshot> {
  if (options.version === undefined && store.headIsCheap) {
    const probed = await probeLogSegment(store);
    if (probed) {
      const snapshot = await loadSegment(store, codec, probed.segment, options);
      const retention = logRetentionOf(snapshot.metadata.configuration);
      if (probeIsTrusted(probed, retention, Date.now())) return snapshot;
      // Idle for longer than cleanup waits: a commit after the hinted
      // checkpoint may have been cleaned up under a newer one. The listing
      // decides (and names a gap); the state read stands if the listing ends
      // at the same version, as the commits up to it were all read.
      const listed = await buildLogSegment(store);
      if (listed.version === snapshot.version) return snapshot;
      return await loadSegment(store, codec, listed, options);
    }
  }
  return await loadSegment(store, codec, await buildLogSegment(store, options.version), options);
}

async function loadSegment(
  store: ObjectStore,
  codec: CheckpointCodec,
  segment: LogSegment,
  options: LoadOptions,
): Promise<Snapshot> {
  const [checkpoint, commits] = await Promise.all([
    segment.checkpoint
      ? readCheckpointInput(store, codec, segment.checkpoint.keys)
      : Promise.resolve([] as Action[]),
    mapLimit(
      segment.commits,
      READ_CONCURRENCY,
      async (c) => options.known?.get(c.version) ?? await readCommitAt(store, c.key),
    ),
  ]);
  commits.reverse();
  const state = replay(segment.version, commits, checkpoint, store.uri);
  if (!options.skipProtocolCheck) checkCanRead(state.protocol, state.metadata);
  // Assigned, not spread: a spread would build the deferred map of files.
  return Object.assign(state, { segment });
}

/**
 * A checkpoint as replay takes it: every part read as `readCheckpoint` reads
 * it, the adds of the Parquet ones kept as columns (`readColumnar`).
 */
async function readCheckpointInput(
  store: ObjectStore,
  codec: CheckpointCodec,
  keys: readonly string[],
): Promise<CheckpointInput> {
  const parts = await readCheckpointParts(store, codec, keys);
  return {
    actions: parts.flatMap((p) => p.actions),
    adds: parts.map((p) => p.adds),
    all: () => parts.flatMap((p) => p.all()),
  };
}

/**
 * Reads every action of a checkpoint: all its top-level files (every part of
 * a multi-part checkpoint; a UUID-named one in JSON or Parquet), then the
 * sidecar files that v2 checkpoints name. Any file that is missing or
 * unreadable is an error naming it: a checkpoint is never read in part.
 */
export async function readCheckpoint(
  store: ObjectStore,
  codec: CheckpointCodec,
  keys: readonly string[],
): Promise<Action[]> {
  // Each part's adds are built once every part is read, so that an add of a
  // part without the metadata is read knowing the table's partition columns.
  return (await readCheckpointParts(store, codec, keys)).flatMap((p) => p.all());
}

/** The files of a checkpoint in order (top-level files, then sidecars); see `readCheckpoint`. */
async function readCheckpointParts(
  store: ObjectStore,
  codec: CheckpointCodec,
  keys: readonly string[],
): Promise<ColumnarCheckpointPart[]> {
  // The metadata, once the file holding it is read, for the adds of the others.
  const context: CheckpointReadContext = {};
  const top = await mapLimit(
    keys,
    4,
    (key) =>
      readCheckpointPart(store, codec, key, context).catch((error) => {
        throw new Error(`Cannot read checkpoint ${joinUri(store.uri, key)}`, { cause: error });
      }),
  );
  for (const part of top) {
    for (const action of part.actions) if ("metaData" in action) context.metadata = action.metaData;
  }
  const sidecars: string[] = [];
  // Sidecar actions are never adds: the other actions hold them all.
  for (const action of top.flatMap((p) => p.actions)) {
    if (!("sidecar" in action)) continue;
    const key = sidecarKeyOf(action.sidecar.path);
    if (!key) {
      throw new Error(
        `Cannot read checkpoint ${
          joinUri(store.uri, keys[0]!)
        }: sidecar path "${action.sidecar.path}" is not a file of _delta_log/_sidecars`,
      );
    }
    sidecars.push(key);
  }
  if (sidecars.length === 0) return top;
  const files = await mapLimit(
    sidecars,
    4,
    (key) =>
      readParquetPart(store, codec, key, context).catch((error) => {
        throw new Error(
          `Cannot read sidecar ${joinUri(store.uri, key)} of checkpoint ${
            joinUri(store.uri, keys[0]!)
          }`,
          { cause: error },
        );
      }),
  );
  return top.concat(files);
}

/** One top-level checkpoint file, as a part. */
async function readCheckpointPart(
  store: ObjectStore,
  codec: CheckpointCodec,
  key: string,
  context: CheckpointReadContext,
): Promise<ColumnarCheckpointPart> {
  if (!key.endsWith(".json")) return await readParquetPart(store, codec, key, context);
  return partOf(await readCheckpointActions(store, codec, key));
}

/** One Parquet checkpoint file, its adds as columns where the codec can. */
async function readParquetPart(
  store: ObjectStore,
  codec: CheckpointCodec,
  key: string,
  context: CheckpointReadContext,
): Promise<ColumnarCheckpointPart> {
  if (codec.readColumnar) return await codec.readColumnar(store, key, context);
  return partOf(await codec.read(store, key, context));
}

/** Actions already built, as a part. */
function partOf(actions: Action[]): ColumnarCheckpointPart {
  const { adds, others } = splitAdds(actions);
  return { actions: others, adds, all: () => actions };
}

/** One top-level checkpoint file: JSON lines (a UUID-named v2 checkpoint) or Parquet. */
export async function readCheckpointActions(
  store: ObjectStore,
  codec: CheckpointCodec,
  key: string,
): Promise<Action[]> {
  if (!key.endsWith(".json")) return await codec.read(store, key);
  const bytes = await store.get(key);
  if (!bytes) throw new Error(`Object not found: ${joinUri(store.uri, key)}`);
  return parseCommit(new TextDecoder().decode(bytes), key);
}

/** Reads and parses the commit file under `key`; it must exist. */
async function readCommitAt(store: ObjectStore, key: string): Promise<Action[]> {
  const bytes = await store.get(key);
  if (!bytes) {
    throw new Error(`Commit ${joinUri(store.uri, key)} disappeared while the table was loading`);
  }
  return parseCommit(new TextDecoder().decode(bytes), key);
}

/** Reads the commit at `version`, or undefined if it does not exist (yet). */
export async function readCommit(
  store: ObjectStore,
  version: number,
): Promise<Action[] | undefined> {
  const key = commitKey(version);
  const bytes = await store.get(key);
  return bytes ? parseCommit(new TextDecoder().decode(bytes), key) : undefined;
}

/**
 * Moves a state forward to the newest version by reading the commits after
 * it one by one. Returns the number of commits applied. Cheap when the state
 * is close to the head, which is how long-running roles use it. Commits
 * in `known` (made by this process's committers) are not read.
 */
export async function followLog(
  store: ObjectStore,
  state: SnapshotState,
  known?: KnownCommits,
): Promise<number> {
  let applied = 0;
  for (;;) {
    const version = state.version + 1;
    const actions = known?.get(version) ?? await readCommit(store, version);
    if (!actions) return applied;
    applyCommit(state, actions, store.uri);
    applied++;
  }
}

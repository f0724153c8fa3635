/**
 * Action reconciliation: the table state that a sequence of commits (and an
 * optional checkpoint) defines. Replay runs newest first and keeps the first
 * action it meets for each file path, app id and domain, as PROTOCOL.md's
 * "Action Reconciliation" describes; `applyCommit` then moves a state forward
 * one commit at a time for long-running readers.
 *
 * Invariants: a path is either active (in `files`) or a tombstone, never
 * both; the newest protocol and metadata win; file keys are decoded paths.
 */

import type {
  Action,
  Add,
  DeletionVectorDescriptor,
  DomainMetadata,
  Metadata,
  Protocol,
  Remove,
  Txn,
} from "./actions.ts";
import { commitKey } from "./log_path.ts";
import { canonicalAbsolutePath, decodeFilePath, isAbsoluteFilePath } from "./partition.ts";
import { protocolProblem } from "./protocol.ts";
import { parseSchemaString, type StructType } from "./schema.ts";
import { stringHash } from "../util/string_hash.ts";

/** The reconciled state of a table at one version. */
export interface SnapshotState {
  version: number;
  protocol: Protocol;
  metadata: Metadata;
  schema: StructType;
  /** Active files by decoded path. */
  files: Map<string, Add>;
  /** Removed files by decoded path (for vacuum and checkpoints). */
  tombstones: Map<string, Remove>;
  /** The last committed version per application id. */
  txns: Map<string, Txn>;
  /** Domain metadata by domain name, including removed markers. */
  domains: Map<string, DomainMetadata>;
}

/** The key that identifies a file: its decoded path plus its deletion vector, if any. */
export function fileKey(path: string, dvId?: string): string {
  // An absolute path is keyed by its canonical form (`file:/p` and `/p` are
  // one file); only readers follow it (writers refuse it by decodeFilePath's error).
  const decoded = isAbsoluteFilePath(path) ? canonicalAbsolutePath(path) : decodeFilePath(path);
  return dvId ? `${decoded}\u0000${dvId}` : decoded;
}

function dvIdOf(action: Add | Remove): string | undefined {
  return dvIdOfDescriptor(action.deletionVector);
}

function dvIdOfDescriptor(dv: DeletionVectorDescriptor | null | undefined): string | undefined {
  return dv ? `${dv.storageType}${dv.pathOrInlineDv}@${dv.offset ?? ""}` : undefined;
}

/**
 * The add actions of a checkpoint kept as columns (a `CheckpointCodec`'s
 * `readColumnar`): replay reads each one's path and deletion vector, and an
 * `Add` is built only when a caller asks for the files, once.
 */
export interface CheckpointAdds {
  readonly length: number;
  /** The path of add `i`, as stored (not decoded). */
  path(i: number): string;
  /** `stringHash(path(i))`, where the reader has it at hand (hashed from the path's bytes). */
  pathHash?: (i: number) => number;
  /** The deletion vector of add `i`, if it has one. */
  deletionVector(i: number): DeletionVectorDescriptor | undefined;
  /** Builds add `i`. */
  add(i: number): Add;
}

/**
 * A checkpoint as replay takes it: its adds as columns, its other actions
 * as objects, and every action in the checkpoint's order for the rare
 * checkpoint that repeats a file.
 */
export interface CheckpointInput {
  /** Every action but the adds of `adds`. */
  actions: readonly Action[];
  adds: readonly CheckpointAdds[];
  /** Every action in order, adds included. */
  all(): readonly Action[];
}

/** A plain list of checkpoint actions as replay's input. */
export function checkpointInputOf(actions: readonly Action[]): CheckpointInput {
  const { adds, others } = splitAdds(actions);
  return { actions: others, adds: [adds], all: () => actions };
}

/** Checkpoint actions already built: their adds as `CheckpointAdds`, and the other actions. */
export function splitAdds(actions: readonly Action[]): { adds: CheckpointAdds; others: Action[] } {
  const list: Add[] = [];
  const others: Action[] = [];
  for (const action of actions) {
    if ("add" in action) list.push(action.add);
    else others.push(action);
  }
  return { adds: addsOf(list), others };
}

/** Adds already built, as `CheckpointAdds`. */
export function addsOf(list: readonly Add[]): CheckpointAdds {
  return {
    length: list.length,
    path: (i) => list[i]!.path,
    deletionVector: (i) => list[i]!.deletionVector ?? undefined,
    add: (i) => list[i]!,
  };
}

/**
 * Replays commits (given newest first, each as its actions) and then the
 * checkpoint's actions into a state at `version`.
 */
export function replay(
  version: number,
  commitsNewestFirst: readonly (readonly Action[])[],
  checkpointActions: readonly Action[] | CheckpointInput,
  where: string,
): SnapshotState {
  const checkpoint = Array.isArray(checkpointActions)
    ? checkpointInputOf(checkpointActions)
    : checkpointActions as CheckpointInput;
  let protocol: Protocol | undefined;
  let metadata: Metadata | undefined;
  const files = new Map<string, Add>();
  const tombstones = new Map<string, Remove>();
  const seen = new Set<string>();
  const txns = new Map<string, Txn>();
  const domains = new Map<string, DomainMetadata>();

  const visit = (action: Action) => {
    if ("add" in action) {
      const key = fileKey(action.add.path, dvIdOf(action.add));
      if (!seen.has(key)) {
        seen.add(key);
        files.set(key, action.add);
      }
    } else if ("remove" in action) {
      const key = fileKey(action.remove.path, dvIdOf(action.remove));
      if (!seen.has(key)) {
        seen.add(key);
        tombstones.set(key, action.remove);
      }
    } else if ("txn" in action) {
      if (!txns.has(action.txn.appId)) txns.set(action.txn.appId, action.txn);
    } else if ("domainMetadata" in action) {
      const d = action.domainMetadata;
      if (!domains.has(d.domain)) domains.set(d.domain, d);
    } else if ("metaData" in action) {
      metadata ??= action.metaData;
    } else if ("protocol" in action) {
      protocol ??= action.protocol;
    }
  };
  // The version whose commit (or checkpoint) carries the protocol in force.
  let protocolVersion = version - commitsNewestFirst.length;
  let protocolIn = "the checkpoint";
  for (let i = 0; i < commitsNewestFirst.length; i++) {
    // Within one commit an add and a remove of the same path cannot both be
    // live; a remove of an older file and an add with a new DV can, and they
    // have different keys.
    for (const action of commitsNewestFirst[i]!) visit(action);
    if (protocol && protocolIn === "the checkpoint") {
      protocolVersion = version - i;
      protocolIn = commitKey(protocolVersion);
    }
  }
  const pending = replayCheckpoint(checkpoint, files, tombstones, visit);
  if (!pending) {
    // The checkpoint repeats a file: replay it action by action, the first one winning.
    for (const [key] of files) if (!seen.has(key)) files.delete(key);
    for (const [key] of tombstones) if (!seen.has(key)) tombstones.delete(key);
    for (const action of checkpoint.all()) visit(action);
  }

  if (!protocol) throw new Error(`Cannot load ${where}: no protocol action in the log`);
  if (!metadata) throw new Error(`Cannot load ${where}: no metaData action in the log`);
  checkProtocol(protocol, protocolVersion, protocolIn, where);
  const state = {
    version,
    protocol,
    metadata,
    schema: parseSchemaString(metadata.schemaString),
    tombstones,
    txns,
    domains,
  } as SnapshotState;
  if (pending && pending.count > 0) deferFiles(state, files, pending);
  else state.files = files;
  return state;
}

/**
 * Refuses a protocol that breaks PROTOCOL.md's rules (`protocolProblem`),
 * naming the table, the version that set it and the file it is in: a reader
 * or writer must not guess what such a table needs.
 */
function checkProtocol(protocol: Protocol, version: number, file: string, where: string): void {
  const problem = protocolProblem(protocol);
  if (problem === undefined) return;
  throw new Error(
    `Cannot open table ${where}: the protocol set at version ${version} (${file}) is invalid: ${problem}`,
  );
}

/**
 * A checkpoint's active files, not yet in the `files` map nor built as
 * `Add`s: for each part, the indexes of its live adds, and their keys.
 */
class PendingFiles {
  count = 0;
  readonly keys: string[] = [];
  readonly #parts: { adds: CheckpointAdds; at: Int32Array; n: number }[] = [];
  #built: Add[] | undefined;

  /** Starts taking the live adds of one part (at most `max` of them). */
  part(adds: CheckpointAdds, max: number): { adds: CheckpointAdds; at: Int32Array; n: number } {
    const part = { adds, at: new Int32Array(max), n: 0 };
    this.#parts.push(part);
    return part;
  }

  /** The adds, built on the first call, the same objects after. */
  adds(): Add[] {
    if (this.#built) return this.#built;
    const out = new Array<Add>(this.count);
    let k = 0;
    for (const { adds, at, n } of this.#parts) {
      for (let i = 0; i < n; i++) out[k++] = adds.add(at[i]!);
    }
    this.#parts.length = 0;
    return this.#built = out;
  }
}

/** The states whose `files` map is not built yet: the files it will hold. */
const deferred = new WeakMap<SnapshotState, { files: Map<string, Add>; pending: PendingFiles }>();

/**
 * Gives `state` a `files` map that is built on first use: hashing 100,000
 * freshly decoded paths is a third of opening a table that big, and a scan
 * or a checkpoint only walks the files (`activeFiles`, `fileCount`). The
 * checkpoint's `Add`s are built on first use too, by either.
 */
function deferFiles(state: SnapshotState, files: Map<string, Add>, pending: PendingFiles): void {
  deferred.set(state, { files, pending });
  Object.defineProperty(state, "files", {
    configurable: true,
    enumerable: true,
    get(this: SnapshotState) {
      const { keys } = pending;
      const adds = pending.adds();
      for (let i = 0; i < keys.length; i++) files.set(keys[i]!, adds[i]!);
      deferred.delete(this);
      Object.defineProperty(this, "files", {
        value: files,
        writable: true,
        enumerable: true,
        configurable: true,
      });
      return files;
    },
    set(this: SnapshotState, value: Map<string, Add>) {
      deferred.delete(this);
      Object.defineProperty(this, "files", {
        value,
        writable: true,
        enumerable: true,
        configurable: true,
      });
    },
  });
}

/** The active files of a state, without building its map of paths if it is not built yet. */
export function activeFiles(state: SnapshotState): Iterable<Add> {
  const lazy = deferred.get(state);
  if (!lazy) return state.files.values();
  const { files, pending } = lazy;
  return (function* () {
    yield* files.values();
    yield* pending.adds();
  })();
}

/** The number of active files of a state, without building its map of paths or its adds. */
export function fileCount(state: SnapshotState): number {
  const lazy = deferred.get(state);
  return lazy ? lazy.files.size + lazy.pending.count : state.files.size;
}

/**
 * Replays a checkpoint's actions after the commits (whose files are in
 * `files` and `tombstones`). A checkpoint is reconciled, so each file key
 * appears in it once: its adds are returned to be put into `files` later
 * (`deferFiles`), its removes go into `tombstones`, and each is checked
 * only against the commits' keys. Returns undefined, having changed
 * nothing, if the checkpoint repeated a key or both added and removed one
 * after all; the caller then replays it action by action.
 *
 * The checks hash each path once in JavaScript into a table of integers:
 * V8 hashes a fresh string several times slower, and the commits after a
 * checkpoint are few, so they are looked up in the checkpoint's table, not
 * the other way round.
 */
function replayCheckpoint(
  checkpoint: CheckpointInput,
  files: Map<string, Add>,
  tombstones: Map<string, Remove>,
  visit: (action: Action) => void,
): PendingFiles | undefined {
  const keys: string[] = [];
  let most = checkpoint.actions.length;
  for (const adds of checkpoint.adds) most += adds.length;
  const hashes = new Int32Array(most);
  // The checkpoint's adds come first among the keys, part by part; then its removes.
  for (const adds of checkpoint.adds) {
    const pathHash = adds.pathHash;
    for (let i = 0; i < adds.length; i++) {
      const path = adds.path(i);
      const key = fileKey(path, dvIdOfDescriptor(adds.deletionVector(i)));
      // A path that is its own key (nothing decoded, no deletion vector) keeps its hash.
      hashes[keys.length] = key === path && pathHash ? pathHash(i) : stringHash(key);
      keys.push(key);
    }
  }
  const addCount = keys.length;
  const removes: Remove[] = [];
  const others: Action[] = [];
  for (const action of checkpoint.actions) {
    if ("remove" in action) {
      const key = fileKey(action.remove.path, dvIdOf(action.remove));
      hashes[keys.length] = stringHash(key);
      keys.push(key);
      removes.push(action.remove);
    } else if ("add" in action) {
      throw new TypeError("A checkpoint's adds are given as columns, not among its actions");
    } else others.push(action);
  }
  const table = new KeyTable(keys, hashes);
  if (table.duplicate) return undefined;
  // Files the commits after the checkpoint added or removed: theirs stand.
  const shadowed = new Uint8Array(keys.length);
  for (const map of [files, tombstones]) {
    for (const key of map.keys()) {
      const at = table.indexOf(key);
      if (at >= 0) shadowed[at] = 1;
    }
  }
  for (const action of others) visit(action);
  const pending = new PendingFiles();
  let k = 0;
  for (const adds of checkpoint.adds) {
    const part = pending.part(adds, adds.length);
    for (let i = 0; i < adds.length; i++, k++) {
      if (shadowed[k]) continue;
      pending.keys.push(keys[k]!);
      part.at[part.n++] = i;
    }
    pending.count += part.n;
  }
  for (let i = addCount; i < keys.length; i++) {
    if (!shadowed[i]) tombstones.set(keys[i]!, removes[i - addCount]!);
  }
  return pending;
}

/**
 * An open-addressing table of distinct strings by index, hashed in
 * JavaScript (`stringHash`, given for each string). `duplicate` says whether
 * two of the strings were equal. Built in one function over local typed
 * arrays: the build is the hot part of opening a table of 100,000 files.
 */
class KeyTable {
  readonly duplicate: boolean;
  readonly #keys: readonly string[];
  readonly #slots: Int32Array;
  readonly #hashes: Int32Array;
  readonly #mask: number;

  /** `hashOfKey[i]` is `stringHash(keys[i])`. */
  constructor(keys: readonly string[], hashOfKey: Int32Array) {
    this.#keys = keys;
    let size = 16;
    while (size < keys.length * 2) size *= 2;
    const mask = size - 1;
    const slots = new Int32Array(size).fill(-1);
    const hashes = new Int32Array(size);
    let duplicate = false;
    outer: for (let i = 0; i < keys.length; i++) {
      const key = keys[i]!;
      const hash = hashOfKey[i]!;
      for (let slot = hash & mask;; slot = (slot + 1) & mask) {
        const at = slots[slot]!;
        if (at < 0) {
          slots[slot] = i;
          hashes[slot] = hash;
          break;
        }
        if (hashes[slot] === hash && keys[at] === key) {
          duplicate = true;
          break outer;
        }
      }
    }
    this.duplicate = duplicate;
    this.#mask = mask;
    this.#slots = slots;
    this.#hashes = hashes;
  }

  /** The index of `key` among the strings, or -1. */
  indexOf(key: string): number {
    const hash = stringHash(key);
    for (let slot = hash & this.#mask;; slot = (slot + 1) & this.#mask) {
      const at = this.#slots[slot]!;
      if (at < 0) return -1;
      if (this.#hashes[slot] === hash && this.#keys[at] === key) return at;
    }
  }
}

/**
 * Applies the commit at `state.version + 1` to a state, in place. Used by
 * roles that follow the log rather than reload it.
 */
export function applyCommit(
  state: SnapshotState,
  actions: readonly Action[],
  where = "(unnamed)",
): void {
  for (const action of actions) {
    if ("protocol" in action) {
      checkProtocol(action.protocol, state.version + 1, commitKey(state.version + 1), where);
    }
  }
  for (const action of actions) {
    if ("add" in action) {
      const key = fileKey(action.add.path, dvIdOf(action.add));
      state.tombstones.delete(key);
      state.files.set(key, action.add);
    } else if ("remove" in action) {
      const key = fileKey(action.remove.path, dvIdOf(action.remove));
      state.files.delete(key);
      state.tombstones.set(key, action.remove);
    } else if ("txn" in action) {
      state.txns.set(action.txn.appId, action.txn);
    } else if ("domainMetadata" in action) {
      state.domains.set(action.domainMetadata.domain, action.domainMetadata);
    } else if ("metaData" in action) {
      state.metadata = action.metaData;
      state.schema = parseSchemaString(action.metaData.schemaString);
    } else if ("protocol" in action) {
      state.protocol = action.protocol;
    }
  }
  state.version += 1;
}

/**
 * Drops the tombstones whose `deletionTimestamp` is at or before `cutoffMs`
 * (a tombstone without one counts as expired, as in checkpoints), in place.
 * A state that follows the log for days would otherwise keep every file
 * ever removed; checkpoints drop the same tombstones (PROTOCOL.md,
 * "Checkpoints": expired tombstones may be left out). Returns how many went.
 */
export function expireTombstones(state: SnapshotState, cutoffMs: number): number {
  let expired = 0;
  for (const [key, remove] of state.tombstones) {
    if ((remove.deletionTimestamp ?? 0) <= cutoffMs) {
      state.tombstones.delete(key);
      expired++;
    }
  }
  return expired;
}

/**
 * The last version an application committed (its `txn` marker), or
 * undefined if it never committed to this table. A writer that restarts
 * resumes after it, so that no batch is written twice.
 */
export function lastAppVersion(state: SnapshotState, appId: string): number | undefined {
  return state.txns.get(appId)?.version;
}

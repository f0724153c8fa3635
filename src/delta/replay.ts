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

import type { Action, Add, DomainMetadata, Metadata, Protocol, Remove, Txn } from "./actions.ts";
import { commitKey } from "./log_path.ts";
import { canonicalAbsolutePath, decodeFilePath, isAbsoluteFilePath } from "./partition.ts";
import { protocolProblem } from "./protocol.ts";
import { parseSchemaString, type StructType } from "./schema.ts";

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
  const dv = action.deletionVector;
  return dv ? `${dv.storageType}${dv.pathOrInlineDv}@${dv.offset ?? ""}` : undefined;
}

/**
 * Replays commits (given newest first, each as its actions) and then the
 * checkpoint's actions into a state at `version`.
 */
export function replay(
  version: number,
  commitsNewestFirst: readonly (readonly Action[])[],
  checkpoint: readonly Action[],
  where: string,
): SnapshotState {
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
    for (const action of checkpoint) visit(action);
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
  if (pending && pending.keys.length > 0) deferFiles(state, files, pending);
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

/** A checkpoint's active files, not yet in the `files` map. */
interface PendingFiles {
  keys: string[];
  adds: Add[];
}

/** The states whose `files` map is not built yet: the files it will hold. */
const deferred = new WeakMap<SnapshotState, { files: Map<string, Add>; pending: PendingFiles }>();

/**
 * Gives `state` a `files` map that is built on first use: hashing 100,000
 * freshly decoded paths is a third of opening a table that big, and a scan
 * or a checkpoint only walks the files (`activeFiles`, `fileCount`).
 */
function deferFiles(state: SnapshotState, files: Map<string, Add>, pending: PendingFiles): void {
  deferred.set(state, { files, pending });
  Object.defineProperty(state, "files", {
    configurable: true,
    enumerable: true,
    get(this: SnapshotState) {
      const { keys, adds } = pending;
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
    yield* pending.adds;
  })();
}

/** The number of active files of a state, without building its map of paths. */
export function fileCount(state: SnapshotState): number {
  const lazy = deferred.get(state);
  return lazy ? lazy.files.size + lazy.pending.adds.length : state.files.size;
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
  checkpoint: readonly Action[],
  files: Map<string, Add>,
  tombstones: Map<string, Remove>,
  visit: (action: Action) => void,
): PendingFiles | undefined {
  const keys: string[] = [];
  const fileActions: (Add | Remove)[] = [];
  const isAdd: boolean[] = [];
  const others: Action[] = [];
  for (const action of checkpoint) {
    if ("add" in action) {
      keys.push(fileKey(action.add.path, dvIdOf(action.add)));
      fileActions.push(action.add);
      isAdd.push(true);
    } else if ("remove" in action) {
      keys.push(fileKey(action.remove.path, dvIdOf(action.remove)));
      fileActions.push(action.remove);
      isAdd.push(false);
    } else others.push(action);
  }
  const table = new KeyTable(keys);
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
  const pending: PendingFiles = { keys: [], adds: [] };
  for (let i = 0; i < keys.length; i++) {
    if (shadowed[i]) continue;
    if (isAdd[i]) {
      pending.keys.push(keys[i]!);
      pending.adds.push(fileActions[i] as Add);
    } else tombstones.set(keys[i]!, fileActions[i] as Remove);
  }
  return pending;
}

/**
 * An open-addressing table of distinct strings by index, hashed with
 * FNV-1a over their UTF-16 code units. `duplicate` says whether two of the
 * strings were equal.
 */
class KeyTable {
  readonly duplicate: boolean = false;
  readonly #keys: readonly string[];
  readonly #slots: Int32Array;
  readonly #hashes: Int32Array;
  readonly #mask: number;

  constructor(keys: readonly string[]) {
    this.#keys = keys;
    let size = 16;
    while (size < keys.length * 2) size *= 2;
    this.#mask = size - 1;
    this.#slots = new Int32Array(size).fill(-1);
    this.#hashes = new Int32Array(size);
    for (let i = 0; i < keys.length; i++) {
      if (this.#insert(keys[i]!, i) !== i) {
        this.duplicate = true;
        return;
      }
    }
  }

  /** The index of `key` among the strings, or -1. */
  indexOf(key: string): number {
    const hash = hashOf(key);
    for (let slot = hash & this.#mask;; slot = (slot + 1) & this.#mask) {
      const at = this.#slots[slot]!;
      if (at < 0) return -1;
      if (this.#hashes[slot] === hash && this.#keys[at] === key) return at;
    }
  }

  /** Inserts string `index`; returns the index of an equal string already in, or `index`. */
  #insert(key: string, index: number): number {
    const hash = hashOf(key);
    for (let slot = hash & this.#mask;; slot = (slot + 1) & this.#mask) {
      const at = this.#slots[slot]!;
      if (at < 0) {
        this.#slots[slot] = index;
        this.#hashes[slot] = hash;
        return index;
      }
      if (this.#hashes[slot] === hash && this.#keys[at] === key) return at;
    }
  }
}

function hashOf(key: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) h = Math.imul(h ^ key.charCodeAt(i), 0x01000193);
  // Spread the low bits, which pick the slot.
  return (h ^ (h >>> 15)) | 0;
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

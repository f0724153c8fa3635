/**
 * The storage seam: bytes under keys. Every table operation reaches storage
 * only through this interface, so the Delta code never calls `fetch` or
 * `Deno.open` itself, and tests can swap in an in-memory store.
 *
 * Keys are relative, `/`-separated paths under the store's root, such as
 * `_delta_log/00000000000000000007.json`. Implementations refuse keys that
 * would escape the root.
 */

/** What a listing or `head` says about one object. */
export interface ObjectMeta {
  key: string;
  size: number;
  /** Last modification, in milliseconds since the epoch. */
  lastModified: number;
}

/** A byte range of an object: `length` bytes from `offset`, or to the end. */
export interface ByteRange {
  offset: number;
  length?: number;
}

/**
 * The result of a put-if-absent: `created` if this call wrote the object,
 * `exists` if an object was already under the key (nothing was written).
 */
export type PutIfAbsentOutcome = "created" | "exists";

/** The result of a batch delete. */
export interface DeleteOutcome {
  /** Keys that are now absent (deleted, or absent already). */
  deleted: string[];
  /** Keys that could not be deleted, with the reason. */
  failed: { key: string; reason: string }[];
}

/**
 * Bytes written once and then offered under key after key, for stores where
 * writing is slow but claiming a key is fast (a local file system: the
 * temporary file is written and synced once, then hard-linked). The commit
 * loop uses it so that a lost race costs a link attempt, not another sync.
 */
export interface StagedObject {
  /**
   * Claims `key` for the staged bytes, as `putIfAbsent` does: resolves
   * `created` once the object is durable. `onTaken`, if given, is called as
   * soon as the key is taken (the object readable under it), which may be
   * before it is durable (a local store flushes the directory after the link).
   */
  putIfAbsent(key: string, onTaken?: () => void): Promise<PutIfAbsentOutcome>;
  /** Releases the staged bytes; the keys already claimed keep them. */
  discard(): Promise<void>;
}

/** Bytes under keys. */
export interface ObjectStore {
  /** The root as a URI for messages, such as `file:///data/t` or `s3://b/t`. */
  readonly uri: string;

  /** Reads an object, or a range of it. Resolves `undefined` if absent. */
  get(key: string, range?: ByteRange): Promise<Uint8Array | undefined>;

  /** Describes an object, or resolves `undefined` if absent. */
  head(key: string): Promise<ObjectMeta | undefined>;

  /** Writes an object, replacing any that is there. Readers see all or nothing. */
  put(key: string, bytes: Uint8Array): Promise<void>;

  /**
   * Writes an object only if none is under the key. This is the atomic step
   * that the Delta commit protocol relies on.
   */
  putIfAbsent(key: string, bytes: Uint8Array): Promise<PutIfAbsentOutcome>;

  /**
   * Lists the objects whose keys start with `prefix`, in ascending key order
   * (byte order), recursively, starting after `startAfter` if given.
   */
  list(prefix: string, startAfter?: string): AsyncIterable<ObjectMeta>;

  /**
   * Optional: the keys `list(prefix)` would yield, without their sizes and
   * times, in ascending key order unless `options.ordered` is false (then in
   * any order: a caller that only looks keys up, as vacuum does, spares the
   * sort). For stores where sizes and times cost a call per object (a local
   * `stat`); a caller that needs them for a few keys asks `head`.
   */
  listKeys?(prefix: string, options?: ListKeysOptions): Promise<string[]>;

  /** Deletes objects. A key that is already absent counts as deleted. */
  delete(keys: string[]): Promise<DeleteOutcome>;

  /**
   * True where `head` costs next to nothing (a local `stat`), so callers may
   * check an object before every step that relies on it. On S3 a HEAD is a
   * billed round trip.
   */
  readonly headIsCheap?: boolean;

  /**
   * Optional: stages bytes for repeated put-if-absent attempts (see
   * `StagedObject`). `near` is a key the staged bytes will be claimed under
   * (or one in the same directory): a store may need the two side by side.
   */
  stage?(bytes: Uint8Array, near: string): Promise<StagedObject>;

  /**
   * Optional: makes durable every name already created in the directory of
   * `prefix` (such as `_delta_log/`): for a caller that finds an object in
   * the store and counts on it surviving a crash, when the call that created
   * it may have stopped before making it durable (a writer killed between a
   * local commit's link and its directory flush, or a flush that failed).
   * A store whose writes are durable once answered (S3) leaves it out, and
   * callers skip it there.
   */
  syncPrefix?(prefix: string): Promise<void>;

  /**
   * Optional: removes the store's own temporary files (left by a put or a
   * staged commit that was killed) last modified before `beforeMs` (epoch
   * ms), and resolves how many it removed. Listings never show them.
   */
  removeStaleTemporaries?(beforeMs: number): Promise<number>;

  /**
   * Optional: removes the directories this store made (the root included)
   * that hold nothing now, deepest first, and resolves how many it removed;
   * one that holds anything stays. For a write that created nothing (a new
   * table whose first write failed) to leave no empty table behind. A store
   * without directories (S3) leaves it out.
   */
  removeMadeDirectories?(): Promise<number>;
}

/** Options of `ObjectStore.listKeys`. */
export interface ListKeysOptions {
  /** Whether the keys come in ascending key order. @default true */
  ordered?: boolean;
}

/** Collects a listing into an array. */
export async function listAll(
  store: ObjectStore,
  prefix: string,
  startAfter?: string,
): Promise<ObjectMeta[]> {
  const out: ObjectMeta[] = [];
  for await (const meta of store.list(prefix, startAfter)) out.push(meta);
  return out;
}

/** Joins a store URI and a key for messages. */
export function joinUri(uri: string, key: string): string {
  return uri.endsWith("/") ? uri + key : `${uri}/${key}`;
}

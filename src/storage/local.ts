/**
 * A store on the local file system, the embedded default.
 *
 * Invariants:
 * - `put` and `putIfAbsent` write a temporary file in the target directory,
 *   fsync it, then rename (put) or hard-link (putIfAbsent) it into place, so a
 *   reader never sees a partial object and a crash leaves at most a stray
 *   temporary file, which listings skip.
 * - A call resolves only once the object survives a power loss: after the
 *   rename or link the directory is fsynced too (a new name lives in the
 *   directory, and without that flush the file's own fsync does not keep it),
 *   and a directory made on the way is flushed into its parent as it is
 *   made (a call of the same store that writes in it meanwhile waits for
 *   that flush; one of another store or process does not, and relies on the
 *   file system ordering its metadata, as ext4's journal does). So a data
 *   file `put` before a commit is on disk, name and all, before the
 *   commit's link is made, and a commit is on disk before
 *   `putIfAbsent` says `created`. Each costs one directory fsync per call
 *   (measured about 0.7 ms on ext4 here, beside the file's own 1 ms); a
 *   streamed batch writes one data file per partition directory, so batching
 *   those flushes per directory would save nothing on the hot path.
 * - Flushes go through the blocking pool (asynchronous calls). Tests may
 *   make stores that flush with synchronous calls instead
 *   (`synchronousFlushesForTesting`), where a call on a small file resolves
 *   without the event loop turning, to check that every loop that writes
 *   yields to it (util/event_loop.ts). The flushes and their order are the
 *   same either way.
 * - `putIfAbsent` is atomic because `link(2)` fails if the target exists.
 * - No key reaches outside the root: keys are checked lexically, and on
 *   every operation each directory on the way to the key is looked at with
 *   `lstat` (microseconds each); a symbolic link among them must resolve
 *   inside the root, and directories are made one level at a time, never
 *   through a link. A link swapped in between that check and the system call
 *   that follows it (microseconds later) is not caught: Deno offers no
 *   `openat` with `O_NOFOLLOW` on every level.
 */

import process from "node:process";
import { checkKey, compareKeys } from "./keys.ts";
import { yieldToEventLoop } from "../util/event_loop.ts";
import { unlinkSync } from "./unlink.ts";
import type {
  ByteRange,
  DeleteOutcome,
  ListKeysOptions,
  ObjectMeta,
  ObjectStore,
  PutIfAbsentOutcome,
  StagedObject,
} from "./object_store.ts";

/** Temporary files carry this marker; listings never show them. */
export const TEMP_MARKER = ".nl-tmp-";

/** Options for a local store. */
export interface LocalStoreOptions {
  /**
   * Flush file contents to disk before they become visible.
   * @default true
   */
  fsync?: boolean;
  /**
   * Flushes a directory's entries to disk. A seam for tests, which observe
   * when directories are flushed (and may hold a flush back with a
   * promise); never called with `fsync: false`.
   * @default {@linkcode syncDirectory}
   */
  syncDirectory?: (path: string) => void | Promise<void>;
}

/**
 * Flushes a directory's entries (names made, renamed or linked in it) to
 * disk: `fdatasync(2)` on the directory opened for reading, as Linux and
 * macOS allow. Where a directory cannot be flushed, its entries are as
 * durable as the file system makes them, and nothing is done: on Windows a
 * directory cannot be opened as a file (NTFS journals its entries), and some
 * network and FUSE mounts a lab may keep tables on answer EINVAL or ENOTSUP.
 * Any other failure (EIO) is an error. `flush` is a seam for tests.
 */
export async function syncDirectory(
  path: string,
  flush: (dir: Deno.FsFile) => Promise<void> = (dir) => dir.syncData(),
): Promise<void> {
  if (Deno.build.os === "windows") return;
  try {
    using dir = await Deno.open(path, { read: true });
    await flush(dir);
  } catch (error) {
    directoryFlushFailed(path, error);
  }
}

/**
 * `syncDirectory` with synchronous calls: what a store made under
 * `synchronousFlushesForTesting` flushes directories with.
 */
export function syncDirectorySync(
  path: string,
  flush: (dir: Deno.FsFile) => void = (dir) => dir.syncDataSync(),
): void {
  if (Deno.build.os === "windows") return;
  try {
    using dir = Deno.openSync(path, { read: true });
    flush(dir);
  } catch (error) {
    directoryFlushFailed(path, error);
  }
}

/** Passes over a file system that cannot flush directories; throws on anything else. */
function directoryFlushFailed(path: string, error: unknown): void {
  if (cannotFlushDirectories(error)) return;
  throw new Error(`Cannot flush the directory ${path} to disk`, { cause: error });
}

/** Whether an error says that the file system cannot flush a directory at all. */
function cannotFlushDirectories(error: unknown): boolean {
  if (error instanceof Deno.errors.NotSupported) return true;
  const code = (error as { code?: unknown } | null)?.code;
  return code === "EINVAL" || code === "ENOTSUP" || code === "EOPNOTSUPP";
}

/** Converts a plain path or `file://` URI into an absolute directory path. */
export function localPathFromUri(uriOrPath: string): string {
  let path = uriOrPath;
  if (path.startsWith("file://")) {
    path = decodeURIComponent(new URL(path).pathname);
  }
  if (!path.startsWith("/")) path = `${Deno.cwd()}/${path}`;
  // Normalise `.` and `..` segments of the root itself (the root is trusted).
  const parts: string[] = [];
  for (const part of path.split("/")) {
    if (part === "" || part === ".") continue;
    if (part === "..") parts.pop();
    else parts.push(part);
  }
  return "/" + parts.join("/");
}

/**
 * A delete of at least this many keys removes in runs with turns of the event
 * loop between them, and may also run removals on the blocking pool.
 */
const CONCURRENT_DELETE_KEYS = 32;

/**
 * Removals in flight on the blocking pool in a big delete on a busy machine,
 * beside this thread's own. Each costs a hand-off to a pool thread and a
 * wake-up back, about twice the CPU of the unlink itself; this thread removes
 * the rest synchronously. Measured (2026-12-01, docs/benchmarks.md, 10,000
 * files at load 7-11): 2 in flight beside this thread matched 8 in flight
 * alone in wall time (median 362 against 335 ms) at 0.61 of its CPU time. On
 * a quiet machine they only slow the pass (load 3: 285 against 230 ms), as
 * the unlinks of one directory take its lock one at a time.
 */
const DELETES_IN_FLIGHT = 2;

/**
 * A big delete calls the machine busy, and starts the pool's removals, once
 * its wall time is this many times its thread's CPU time since it began:
 * this thread is waiting for a core more than it runs (about 1.1 on a quiet
 * machine, 2.5 at load 7-11). The thread's own CPU time, not the process's:
 * in a stream job the other roles' threads spend the process's CPU too, and
 * beside them a wait for a core never showed.
 */
const BUSY_WALL_OVER_CPU = 1.5;

/**
 * Whether the calling thread has waited for a core more than it ran since the
 * watch was made: its wall time over `BUSY_WALL_OVER_CPU` times the thread's
 * own CPU time.
 */
export class BusyWatch {
  readonly #startedMs = performance.now();
  readonly #startedCpu = process.threadCpuUsage();

  /** This thread's CPU time since the watch was made, in ms. */
  cpuMs(): number {
    const cpu = process.threadCpuUsage(this.#startedCpu);
    return (cpu.user + cpu.system) / 1000;
  }

  /**
   * Whether the machine looks busy to this thread (see the class); never
   * before `BUSY_JUDGED_AFTER_MS` of wall time.
   */
  busy(): boolean {
    const wallMs = performance.now() - this.#startedMs;
    return wallMs >= BUSY_JUDGED_AFTER_MS && wallMs > BUSY_WALL_OVER_CPU * this.cpuMs();
  }
}

/**
 * A big delete judges whether the machine is busy only after this much wall
 * time: a thread's CPU clock moves in steps of 10 ms on Linux (measured under
 * Deno 2.9.6), so over 50 ms a quiet thread reads 0.8-1.25 of its wall time,
 * below `BUSY_WALL_OVER_CPU`.
 */
const BUSY_JUDGED_AFTER_MS = 50;

/** Synchronous removals on this thread between two turns of its event loop. */
const SYNC_DELETES_PER_TURN = 64;

/** Files up to this size are read synchronously. */
const SYNC_READ_BYTES = 1024 * 1024;

/**
 * Files up to this size are written synchronously (a copy into the page
 * cache, well under a millisecond); their flushes and the directories' go
 * through the blocking pool. Each asynchronous call is a hand-off to a pool
 * thread and a wake-up back: a streamed batch made about ten of them, now
 * four flushes (two files, two directories). Bigger files
 * (compaction's output) are written and flushed asynchronously: their flush
 * can take long enough to matter to the rest of the thread.
 */
const SYNC_WRITE_BYTES = 8 * 1024 * 1024;

/** Whether big deletes act as on a busy machine from their start: only ever under a test. */
let busyForTesting = false;

/**
 * A seam for tests only: big deletes start their removals on the blocking
 * pool from their first run, as on a busy machine, so that path is covered
 * on a quiet one. Returns the previous setting.
 */
export function busyDeletesForTesting(on: boolean): boolean {
  const previous = busyForTesting;
  busyForTesting = on;
  return previous;
}

/** Whether stores made now flush with synchronous calls: only ever under a test. */
let synchronousForTesting = false;

/**
 * A seam for tests only: stores made from now on flush small files (up to
 * `SYNC_WRITE_BYTES`) and directories with synchronous calls, so that a
 * streamed batch can go from its rows to its commit without one
 * asynchronous call, and a test can check that every loop that writes
 * still yields to its event loop (tests/roles/event_loop_test.ts; a role
 * opens its own store, so this reaches it where no option does). Returns
 * the previous setting. Nothing else calls it: measured on 2026-12-01
 * (docs/benchmarks.md), synchronous flushes saved no CPU per streamed row
 * beyond the noise, held up a main thread's `/metrics` scrapes (0.7 s at
 * the median), and let a writer killed by chaos commit after its kill (a
 * terminated worker runs on until its event loop turns, and such a batch
 * made no turn).
 */
export function synchronousFlushesForTesting(on: boolean): boolean {
  const previous = synchronousForTesting;
  synchronousForTesting = on;
  return previous;
}

/** A store rooted at a local directory. */
export class LocalStore implements ObjectStore {
  readonly uri: string;
  readonly root: string;
  /** A stat is a few microseconds. */
  readonly headIsCheap = true;
  readonly #fsync: boolean;
  readonly #synchronousFlushes: boolean;
  readonly #syncDirectory: (path: string) => void | Promise<void>;
  /** Directories this store made whose names are not yet flushed to disk, by path. */
  readonly #flushing = new Map<string, Promise<void>>();
  #realRoot: string | undefined;
  #rootMade = false;
  /** Every directory this store made, parents first (`removeMadeDirectories`). */
  readonly #madeDirectories: string[] = [];
  /**
   * The temporary files the last full `listKeys` walk passed, and when it
   * started: a temporary file made since is younger than that, so a sweep of
   * files older than the start needs only these (a vacuum lists, then sweeps,
   * and no longer walks the tree twice). Taken by the next sweep.
   */
  #temporariesSeen: { sinceMs: number; paths: string[] } | undefined;

  constructor(uriOrPath: string, options: LocalStoreOptions = {}) {
    this.root = localPathFromUri(uriOrPath);
    this.uri = `file://${encodeURI(this.root)}`;
    this.#fsync = options.fsync ?? true;
    this.#synchronousFlushes = synchronousForTesting;
    this.#syncDirectory = options.syncDirectory ??
      (this.#synchronousFlushes ? syncDirectorySync : syncDirectory);
  }

  async get(key: string, range?: ByteRange): Promise<Uint8Array | undefined> {
    const { path, size: known, missing } = await this.#resolveSized(key);
    // Gone at the lstat: answered without a read that would fail. A commit
    // loop reads past the head after every lost race, and a failed read is
    // an error built with its stack, once per missing version.
    if (missing) return undefined;
    try {
      if (!range) {
        // Small files are read synchronously: the read costs less than an
        // asynchronous round trip through the blocking pool, which dominates
        // reading many small files (compaction, the log).
        return known !== undefined && known <= SYNC_READ_BYTES
          ? Deno.readFileSync(path)
          : await Deno.readFile(path);
      }
      using file = await Deno.open(path, { read: true });
      const size = (await file.stat()).size;
      const start = Math.min(range.offset, size);
      const end = range.length === undefined ? size : Math.min(size, start + range.length);
      const out = new Uint8Array(end - start);
      await file.seek(start, Deno.SeekMode.Start);
      let read = 0;
      while (read < out.length) {
        const n = await file.read(out.subarray(read));
        if (n === null) break;
        read += n;
      }
      return out.subarray(0, read);
    } catch (error) {
      if (error instanceof Deno.errors.NotFound) return undefined;
      throw new Error(`Cannot read ${path}`, { cause: error });
    }
  }

  async head(key: string): Promise<ObjectMeta | undefined> {
    const path = await this.#resolve(key);
    try {
      // Synchronous: a stat is microseconds, less than a round trip (see #walk).
      const info = Deno.statSync(path);
      if (!info.isFile) return undefined;
      return { key, size: info.size, lastModified: info.mtime?.getTime() ?? 0 };
    } catch (error) {
      if (error instanceof Deno.errors.NotFound) return undefined;
      throw new Error(`Cannot stat ${path}`, { cause: error });
    }
  }

  async put(key: string, bytes: Uint8Array): Promise<void> {
    const path = await this.#resolve(key, true);
    const temp = await this.#writeTemp(path, bytes);
    try {
      Deno.renameSync(temp, path);
    } catch (error) {
      removeQuietly(temp);
      throw new Error(`Cannot write ${path}`, { cause: error });
    }
    await this.#syncParent(path);
  }

  async putIfAbsent(key: string, bytes: Uint8Array): Promise<PutIfAbsentOutcome> {
    const staged = await this.stage(bytes, key);
    try {
      return await staged.putIfAbsent(key);
    } finally {
      await staged.discard();
    }
  }

  /**
   * Writes and syncs a temporary file once; each `putIfAbsent` of the staged
   * object then only hard-links it, so retrying at the next key is cheap.
   * The temporary file goes to `near`'s directory (links need one file
   * system); errors name `near`.
   */
  async stage(bytes: Uint8Array, near: string): Promise<StagedObject> {
    const nearPath = await this.#resolve(near, true);
    const temp = await this.#writeTemp(nearPath, bytes);
    return {
      putIfAbsent: async (key, onTaken) => {
        const path = await this.#resolve(key, true);
        if (path.slice(0, path.lastIndexOf("/")) !== temp.slice(0, temp.lastIndexOf("/"))) {
          throw new RangeError(`Cannot create ${path}: it was staged for another directory`);
        }
        // No look before the link: it cost a NotFound error on every attempt
        // that wins, the common case, to save one on an attempt that loses.
        // The link is the only arbiter, so two cannot win.
        try {
          // Synchronous, like the look before it: a link is a metadata
          // update of microseconds, not worth a round trip.
          Deno.linkSync(temp, path);
        } catch (error) {
          if (error instanceof Deno.errors.AlreadyExists) return "exists";
          throw new Error(`Cannot create ${path}`, { cause: error });
        }
        onTaken?.();
        // The commit is acknowledged only once its name is on disk.
        await this.#syncParent(path);
        return "created";
      },
      discard: () => Promise.resolve(removeQuietly(temp)),
    };
  }

  async *list(prefix: string, startAfter?: string): AsyncIterable<ObjectMeta> {
    checkKey(prefix, true);
    const slash = prefix.lastIndexOf("/");
    const dirKey = slash < 0 ? "" : prefix.slice(0, slash);
    const found: ObjectMeta[] = [];
    this.#walk(dirKey, prefix, startAfter, (key) => {
      try {
        // A synchronous stat costs a few microseconds; an asynchronous one a
        // round trip through the blocking pool, which dominates big listings.
        const info = Deno.statSync(`${this.root}/${key}`);
        found.push({ key, size: info.size, lastModified: info.mtime?.getTime() ?? 0 });
      } catch (error) {
        // Deleted between readDir and stat: it is simply gone.
        if (!(error instanceof Deno.errors.NotFound)) throw error;
      }
    });
    found.sort((a, b) => compareKeys(a.key, b.key));
    yield* found;
  }

  /**
   * The listing without a `stat` per file: a directory read per directory,
   * sorted unless `options.ordered` is false (sorting 10,000 keys by their
   * UTF-8 bytes costs about 10 ms of CPU, a third of the listing).
   */
  async listKeys(prefix: string, options: ListKeysOptions = {}): Promise<string[]> {
    checkKey(prefix, true);
    const slash = prefix.lastIndexOf("/");
    const keys: string[] = [];
    const whole = prefix === "";
    const seen = { sinceMs: Date.now(), paths: [] as string[] };
    this.#walk(
      slash < 0 ? "" : prefix.slice(0, slash),
      prefix,
      undefined,
      (key) => keys.push(key),
      whole ? (path) => seen.paths.push(path) : undefined,
    );
    if (whole) this.#temporariesSeen = seen;
    if (options.ordered ?? true) keys.sort(compareKeys);
    return await Promise.resolve(keys);
  }

  async delete(keys: string[]): Promise<DeleteOutcome> {
    const outcome: DeleteOutcome = { deleted: [], failed: [] };
    const failed = (key: string, error: unknown) => {
      if (error instanceof Deno.errors.NotFound) outcome.deleted.push(key);
      else outcome.failed.push({ key, reason: String(error) });
    };
    // Removing a link removes the link, never its target, so only the
    // directory on the way must be inside the root.
    const removeHere = (key: string) => {
      try {
        unlinkSync(this.#resolveForDelete(key));
        outcome.deleted.push(key);
      } catch (error) {
        failed(key, error);
      }
    };
    if (keys.length < CONCURRENT_DELETE_KEYS) {
      for (const key of keys) removeHere(key);
      return await Promise.resolve(outcome);
    }
    // Many keys (a vacuum): this thread removes them synchronously in runs,
    // giving its event loop a turn between runs. The unlinks of one directory
    // take its lock one at a time, so more threads only slow a quiet
    // machine's pass; on a busy one they get more turns on the cores, so once
    // this thread waits for a core more than it runs, a few more removals run
    // on the blocking pool.
    let next = 0;
    const pooled = async () => {
      while (next < keys.length) {
        const key = keys[next++]!;
        try {
          await Deno.remove(this.#resolveForDelete(key));
          outcome.deleted.push(key);
        } catch (error) {
          failed(key, error);
        }
      }
    };
    const helpers: Promise<void>[] = [];
    const watch = new BusyWatch();
    const busy = () => busyForTesting || watch.busy();
    while (next < keys.length) {
      const end = Math.min(keys.length, next + SYNC_DELETES_PER_TURN);
      while (next < end) removeHere(keys[next++]!);
      if (helpers.length === 0 && next < keys.length && busy()) {
        for (let i = 0; i < DELETES_IN_FLIGHT; i++) helpers.push(pooled());
      }
      await yieldToEventLoop();
    }
    await Promise.all(helpers);
    return outcome;
  }

  /**
   * Flushes the directory of `prefix` to disk (unless fsync is off), after
   * any flush of it this store has under way. A directory that does not
   * exist holds nothing to flush.
   */
  async syncPrefix(prefix: string): Promise<void> {
    checkKey(prefix, true);
    if (!this.#fsync) return;
    const slash = prefix.lastIndexOf("/");
    const dirKey = slash < 0 ? "" : prefix.slice(0, slash);
    const dir = dirKey === "" ? this.root : `${this.root}/${dirKey}`;
    this.#checkDirectory(prefix, dir, false);
    for (const [made, flush] of this.#flushing) {
      if (dir === made || dir.startsWith(`${made}/`)) await flush;
    }
    try {
      if (!Deno.statSync(dir).isDirectory) return;
    } catch (error) {
      if (error instanceof Deno.errors.NotFound) return;
      throw new Error(`Cannot flush the directory ${dir} to disk`, { cause: error });
    }
    await this.#syncDirectory(dir);
  }

  async removeStaleTemporaries(beforeMs: number): Promise<number> {
    const seen = this.#temporariesSeen;
    this.#temporariesSeen = undefined;
    let paths: string[];
    if (seen && beforeMs <= seen.sinceMs) paths = seen.paths;
    else {
      paths = [];
      this.#walkTemporaries(this.root, (path) => paths.push(path));
    }
    let removed = 0;
    for (const path of paths) {
      try {
        if ((Deno.lstatSync(path).mtime?.getTime() ?? Infinity) >= beforeMs) continue;
        Deno.removeSync(path);
        removed++;
      } catch (error) {
        if (!(error instanceof Deno.errors.NotFound)) throw error;
      }
    }
    return await Promise.resolve(removed);
  }

  /** Calls `temporary` with the path of every temporary file under `dir`. */
  #walkTemporaries(dir: string, temporary: (path: string) => void): void {
    let entries: Deno.DirEntry[];
    try {
      entries = [...Deno.readDirSync(dir)];
    } catch (error) {
      if (error instanceof Deno.errors.NotFound) return;
      throw new Error(`Cannot list ${dir}`, { cause: error });
    }
    for (const entry of entries) {
      // Links are never followed: one could lead out of the root.
      if (entry.isSymlink) continue;
      const path = `${dir}/${entry.name}`;
      if (entry.isDirectory) this.#walkTemporaries(path, temporary);
      else if (entry.isFile && entry.name.startsWith(TEMP_MARKER)) temporary(path);
    }
  }

  /**
   * Calls `found` with the key of every plain file under `dirKey` that the
   * listing shows, and `temporary` with the path of every temporary file it
   * passes (`removeStaleTemporaries` sweeps the same files).
   */
  #walk(
    dirKey: string,
    prefix: string,
    startAfter: string | undefined,
    found: (key: string) => void,
    temporary?: (path: string) => void,
  ): void {
    const dirPath = dirKey ? `${this.root}/${dirKey}` : this.root;
    let entries: Deno.DirEntry[];
    try {
      entries = [...Deno.readDirSync(dirPath)];
    } catch (error) {
      if (error instanceof Deno.errors.NotFound) return;
      throw new Error(`Cannot list ${dirPath}`, { cause: error });
    }
    // Where `startAfter` names a file of this directory, files are compared by
    // name alone: a listing from the end of a big _delta_log builds no key
    // for the thousands of entries before it.
    const base = dirKey ? `${dirKey}/` : "";
    const after = startAfter?.startsWith(base) && !startAfter.includes("/", base.length)
      ? startAfter.slice(base.length)
      : undefined;
    for (const entry of entries) {
      if (after !== undefined && entry.isFile && compareKeys(entry.name, after) <= 0) continue;
      // Links are never followed: one could lead out of the root.
      if (entry.isSymlink) continue;
      if (entry.name.includes(TEMP_MARKER)) {
        if (entry.isFile && entry.name.startsWith(TEMP_MARKER)) {
          temporary?.(`${dirPath}/${entry.name}`);
        } else if (entry.isDirectory && temporary) {
          this.#walkTemporaries(`${dirPath}/${entry.name}`, temporary);
        }
        continue;
      }
      const key = base + entry.name;
      if (entry.isDirectory) {
        const asDir = key + "/";
        // Descend only where keys under the directory can match the prefix.
        if (asDir.startsWith(prefix) || prefix.startsWith(asDir)) {
          this.#walk(key, prefix, startAfter, found, temporary);
        }
        continue;
      }
      if (!entry.isFile || !key.startsWith(prefix)) continue;
      if (startAfter !== undefined && compareKeys(key, startAfter) <= 0) continue;
      found(key);
    }
  }

  /**
   * Removes the directories this store made that are empty, children before
   * parents; a directory with anything in it (a file another writer put
   * there meanwhile) stays, as do the directories above it. Each one removed
   * is flushed out of its parent.
   */
  async removeMadeDirectories(): Promise<number> {
    let removed = 0;
    const made = this.#madeDirectories.splice(0);
    const kept: string[] = [];
    for (let i = made.length - 1; i >= 0; i--) {
      const dir = made[i]!;
      try {
        // Not recursive: only an empty directory goes.
        Deno.removeSync(dir);
      } catch (error) {
        if (!(error instanceof Deno.errors.NotFound)) kept.push(dir);
        continue;
      }
      removed++;
      if (dir === this.root) this.#rootMade = false;
      await this.#syncParent(dir);
    }
    this.#madeDirectories.unshift(...kept.reverse());
    return removed;
  }

  /**
   * Flushes each directory made into its parent, parents first; while that
   * runs, the directories are in `#flushing`, so concurrent calls wait.
   */
  async #flushMade(made: readonly string[]): Promise<void> {
    if (!this.#fsync) return;
    const flush = (async () => {
      for (const dir of made) await this.#syncParent(dir);
    })();
    for (const dir of made) this.#flushing.set(dir, flush);
    try {
      await flush;
    } finally {
      for (const dir of made) if (this.#flushing.get(dir) === flush) this.#flushing.delete(dir);
    }
  }

  /** Flushes the directory holding `path`, unless fsync is off. */
  async #syncParent(path: string): Promise<void> {
    if (this.#fsync) await this.#syncDirectory(path.slice(0, path.lastIndexOf("/")) || "/");
  }

  async #writeTemp(path: string, bytes: Uint8Array): Promise<string> {
    const slash = path.lastIndexOf("/");
    const temp = `${path.slice(0, slash)}/${TEMP_MARKER}${crypto.randomUUID()}`;
    try {
      if (bytes.length <= SYNC_WRITE_BYTES) {
        using file = Deno.openSync(temp, { write: true, createNew: true });
        let written = 0;
        while (written < bytes.length) written += file.writeSync(bytes.subarray(written));
        if (this.#fsync) {
          if (this.#synchronousFlushes) file.syncDataSync();
          else await file.syncData();
        }
      } else {
        using file = await Deno.open(temp, { write: true, createNew: true });
        let written = 0;
        while (written < bytes.length) written += await file.write(bytes.subarray(written));
        if (this.#fsync) await file.syncData();
      }
    } catch (error) {
      removeQuietly(temp);
      throw new Error(`Cannot write ${path}`, { cause: error });
    }
    return temp;
  }

  /** `#resolve` for deletion: synchronous, and no check of the key's own link. */
  #resolveForDelete(key: string): string {
    checkKey(key);
    const path = `${this.root}/${key}`;
    this.#checkDirectory(key, path.slice(0, path.lastIndexOf("/")), false);
    return path;
  }

  async #resolve(key: string, create = false, followsLink = true): Promise<string> {
    return (await this.#resolveSized(key, create, followsLink)).path;
  }

  /**
   * Maps a key to a path inside the root, with the file's size when it is a
   * plain file. With `create`, makes the parent directories. Refuses keys
   * whose directory, or whose own link, resolves outside the root.
   */
  async #resolveSized(
    key: string,
    create = false,
    followsLink = true,
  ): Promise<{ path: string; size?: number; missing?: true }> {
    checkKey(key);
    const path = `${this.root}/${key}`;
    const made: string[] = [];
    this.#checkDirectory(key, path.slice(0, path.lastIndexOf("/")), create, made);
    // Each directory made is flushed into its parent before anything is
    // written in it, so no object can outlive the directory that names it.
    if (made.length > 0) await this.#flushMade(made);
    // A directory that another call of this store made may not be flushed
    // yet: an object written in it waits for that, as if it had made it.
    if (create && this.#flushing.size > 0) {
      for (const [dir, flush] of this.#flushing) {
        if (path.startsWith(`${dir}/`)) await flush;
      }
    }
    if (!followsLink) return { path };
    try {
      // A synchronous lstat costs microseconds; see #walk.
      const info = Deno.lstatSync(path);
      if (!info.isSymlink) return info.isFile ? { path, size: info.size } : { path };
      const real = Deno.realPathSync(path);
      const realRoot = this.#getRealRoot();
      if (!real.startsWith(realRoot + "/")) {
        throw new RangeError(
          `Refusing key ${key}: it is a link to ${real}, outside the table root ${realRoot}`,
        );
      }
    } catch (error) {
      if (!(error instanceof Deno.errors.NotFound)) throw error;
      return { path, missing: true };
    }
    return { path };
  }

  /**
   * Refuses `key` if a directory on its way is a link that resolves outside
   * the root; with `create`, makes the missing directories one level at a
   * time (never through a link outside). Runs on every operation: each level
   * is one synchronous `lstat`, microseconds, and deletion needs it without
   * awaiting. A level that does not exist holds nothing to escape through.
   * Each directory it makes is pushed to `made`, parents first.
   */
  #checkDirectory(key: string, dir: string, create: boolean, made: string[] = []): void {
    if (create && !this.#rootMade) {
      // The root is trusted (the user named it): made once, as a whole.
      const missing: string[] = [];
      for (let level = this.root; level !== "/" && !exists(level);) {
        missing.unshift(level);
        level = level.slice(0, level.lastIndexOf("/")) || "/";
      }
      Deno.mkdirSync(this.root, { recursive: true });
      made.push(...missing);
      this.#madeDirectories.push(...missing);
      this.#rootMade = true;
    }
    if (dir.length <= this.root.length) return;
    const levels = dir.slice(this.root.length + 1).split("/");
    let path = this.root;
    for (const level of levels) {
      path += `/${level}`;
      let info: Deno.FileInfo;
      try {
        info = Deno.lstatSync(path);
      } catch (error) {
        if (!(error instanceof Deno.errors.NotFound)) throw error;
        if (!create) return;
        try {
          Deno.mkdirSync(path);
          made.push(path);
          this.#madeDirectories.push(path);
        } catch (error) {
          if (!(error instanceof Deno.errors.AlreadyExists)) {
            throw new Error(`Cannot create the directory ${path}`, { cause: error });
          }
        }
        info = Deno.lstatSync(path);
      }
      if (!info.isSymlink) continue;
      const real = Deno.realPathSync(path);
      const realRoot = this.#getRealRoot();
      if (real !== realRoot && !real.startsWith(realRoot + "/")) {
        throw new RangeError(
          `Refusing key ${key}: its directory ${path} is a link to ${real}, outside the table root ${realRoot}`,
        );
      }
    }
  }

  #getRealRoot(): string {
    if (this.#realRoot === undefined) {
      try {
        this.#realRoot = Deno.realPathSync(this.root);
      } catch (error) {
        if (!(error instanceof Deno.errors.NotFound)) throw error;
        return this.root;
      }
    }
    return this.#realRoot;
  }
}

/** Whether anything (a link included) is at `path`. */
function exists(path: string): boolean {
  try {
    Deno.lstatSync(path);
    return true;
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return false;
    throw error;
  }
}

function removeQuietly(path: string): void {
  try {
    Deno.removeSync(path);
  } catch {
    // Already gone, or never made: nothing to clean up.
  }
}

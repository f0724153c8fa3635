/**
 * A log file that a run of days cannot grow without bound: written
 * synchronously through (every write is in the file when it returns), cut
 * into segments of at most `segmentBytes`, each older segment compressed
 * with gzip beside it, and the oldest segments deleted once the file and
 * its segments together pass `maxBytes`.
 *
 * `events.csv` is the file being written; its older segments are
 * `events.000001.csv.gz`, `events.000002.csv.gz`, ..., numbered in the order
 * they were cut, so their names sort oldest first and concatenating them
 * (after `gunzip`) in that order, then the file, gives the kept history.
 * Every segment begins with the `header` (a CSV header), so each one is a
 * complete CSV on its own.
 *
 * Invariants:
 * - A write is never split between segments: a segment is cut only after a
 *   write, once it holds `segmentBytes` or more.
 * - A segment is compressed to a temporary name and renamed into place
 *   before its plain copy is deleted: a process killed meanwhile leaves the
 *   plain segment, never a half-written `.gz` under the final name.
 * - The bytes kept (the file, plus every segment as it is on disk) stay
 *   within `maxBytes`: segments are deleted, oldest first, until they fit in
 *   what the file leaves when it grows to a full segment. Only a segment
 *   waiting for its compression, and the write that filled the file, may
 *   pass it for a moment. The file being written is never deleted.
 *   `maxBytes` 0 keeps every segment.
 * - A segment that cannot be compressed stays plain, counted at its plain
 *   size, and is deleted in its turn; a cut that fails is tried again at
 *   the next write. `writeSync` throws only when the write itself fails;
 *   the first error of a cut, compression or deletion is `close()`'s.
 */

/** Options of a `RotatingFile`. */
export interface RotatingFileOptions {
  /** Cut a segment once the file holds this many bytes. @default 64 MiB */
  segmentBytes?: number;
  /**
   * The most bytes the file and its segments keep together; the oldest
   * segments are deleted past it. 0 keeps everything. @default 0
   */
  maxBytes?: number;
  /** Written at the start of the file and of every segment. */
  header?: Uint8Array;
  /** Start afresh (truncate) rather than append to what the file holds. @default false */
  truncate?: boolean;
}

/** One cut segment: its number, its path as it is now, and its bytes on disk. */
interface Segment {
  n: number;
  path: string;
  bytes: number;
  /** Its compression was tried (and, if it failed, it stays plain): it may be deleted. */
  settled: boolean;
}

const MiB = 1024 * 1024;

/** The smallest segment `segmentBytesFor` chooses. */
export const MIN_SEGMENT_BYTES = 4 * 1024;

/**
 * The smallest cap (other than 0) that can be held: four segments of the
 * smallest size. Under it, a segment is more than a quarter of the cap.
 */
export const MIN_CAPPED_BYTES = 4 * MIN_SEGMENT_BYTES;

/**
 * The segment size for a cap of `maxBytes`: 64 MiB, or a quarter of the
 * cap when that is smaller (at least `MIN_SEGMENT_BYTES`), so several segments fit.
 */
export function segmentBytesFor(maxBytes: number): number {
  if (maxBytes <= 0) return 64 * MiB;
  return Math.max(MIN_SEGMENT_BYTES, Math.min(64 * MiB, Math.floor(maxBytes / 4)));
}

/**
 * A size-capped, rotating log file.
 *
 * @example
 * ```ts
 * const log = new RotatingFile("/tmp/run/events.csv", {
 *   header: new TextEncoder().encode("t,event\n"),
 *   segmentBytes: 64 * 1024 * 1024,
 *   maxBytes: 1024 * 1024 * 1024,
 *   truncate: true,
 * });
 * log.writeSync(new TextEncoder().encode("0,start\n"));
 * await log.close();
 * ```
 */
export class RotatingFile {
  readonly path: string;
  readonly #segmentBytes: number;
  readonly #maxBytes: number;
  readonly #header: Uint8Array | undefined;
  readonly #stem: string;
  readonly #ext: string;
  #file: Deno.FsFile | undefined;
  #size = 0;
  #next = 1;
  /** Cut segments, oldest first. */
  readonly #segments: Segment[] = [];
  /** Compressions in progress, one after the other. */
  #work: Promise<void> = Promise.resolve();
  /** The first error of a compression or deletion, reported by `close()`. */
  #error: unknown;

  constructor(path: string, options: RotatingFileOptions = {}) {
    this.path = path;
    this.#segmentBytes = Math.max(1, options.segmentBytes ?? 64 * MiB);
    this.#maxBytes = Math.max(0, options.maxBytes ?? 0);
    this.#header = options.header;
    // `dir/events.csv` -> `dir/events` and `.csv`; a name without a dot has no extension.
    const slash = path.lastIndexOf("/");
    const dot = path.lastIndexOf(".");
    const hasExt = dot > slash + 1;
    this.#ext = hasExt ? path.slice(dot) : "";
    this.#stem = hasExt ? path.slice(0, dot) : path;
    const truncate = options.truncate ?? false;
    this.#file = Deno.openSync(path, {
      write: true,
      create: true,
      append: !truncate,
      truncate,
    });
    this.#size = truncate ? 0 : this.#file.statSync().size;
    if (this.#size === 0 && this.#header) this.#writeAll(this.#header);
  }

  /** True until `close()`. */
  get open(): boolean {
    return this.#file !== undefined;
  }

  /** The segments cut so far and still kept, oldest first (paths end in `.gz` once compressed). */
  get segments(): readonly string[] {
    return this.#segments.map((s) => s.path);
  }

  /** Writes `bytes` whole, then cuts a segment if the file has reached its size. No-op once closed. */
  writeSync(bytes: Uint8Array): void {
    if (!this.#file) return;
    this.#writeAll(bytes);
    if (this.#size >= this.#segmentBytes) this.#rotate();
  }

  /** Closes the file and waits for segments being compressed; rejects with their first error. */
  async close(): Promise<void> {
    const file = this.#file;
    this.#file = undefined;
    file?.close();
    await this.#work;
    if (this.#error !== undefined) throw this.#error;
  }

  /** Waits for the compressions and deletions started so far. */
  settled(): Promise<void> {
    return this.#work;
  }

  #writeAll(bytes: Uint8Array): void {
    let offset = 0;
    while (offset < bytes.length) offset += this.#file!.writeSync(bytes.subarray(offset));
    this.#size += bytes.length;
  }

  #rotate(): void {
    const n = this.#next++;
    const plain = `${this.#stem}.${String(n).padStart(6, "0")}${this.#ext}`;
    // Renamed while open (writes follow the file), and the new file opened
    // before the old one closes: a cut that fails leaves the writes going
    // where they went, its error kept for `close()`, and the next write
    // tries again under the next number. Never a write lost or thrown.
    try {
      Deno.renameSync(this.path, plain);
    } catch (error) {
      this.#error ??= error;
      return;
    }
    let next: Deno.FsFile;
    try {
      next = Deno.openSync(this.path, { write: true, create: true, truncate: true });
    } catch (error) {
      this.#error ??= error;
      try {
        Deno.renameSync(plain, this.path);
      } catch {
        // Written on under `plain`; the next cut fails and says so again.
      }
      return;
    }
    this.#file!.close();
    this.#file = next;
    const segment: Segment = {
      n,
      path: plain,
      bytes: this.#size,
      settled: false,
    };
    this.#segments.push(segment);
    this.#size = 0;
    if (this.#header) this.#writeAll(this.#header);
    this.#work = this.#work.then(async () => {
      try {
        await this.#compress(segment);
      } catch (error) {
        this.#error ??= error;
      }
      // A segment whose compression failed is kept plain and counted so, and
      // the cap still holds: it would otherwise stay the oldest forever, and
      // no segment after it would be deleted.
      segment.settled = true;
      try {
        await this.#prune();
      } catch (error) {
        this.#error ??= error;
      }
    });
  }

  async #compress(segment: Segment): Promise<void> {
    const gz = `${segment.path}.gz`;
    const temporary = `${gz}.tmp`;
    try {
      const source = await Deno.open(segment.path, { read: true });
      let target;
      try {
        target = await Deno.open(temporary, { write: true, create: true, truncate: true });
      } catch (error) {
        source.close();
        throw error;
      }
      // pipeTo closes both files.
      await source.readable.pipeThrough(new CompressionStream("gzip")).pipeTo(target.writable);
      await Deno.rename(temporary, gz);
    } catch (error) {
      await Deno.remove(temporary).catch(() => {});
      throw error;
    }
    const plain = segment.path;
    segment.path = gz;
    segment.bytes = (await Deno.stat(gz)).size;
    await Deno.remove(plain);
  }

  /**
   * Deletes the oldest segments while they and a full file would pass
   * `maxBytes` (a segment still waiting for its compression stays).
   */
  async #prune(): Promise<void> {
    if (this.#maxBytes === 0) return;
    let total = Math.max(this.#size, this.#segmentBytes);
    for (const s of this.#segments) total += s.bytes;
    while (total > this.#maxBytes && this.#segments[0]?.settled) {
      const oldest = this.#segments.shift()!;
      await Deno.remove(oldest.path);
      total -= oldest.bytes;
    }
  }
}

/**
 * Giving freed native memory back to the operating system.
 *
 * Deno allocates native memory (the backing stores of ArrayBuffers, the
 * buffers of `fetch` on its I/O threads) with the C library's `malloc`. glibc
 * keeps freed chunks in per-thread arenas and returns little of them on its
 * own, so a process that allocates and frees tens of MiB per pass from
 * several threads holds a resident set that creeps up for hours while nothing
 * in it is live: the compactor merging files over S3 grew about 0.6 MiB per
 * live file in an hour on MinIO (docs/soak.md), and a pass of `malloc_trim(0)`
 * brought it back to its live heap plus the runtime.
 *
 * Only glibc has `malloc_trim`. On macOS, Windows or musl, or without the FFI
 * permission, releasing does nothing (and never prompts for a permission).
 * Cost: a trim walks the arenas and `madvise`s their free pages: about 4 ms
 * with nothing to release, a few hundred ms for 200 MiB on a loaded machine,
 * so long-running roles trim at most every few seconds ({@link Releaser}).
 */
import { openLibc } from "./libc.ts";

let trim: (() => void) | null | undefined;

/** This process's resident set size in MiB, to one decimal: the `rss_mb` of events. */
export function residentMb(): number {
  return Math.round(Deno.memoryUsage().rss / 1048576 * 10) / 10;
}

/**
 * The V8 heap in use of this isolate in MiB, to one decimal: the `heap_mb`
 * of events (a worker's own heap; a process's main isolate's).
 */
export function heapUsedMb(): number {
  return Math.round(Deno.memoryUsage().heapUsed / 1048576 * 10) / 10;
}

/** Whether this process can give freed native memory back (Linux with glibc, FFI allowed). */
export function canReleaseFreedMemory(): boolean {
  trim ??= openTrim();
  return trim !== null;
}

/**
 * Returns the free pages of every malloc arena to the operating system.
 * Returns whether it could (see {@link canReleaseFreedMemory}).
 */
export function releaseFreedMemory(): boolean {
  trim ??= openTrim();
  if (trim === null) return false;
  trim();
  return true;
}

function openTrim(): (() => void) | null {
  const libc = openLibc({ malloc_trim: { parameters: ["usize"], result: "i32" } });
  return libc && (() => void libc.malloc_trim(0n));
}

/**
 * Releases freed memory after a role's pass of work, at most once per
 * `minIntervalMs`: the trims of a role that works every second cost little,
 * and what a pass freed is back within the interval.
 */
export class Releaser {
  #last = -Infinity;
  constructor(readonly minIntervalMs = 10_000) {}

  /** Called after a pass that did work: releases if the interval has passed. */
  afterWork(now = performance.now()): boolean {
    if (now - this.#last < this.minIntervalMs) return false;
    this.#last = now;
    return releaseFreedMemory();
  }
}

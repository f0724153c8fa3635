/**
 * Removing a file with one `unlink(2)`, for the local store's deletes.
 *
 * Deno's `removeSync` looks at a path (`statx`) before it removes it, to
 * choose between `unlink` and `rmdir`, and offers no removal without that
 * look. That look and the way into Deno are about a fifth of each removal's
 * CPU (35-45 ms per 10,000 files on one thread; docs/benchmarks.md, "Full
 * vacuum: one `unlink` per file"), so on Linux, where the process may load
 * foreign code (the `ffi` permission, which `deno task neuralake`, the tests
 * and the compiled binary's `-A` grant), this calls the C library's `unlink`
 * directly (util/libc.ts), as util/native_memory.ts calls `malloc_trim`. It lives here, in
 * the local store's layer, because only the store's deletes use it.
 * Everywhere else (macOS, Windows, no `ffi` permission, no `libc.so.6`)
 * removals go through `Deno.removeSync` as before.
 *
 * Invariants:
 * - Outcomes are Deno's: a path `unlink` removes is what `removeSync` would
 *   have removed (a file or a link, never a link's target); when `unlink`
 *   fails for any reason (absent, a directory, permissions, a name too long)
 *   the removal is handed to `removeSync`, which removes an empty directory as
 *   before or throws the same `Deno.errors` class and message it always has.
 *   `errno` is never read: it is not reliably the call's once V8 runs again.
 * - A path reaches C only NUL-terminated and with no NUL inside (store keys
 *   refuse NUL; a path with one goes to `removeSync`, which refuses it).
 */

import { openLibc } from "../util/libc.ts";

/** The C library's `unlink`, or undefined where it is not used. */
type Unlink = (path: Uint8Array) => number;

let libc: { unlink: Unlink } | null | undefined;
let forcedOff = false;
/** Removals done by the C library's `unlink`, for tests. */
let libcUnlinks = 0;

/**
 * The C library's `unlink`, loaded on first use: only on Linux, and only when
 * the `ffi` permission is already granted (a query never prompts).
 */
function libcUnlink(): Unlink | undefined {
  if (forcedOff) return undefined;
  if (libc === undefined) libc = openLibc({ unlink: { parameters: ["buffer"], result: "i32" } });
  return libc?.unlink;
}

const encoder = new TextEncoder();
/** The NUL-terminated path of the current call; grown when a path needs it. */
let pathBuffer = new Uint8Array(1024);

/**
 * Removes the file or link at `path` as `Deno.removeSync(path)` does, through
 * one `unlink` where the C library is in use. Throws what `removeSync`
 * throws.
 */
export function unlinkSync(path: string): void {
  const unlink = libcUnlink();
  if (unlink === undefined || path.includes("\0")) return Deno.removeSync(path);
  // UTF-16 to UTF-8 takes at most 3 bytes per code unit, and one for the NUL.
  if (pathBuffer.length < path.length * 3 + 1) pathBuffer = new Uint8Array(path.length * 3 + 1);
  const { written } = encoder.encodeInto(path, pathBuffer);
  pathBuffer[written] = 0;
  if (unlink(pathBuffer) === 0) libcUnlinks++;
  else Deno.removeSync(path);
}

/** Whether `unlinkSync` calls the C library's `unlink` in this process. */
export function unlinksThroughLibc(): boolean {
  return libcUnlink() !== undefined;
}

/** How many removals the C library's `unlink` has done in this thread: for tests. */
export function libcUnlinksForTesting(): number {
  return libcUnlinks;
}

/**
 * A seam for tests only: with `off`, `unlinkSync` uses `Deno.removeSync`
 * whatever the platform, so both paths can be checked against each other.
 * Returns the previous setting.
 */
export function libcUnlinkOffForTesting(off: boolean): boolean {
  const previous = forcedOff;
  forcedOff = off;
  return previous;
}

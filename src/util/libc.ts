/**
 * The C library's functions, for the few places a Deno API has no
 * equivalent (util/native_memory.ts's `malloc_trim`, storage/unlink.ts's
 * `unlink`).
 *
 * Invariants:
 * - Only on Linux with glibc (`libc.so.6`), and only when the `ffi`
 *   permission is already granted: a query never prompts. Everywhere else
 *   (macOS, Windows, musl, no permission, loading refused) the answer is
 *   null, and callers keep their portable path.
 */

/**
 * The symbols of `libc.so.6` that `symbols` declares, or null where the C
 * library is not used (module header).
 */
export function openLibc<const S extends Deno.ForeignLibraryInterface>(
  symbols: S,
): Deno.DynamicLibrary<S>["symbols"] | null {
  if (Deno.build.os !== "linux") return null;
  try {
    if (Deno.permissions.querySync({ name: "ffi" }).state !== "granted") return null;
    return Deno.dlopen("libc.so.6", symbols).symbols;
  } catch {
    // No glibc (musl names its library differently), or loading refused.
    return null;
  }
}

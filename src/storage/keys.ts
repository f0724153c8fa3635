/**
 * Key validation. Paths in a Delta log are untrusted input, so every store
 * checks every key here before touching storage: no absolute paths, no `..`
 * or `.` segments, no backslashes, no NUL, no empty segments.
 */

import { compareUtf8 } from "../util/utf8_order.ts";

/**
 * Throws a `RangeError` if `key` is not a safe relative key. The empty key is
 * allowed only where `allowEmpty` is set (listing the whole root).
 */
export function checkKey(key: string, allowEmpty = false): void {
  if (key === "") {
    if (allowEmpty) return;
    throw new RangeError("Refusing an empty storage key");
  }
  if (key.startsWith("/")) {
    throw new RangeError(`Refusing an absolute storage key: ${key}`);
  }
  if (key.includes("\\") || key.includes("\0")) {
    throw new RangeError(`Refusing a storage key with a backslash or NUL: ${JSON.stringify(key)}`);
  }
  const segments = key.split("/");
  for (let i = 0; i < segments.length; i++) {
    const segment = segments[i]!;
    // A trailing slash marks a prefix, so its empty last segment is fine.
    if (segment === "" && i === segments.length - 1) continue;
    if (segment === "" || segment === "." || segment === "..") {
      throw new RangeError(`Refusing a storage key that escapes or is not normal: ${key}`);
    }
  }
}

/** True if `key` is safe (see `checkKey`). */
export function isSafeKey(key: string): boolean {
  try {
    checkKey(key);
    return true;
  } catch {
    return false;
  }
}

/** Compares keys in byte order of their UTF-8 encoding, as S3 lists them. */
export const compareKeys = compareUtf8;

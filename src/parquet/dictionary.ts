/**
 * Dictionary builders for the encoder: distinct values in first-seen order
 * plus one index per value, for 32-bit integers, 64-bit integers (as word
 * pairs) and strings. Integers use open addressing over typed arrays with
 * `Math.imul` hashing, so nothing is allocated per value.
 *
 * Invariant: a builder gives up (returns undefined) as soon as the column has
 * more than `maxDistinct` distinct values, so a column that would not shrink
 * costs at most the work up to that point.
 */

/** Distinct values plus the index of each input value into them. */
export interface Dictionary<T> {
  values: T;
  size: number;
  indexes: Int32Array;
}

/** The most distinct values a dictionary may hold (16-bit indexes). */
export const MAX_DICTIONARY = 1 << 16;

function tableSize(maxDistinct: number): number {
  let size = 16;
  while (size < maxDistinct * 2) size *= 2;
  return size;
}

/** Builds a dictionary of `values[0..count)`. */
export function int32Dictionary(
  values: Int32Array,
  count: number,
  maxDistinct: number,
): Dictionary<Int32Array> | undefined {
  const size = tableSize(maxDistinct);
  const mask = size - 1;
  const keys = new Int32Array(size);
  const slots = new Int32Array(size); // dictionary index + 1, 0 = empty
  const distinct = new Int32Array(maxDistinct);
  const indexes = new Int32Array(count);
  let n = 0;
  let prev = 0;
  let prevIndex = -1;
  for (let i = 0; i < count; i++) {
    const v = values[i]!;
    if (v === prev && prevIndex >= 0) {
      indexes[i] = prevIndex;
      continue;
    }
    let h = Math.imul(v, 0x9e3779b1) >>> 0;
    let index = -1;
    for (;;) {
      const at = h & mask;
      const slot = slots[at]!;
      if (slot === 0) {
        if (n === maxDistinct) return undefined;
        distinct[n] = v;
        keys[at] = v;
        slots[at] = ++n;
        index = n - 1;
        break;
      }
      if (keys[at] === v) {
        index = slot - 1;
        break;
      }
      h++;
    }
    indexes[i] = index;
    prev = v;
    prevIndex = index;
  }
  return { values: distinct.subarray(0, n), size: n, indexes };
}

/** Builds a dictionary of `count` int64 values held as word pairs. */
export function int64Dictionary(
  words: Int32Array,
  count: number,
  maxDistinct: number,
): Dictionary<Int32Array> | undefined {
  const size = tableSize(maxDistinct);
  const mask = size - 1;
  const keys = new Int32Array(size * 2);
  const slots = new Int32Array(size);
  const distinct = new Int32Array(maxDistinct * 2);
  const indexes = new Int32Array(count);
  let n = 0;
  let prevLo = 0;
  let prevHi = 0;
  let prevIndex = -1;
  for (let i = 0; i < count; i++) {
    const lo = words[2 * i]!;
    const hi = words[2 * i + 1]!;
    if (lo === prevLo && hi === prevHi && prevIndex >= 0) {
      indexes[i] = prevIndex;
      continue;
    }
    let h = (Math.imul(lo, 0x9e3779b1) ^ Math.imul(hi, 0x85ebca6b)) >>> 0;
    let index = -1;
    for (;;) {
      const at = h & mask;
      const slot = slots[at]!;
      if (slot === 0) {
        if (n === maxDistinct) return undefined;
        distinct[2 * n] = lo;
        distinct[2 * n + 1] = hi;
        keys[2 * at] = lo;
        keys[2 * at + 1] = hi;
        slots[at] = ++n;
        index = n - 1;
        break;
      }
      if (keys[2 * at] === lo && keys[2 * at + 1] === hi) {
        index = slot - 1;
        break;
      }
      h++;
    }
    indexes[i] = index;
    prevLo = lo;
    prevHi = hi;
    prevIndex = index;
  }
  return { values: distinct.subarray(0, 2 * n), size: n, indexes };
}

/**
 * True if a sample of the strings looks too varied for a dictionary to pay
 * (more than 90% distinct), so the full build is not even tried.
 */
export function stringsLookUnique(
  values: readonly string[],
  start: number,
  count: number,
): boolean {
  const sample = Math.min(count, 256);
  if (sample < 32) return false;
  const seen = new Set<string>();
  const step = count / sample;
  for (let k = 0; k < sample; k++) seen.add(values[start + Math.floor(k * step)]!);
  return seen.size > sample * 0.9;
}

/** Builds a dictionary of `values[start..start + count)`. */
export function stringDictionary(
  values: readonly string[],
  start: number,
  count: number,
  maxDistinct: number,
): Dictionary<string[]> | undefined {
  const distinct: string[] = [];
  const indexes = new Int32Array(count);
  const map = new Map<string, number>();
  // Low-cardinality columns are common (ids, region names): remember the
  // last few values and compare them directly before hashing.
  let a = "";
  let ai = -1;
  let b = "";
  let bi = -1;
  for (let i = 0; i < count; i++) {
    const s = values[start + i]!;
    if (s === a && ai >= 0) {
      indexes[i] = ai;
      continue;
    }
    if (s === b && bi >= 0) {
      indexes[i] = bi;
      b = a;
      bi = ai;
      a = s;
      ai = indexes[i]!;
      continue;
    }
    let index = map.get(s);
    if (index === undefined) {
      if (distinct.length === maxDistinct) return undefined;
      index = distinct.length;
      distinct.push(s);
      map.set(s, index);
    }
    indexes[i] = index;
    b = a;
    bi = ai;
    a = s;
    ai = index;
  }
  return { values: distinct, size: distinct.length, indexes };
}

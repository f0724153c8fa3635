/**
 * Counter-based pseudo-random numbers for the synthetic sources: every draw is
 * a pure function of its coordinates (a key and some counters), so any row can
 * be regenerated alone, in any order, with no state carried between calls.
 *
 * Invariants: every function here is pure, allocates nothing, and returns an
 * unsigned 32-bit integer (or a number derived from one). Keys and counters are
 * mixed with `Math.imul` only, never with BigInt, so the functions stay cheap
 * enough for the per-row hot path.
 */

const TWO_POW_32 = 4294967296;

/**
 * The 32-bit finalizer of MurmurHash3: a bijection on 32-bit integers with
 * full avalanche. Returns an unsigned 32-bit integer.
 *
 * @example
 * ```ts
 * fmix32(1); // 1364076727
 * ```
 */
export function fmix32(x: number): number {
  let h = x | 0;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/**
 * Mixes one 32-bit word into a running key. Unlike XOR of two finalized words,
 * the order of the words matters: `mix(mix(k, a), b) !== mix(mix(k, b), a)`.
 */
export function mix(key: number, word: number): number {
  return fmix32((Math.imul(key ^ 0x9e3779b9, 0x27d4eb2f) + (word | 0)) | 0);
}

/**
 * Mixes a non-negative integer of up to 53 bits (a tick or block counter) into
 * a key, both of its 32-bit halves.
 */
export function mixCounter(key: number, counter: number): number {
  const hi = Math.floor(counter / TWO_POW_32);
  return mix(mix(key, hi), counter >>> 0);
}

/**
 * Derives a 32-bit key from a seed (any safe integer) and a label, so that two
 * labels or two seeds give unrelated streams.
 *
 * @example
 * ```ts
 * deriveKey(42, "writer-0") !== deriveKey(42, "writer-1"); // true
 * ```
 */
export function deriveKey(seed: number, label: string): number {
  if (!Number.isSafeInteger(seed)) {
    throw new RangeError(
      `Cannot derive a random key: the seed must be a safe integer, got ${seed}`,
    );
  }
  let h = mixCounter(0x243f6a88, Math.abs(seed));
  if (seed < 0) h = mix(h, 0x5f3759df);
  // FNV-1a over UTF-16 code units, then mixed in with the length.
  let fnv = 0x811c9dc5;
  for (let i = 0; i < label.length; i++) {
    fnv = Math.imul(fnv ^ label.charCodeAt(i), 0x01000193);
  }
  return mix(mix(h, fnv), label.length);
}

/** Maps a 32-bit unsigned integer to a float in [0, 1). */
export function toUnit(u32: number): number {
  return (u32 >>> 0) / TWO_POW_32;
}

/**
 * Maps a 32-bit unsigned integer to a float in (0, 1), never exactly 0, so
 * that it can go into a logarithm or an inverse CDF.
 */
export function toOpenUnit(u32: number): number {
  return ((u32 >>> 0) + 0.5) / TWO_POW_32;
}

/**
 * The inverse of the standard normal CDF (Acklam's rational approximation,
 * relative error below 1.2e-9), for `p` in (0, 1).
 */
export function normalQuantile(p: number): number {
  if (!(p > 0 && p < 1)) {
    throw new RangeError(`Cannot take a normal quantile: p must be in (0, 1), got ${p}`);
  }
  const a = [
    -3.969683028665376e1,
    2.209460984245205e2,
    -2.759285104469687e2,
    1.38357751867269e2,
    -3.066479806614716e1,
    2.506628277459239,
  ];
  const b = [
    -5.447609879822406e1,
    1.615858368580409e2,
    -1.556989798598866e2,
    6.680131188771972e1,
    -1.328068155288572e1,
  ];
  const c = [
    -7.784894002430293e-3,
    -3.223964580411365e-1,
    -2.400758277161838,
    -2.549732539343734,
    4.374664141464968,
    2.938163982698783,
  ];
  const d = [7.784695709041462e-3, 3.224671290700398e-1, 2.445134137142996, 3.754408661907416];
  const low = 0.02425;
  if (p < low) {
    const q = Math.sqrt(-2 * Math.log(p));
    return (((((c[0]! * q + c[1]!) * q + c[2]!) * q + c[3]!) * q + c[4]!) * q + c[5]!) /
      ((((d[0]! * q + d[1]!) * q + d[2]!) * q + d[3]!) * q + 1);
  }
  if (p > 1 - low) return -normalQuantile(1 - p);
  const q = p - 0.5;
  const r = q * q;
  return (((((a[0]! * r + a[1]!) * r + a[2]!) * r + a[3]!) * r + a[4]!) * r + a[5]!) * q /
    (((((b[0]! * r + b[1]!) * r + b[2]!) * r + b[3]!) * r + b[4]!) * r + 1);
}

/**
 * A table of `size` standard normal quantiles at the midpoints of `size`
 * equal-probability cells: indexing it with uniform random bits draws an
 * (interval-discretized) standard normal value with one lookup. `size` must be
 * a power of two.
 */
export function normalTable(size: number): Float32Array {
  if (!(size >= 2 && (size & (size - 1)) === 0)) {
    throw new RangeError(`Cannot build a normal table: size must be a power of two, got ${size}`);
  }
  const table = new Float32Array(size);
  for (let i = 0; i < size; i++) table[i] = normalQuantile((i + 0.5) / size);
  return table;
}

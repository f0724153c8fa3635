/**
 * Exact readers of the text forms of dates, timestamps and decimals, shared
 * by every input path (CSV and NDJSON sources, partition values, statistics,
 * predicate literals), so that one text means one value everywhere.
 *
 * - date: `YYYY-MM-DD` (years 0001 to 9999), a real calendar day (2023-02-29
 *   is refused), held as days since 1970-01-01.
 * - date-time: `YYYY-MM-DD` then `T`, `t` or a space, then `HH:MM[:SS[.f]]`
 *   and optionally a zone (`Z` or `±HH:MM`, `±HHMM`, `±HH`), held as
 *   microseconds since the epoch (UTC for zoned text, the wall clock as if
 *   UTC otherwise). A fraction may have 1 to 9 digits; digits past the sixth
 *   are truncated, as Delta keeps microseconds.
 * - decimal: digits with optional sign, point and exponent, held as the
 *   unscaled value at a scale; nothing is ever rounded.
 *
 * Every reader is pure and returns `undefined` for text that does not fit.
 */

const SECONDS_PER_DAY = 86_400;
/** Seconds below which seconds * 1e6 + micros stays under 2^53. */
const SAFE_SECONDS = 9_007_199_253;

/** Days since 1970-01-01 of a proleptic Gregorian date (month 1-12). */
export function daysFromCivil(year: number, month: number, day: number): number {
  const y = month <= 2 ? year - 1 : year;
  const era = Math.floor(y / 400);
  const yearOfEra = y - era * 400;
  const dayOfYear = Math.floor((153 * (month + (month > 2 ? -3 : 9)) + 2) / 5) + day - 1;
  const dayOfEra = yearOfEra * 365 + Math.floor(yearOfEra / 4) - Math.floor(yearOfEra / 100) +
    dayOfYear;
  return era * 146_097 + dayOfEra - 719_468;
}

function daysInMonth(year: number, month: number): number {
  if (month === 2) {
    return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0 ? 29 : 28;
  }
  return month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31;
}

/** Reads `count` decimal digits at `at`, or returns -1. */
function digitsAt(text: string, at: number, count: number): number {
  let value = 0;
  for (let i = at; i < at + count; i++) {
    const d = text.charCodeAt(i) - 48;
    if (!(d >= 0 && d <= 9)) return -1; // written so that NaN (past the end) fails
    value = value * 10 + d;
  }
  return value;
}

/** Reads `YYYY-MM-DD` at the start of `text`, as days since epoch, or NaN. */
function dateAt(text: string): number {
  if (text.charCodeAt(4) !== 45 || text.charCodeAt(7) !== 45) return NaN;
  const year = digitsAt(text, 0, 4);
  const month = digitsAt(text, 5, 2);
  const day = digitsAt(text, 8, 2);
  if (year < 1 || month < 1 || month > 12 || day < 1) return NaN;
  if (day > daysInMonth(year, month)) return NaN;
  return daysFromCivil(year, month, day);
}

/** Reads a `YYYY-MM-DD` date as days since 1970-01-01, or `undefined`. */
export function readDate(text: string): number | undefined {
  if (text.length !== 10) return undefined;
  const days = dateAt(text);
  return Number.isNaN(days) ? undefined : days;
}

/** Whether a date-time must, may or must not carry a zone. */
export type ZoneRule = "required" | "forbidden" | "any";

/**
 * Reads an ISO-8601 date-time as microseconds since the epoch (UTC for zoned
 * text, the wall clock as if UTC otherwise), or returns `undefined`. `zone`
 * says whether a zone must, may or must not be present.
 */
export function readDateTime(text: string, zone: ZoneRule): number | bigint | undefined {
  const n = text.length;
  if (n < 16) return undefined;
  const days = dateAt(text);
  if (Number.isNaN(days)) return undefined;
  const sep = text.charCodeAt(10);
  if (sep !== 84 /* T */ && sep !== 116 /* t */ && sep !== 32 /* space */) return undefined;
  const hour = digitsAt(text, 11, 2);
  const minute = digitsAt(text, 14, 2);
  if (text.charCodeAt(13) !== 58 || hour < 0 || hour > 23 || minute < 0 || minute > 59) {
    return undefined;
  }
  let i = 16;
  let second = 0;
  let micros = 0;
  if (text.charCodeAt(i) === 58 /* : */) {
    second = digitsAt(text, i + 1, 2);
    if (second < 0 || second > 59) return undefined;
    i += 3;
    const point = text.charCodeAt(i);
    if (point === 46 /* . */ || point === 44 /* , */) {
      i++;
      const start = i;
      for (; i < n; i++) {
        const d = text.charCodeAt(i) - 48;
        if (d < 0 || d > 9) break;
        if (i - start < 6) micros = micros * 10 + d;
      }
      const count = i - start;
      if (count === 0 || count > 9) return undefined;
      for (let k = count; k < 6; k++) micros *= 10;
    }
  }
  let offset = 0;
  let hasZone = false;
  if (i < n) {
    const z = text.charCodeAt(i);
    if ((z === 90 /* Z */ || z === 122 /* z */) && i + 1 === n) {
      hasZone = true;
    } else if (z === 43 /* + */ || z === 45 /* - */) {
      offset = offsetSeconds(text, i + 1);
      if (Number.isNaN(offset)) return undefined;
      if (z === 45) offset = -offset;
      hasZone = true;
    } else {
      return undefined;
    }
  }
  if (hasZone ? zone === "forbidden" : zone === "required") return undefined;
  const seconds = days * SECONDS_PER_DAY + hour * 3600 + minute * 60 + second - offset;
  if (seconds > -SAFE_SECONDS && seconds < SAFE_SECONDS) return seconds * 1_000_000 + micros;
  return BigInt(seconds) * 1_000_000n + BigInt(micros);
}

/** Reads `HH:MM`, `HHMM` or `HH` ending the text, as seconds, or NaN. */
function offsetSeconds(text: string, at: number): number {
  const rest = text.length - at;
  const hours = digitsAt(text, at, 2);
  let minutes = 0;
  if (rest === 5 && text.charCodeAt(at + 2) === 58) minutes = digitsAt(text, at + 3, 2);
  else if (rest === 4) minutes = digitsAt(text, at + 2, 2);
  else if (rest !== 2) return NaN;
  if (hours < 0 || hours > 23 || minutes < 0 || minutes > 59) return NaN;
  return hours * 3600 + minutes * 60;
}

/**
 * Reads a decimal exactly as its unscaled value at `scale` (so `12.5` at
 * scale 2 is 1250n), or returns `undefined` if the text is not a number, has
 * non-zero digits past the scale, or needs more than `precision` digits.
 */
export function readDecimal(text: string, precision: number, scale: number): bigint | undefined {
  const n = text.length;
  let i = 0;
  const first = text.charCodeAt(0);
  if (first === 45 || first === 43) i = 1;
  const intStart = i;
  for (; i < n; i++) {
    const d = text.charCodeAt(i) - 48;
    if (d < 0 || d > 9) break;
  }
  const intEnd = i;
  let fracStart = i;
  let fracEnd = i;
  if (i < n && text.charCodeAt(i) === 46) {
    fracStart = ++i;
    for (; i < n; i++) {
      const d = text.charCodeAt(i) - 48;
      if (d < 0 || d > 9) break;
    }
    fracEnd = i;
  }
  if (intEnd === intStart && fracEnd === fracStart) return undefined;
  let exponent = 0;
  if (i < n && (text.charCodeAt(i) | 0x20) === 0x65) {
    const expText = text.slice(i + 1);
    if (!/^[+-]?\d{1,9}$/.test(expText)) return undefined;
    exponent = Number(expText);
    i = n;
  }
  if (i !== n) return undefined;
  let digits = text.slice(intStart, intEnd) + text.slice(fracStart, fracEnd);
  // value = digits * 10^shift / 10^scale, so the unscaled value is digits * 10^shift.
  let shift = exponent - (fracEnd - fracStart) + scale;
  let nonZero = digits.length;
  for (let k = 0; k < digits.length; k++) {
    if (digits.charCodeAt(k) !== 48) {
      nonZero = k;
      break;
    }
  }
  digits = digits.slice(nonZero);
  if (digits.length === 0) return 0n;
  if (shift < 0) {
    // Only trailing zeros may be dropped; anything else would round.
    const keep = digits.length + shift;
    for (let k = Math.max(keep, 0); k < digits.length; k++) {
      if (digits.charCodeAt(k) !== 48) return undefined;
    }
    digits = digits.slice(0, keep);
    shift = 0;
  }
  if (digits.length + shift > precision) return undefined;
  const unscaled = BigInt(digits) * 10n ** BigInt(shift);
  return first === 45 ? -unscaled : unscaled;
}

/** Reads a date-time with or without a zone as microseconds (a bigint), or `undefined`. */
export function readTimestampMicros(text: string): bigint | undefined {
  const value = readDateTime(text.trim(), "any");
  return value === undefined ? undefined : BigInt(value);
}

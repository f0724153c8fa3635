/**
 * Parsing and printing of the human units that flags accept: durations such
 * as `30s`, `200ms`, `7d`, and byte sizes such as `128MiB`, `64mb`, `1048576`.
 */

const DURATION_UNITS: Record<string, number> = {
  ms: 1,
  s: 1000,
  m: 60_000,
  min: 60_000,
  h: 3_600_000,
  d: 86_400_000,
  w: 604_800_000,
};

/**
 * Parses a duration into milliseconds. A bare number is seconds.
 *
 * @example
 * ```ts
 * parseDuration("200ms"); // 200
 * parseDuration("1h30m"); // 5_400_000
 * ```
 */
export function parseDuration(text: string): number {
  const trimmed = text.trim().toLowerCase();
  if (/^\d+(\.\d+)?$/.test(trimmed)) return Number(trimmed) * 1000;
  const part = /(\d+(?:\.\d+)?)\s*(ms|s|min|m|h|d|w)/y;
  let total = 0;
  let index = 0;
  while (index < trimmed.length) {
    part.lastIndex = index;
    const match = part.exec(trimmed);
    if (!match) {
      throw new RangeError(
        `Cannot parse duration "${text}": use a number with a unit, such as 200ms, 30s, 5m, 2h or 7d`,
      );
    }
    total += Number(match[1]) * DURATION_UNITS[match[2]!]!;
    index = part.lastIndex;
  }
  if (trimmed.length === 0) {
    throw new RangeError("Cannot parse duration: it is empty");
  }
  return total;
}

const BYTE_UNITS: Record<string, number> = {
  "": 1,
  b: 1,
  k: 1024,
  kb: 1000,
  kib: 1024,
  m: 1024 ** 2,
  mb: 1000 ** 2,
  mib: 1024 ** 2,
  g: 1024 ** 3,
  gb: 1000 ** 3,
  gib: 1024 ** 3,
};

/**
 * Parses a byte size. Binary units (KiB, MiB, GiB, and the bare K, M, G) are
 * powers of 1024; decimal units (KB, MB, GB) are powers of 1000.
 *
 * @example
 * ```ts
 * parseBytes("128MiB"); // 134_217_728
 * ```
 */
export function parseBytes(text: string): number {
  const match = /^\s*(\d+(?:\.\d+)?)\s*([a-z]*)\s*$/i.exec(text);
  const unit = BYTE_UNITS[match?.[2]?.toLowerCase() ?? "?"];
  if (!match || unit === undefined) {
    throw new RangeError(
      `Cannot parse size "${text}": use a number with an optional unit, such as 1048576, 512KiB, 128MiB or 1GiB`,
    );
  }
  return Math.round(Number(match[1]) * unit);
}

/** Formats a byte count for people: `1.5 MiB`. */
export function formatBytes(bytes: number): string {
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let value = bytes;
  let unit = 0;
  while (Math.abs(value) >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return unit === 0 ? `${bytes} B` : `${value.toFixed(1)} ${units[unit]}`;
}

/**
 * Formats milliseconds for people: `850 ms`, `12.3 s`, `15 s`, `4m 05s`, `2h 05m`,
 * `3d 04h`, and whole units in words: `1 min`, `10 min`, `1 hour`, `7 days`.
 */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms)) return String(ms);
  if (ms < 0) return `-${formatDuration(-ms)}`;
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1).replace(/\.0$/, "")} s`;
  const whole = (unit: number) => ms % unit === 0;
  const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? "" : "s"}`;
  if (whole(86_400_000)) return plural(ms / 86_400_000, "day");
  if (ms < 86_400_000 && whole(3_600_000)) return plural(ms / 3_600_000, "hour");
  if (ms < 3_600_000 && whole(60_000)) return `${ms / 60_000} min`;
  const pad = (n: number) => String(n).padStart(2, "0");
  if (ms >= 86_400_000) {
    const hours = Math.round(ms / 3_600_000);
    return `${Math.floor(hours / 24)}d ${pad(hours % 24)}h`;
  }
  if (ms >= 3_600_000) {
    const minutes = Math.round(ms / 60_000);
    return `${Math.floor(minutes / 60)}h ${pad(minutes % 60)}m`;
  }
  const seconds = Math.round(ms / 1000);
  return `${Math.floor(seconds / 60)}m ${pad(seconds % 60)}s`;
}

/**
 * Formats milliseconds the way a flag takes them, in the largest unit that
 * holds them whole: `200ms`, `30s`, `10m`, `1h`, `7d`.
 */
export function formatDurationFlag(ms: number): string {
  const units: [string, number][] = [["d", 86_400_000], ["h", 3_600_000], ["m", 60_000], [
    "s",
    1000,
  ]];
  for (const [unit, size] of units) {
    if (ms !== 0 && ms % size === 0) return `${ms / size}${unit}`;
  }
  return `${ms}ms`;
}

/**
 * Formats a byte count the way a flag takes it, in the largest binary unit
 * that holds it whole: `32MiB`, `1GiB`, `1000`.
 */
export function formatBytesFlag(bytes: number): string {
  const units: [string, number][] = [["GiB", 1024 ** 3], ["MiB", 1024 ** 2], ["KiB", 1024]];
  for (const [unit, size] of units) {
    if (bytes !== 0 && bytes % size === 0) return `${bytes / size}${unit}`;
  }
  return String(bytes);
}

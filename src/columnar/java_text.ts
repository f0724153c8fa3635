/**
 * Numbers, dates and times as Java prints them, for Spark's `to_json` of a
 * variant (`variant.ts`): `BigDecimal.toPlainString`, Java 17's
 * `Double.toString` and `Float.toString`, and `java.time`'s ISO forms.
 *
 * Invariant: every function is total over its input's range and prints what
 * Java 17 prints; the numbers' digits come from a port of Java 17's own
 * algorithm, which is not always the shortest (`floating_decimal.ts`).
 */

import { java17Double, java17Float } from "./floating_decimal.ts";

/** Java's `BigDecimal.stripTrailingZeros().toPlainString()`. */
export function plainDecimal(unscaled: bigint, scale: number): string {
  while (scale > 0 && unscaled % 10n === 0n) {
    unscaled /= 10n;
    scale--;
  }
  const negative = unscaled < 0n;
  const digits = (negative ? -unscaled : unscaled).toString();
  if (scale === 0) return (negative ? "-" : "") + digits;
  const padded = digits.padStart(scale + 1, "0");
  return `${negative ? "-" : ""}${padded.slice(0, -scale)}.${padded.slice(-scale)}`;
}

/** Java's `Double.toString` as Java 17 prints it (Spark 4.0 runs on it; `floating_decimal.ts`). */
export function javaDouble(n: number): string {
  return java17Double(n);
}

/** Java's `Float.toString` of a float32 value, as Java 17 prints it (`floating_decimal.ts`). */
export function javaFloat(n: number): string {
  return java17Float(Math.fround(n));
}

/** Days since the epoch as Java's `LocalDate.toString` (proleptic Gregorian). */
export function formatDay(days: number): string {
  // Howard Hinnant's civil_from_days.
  const z = days + 719468;
  const era = Math.floor(z / 146097);
  const doe = z - era * 146097;
  const yoe = Math.floor(
    (doe - Math.floor(doe / 1460) + Math.floor(doe / 36524) -
      Math.floor(doe / 146096)) / 365,
  );
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const day = doy - Math.floor((153 * mp + 2) / 5) + 1;
  const month = mp < 10 ? mp + 3 : mp - 9;
  const year = yoe + era * 400 + (month <= 2 ? 1 : 0);
  return `${javaYear(year)}-${pad2(month)}-${pad2(day)}`;
}

function javaYear(year: number): string {
  if (year > 9999) return `+${year}`;
  if (year < 0) return `-${String(-year).padStart(4, "0")}`;
  return String(year).padStart(4, "0");
}

/** Ticks since the epoch (`perSecond` a second) as `YYYY-MM-DD HH:MM:SS[.f]`. */
export function formatInstant(ticks: bigint, perSecond: bigint): string {
  const perDay = perSecond * 86_400n;
  let days = ticks / perDay;
  let rest = ticks % perDay;
  if (rest < 0n) {
    rest += perDay;
    days -= 1n;
  }
  return `${formatDay(Number(days))} ${formatTimeOfDay(rest, perSecond)}`;
}

/** A time of day as Java's ISO_LOCAL_TIME: `HH:MM:SS`, then as many fraction digits as needed. */
export function formatTimeOfDay(ticks: bigint, perSecond: bigint): string {
  const seconds = Number(ticks / perSecond);
  const fraction = ticks % perSecond;
  const width = perSecond === 1_000_000n ? 6 : 9;
  const time = `${pad2(Math.floor(seconds / 3600))}:${pad2(Math.floor(seconds / 60) % 60)}:${
    pad2(seconds % 60)
  }`;
  if (fraction === 0n) return time;
  return `${time}.${String(fraction).padStart(width, "0").replace(/0+$/, "")}`;
}

function pad2(n: number): string {
  return n < 10 ? `0${n}` : String(n);
}

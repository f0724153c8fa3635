/**
 * Numbers, dates and times as Java prints them, for Spark's `to_json` of a
 * variant (`variant.ts`): `BigDecimal.toPlainString`, Java 17's
 * `Double.toString` and `Float.toString`, and `java.time`'s ISO forms.
 *
 * Invariant: every function is total over its input's range and prints what
 * Java 17 prints, with two known exceptions where Java's older algorithm
 * picks other digits (the value read back is the same): a float beyond 2^63,
 * whose last digit may differ (about 1 in 4,000 random floats), and the
 * smallest subnormals, where Java gives more digits than the shortest
 * (`Double.MIN_VALUE` is `4.9E-324` in Java, `5.0E-324` here; the float
 * `1.4E-45` is `1.0E-45` here).
 */

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

/**
 * Java's `Double.toString` as Java 17 prints it (Spark 4.0 runs on it):
 * shortest digits, `1.5E10` outside [1e-3, 1e7), except that a whole number
 * of at least 2^54 keeps its integer digits down to the last significant one
 * (`integralDigits`).
 */
export function javaDouble(n: number): string {
  if (!Number.isFinite(n)) return String(n);
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, n);
  const high = view.getUint32(0);
  const binExp = ((high >>> 20) & 0x7ff) - 1023;
  const mantissa = (BigInt(high & 0xfffff) << 32n) | BigInt(view.getUint32(4));
  return javaLayout(
    n,
    integralDigits(n, binExp, mantissa | (1n << 52n), 52, 53) ??
      n.toExponential(),
  );
}

/** Java's `Float.toString` of a float32 value, as Java 17 prints it (see `javaDouble`). */
export function javaFloat(n: number): string {
  if (!Number.isFinite(n)) return String(n);
  const single = Math.fround(n);
  const view = new DataView(new ArrayBuffer(4));
  view.setFloat32(0, single);
  const bits = view.getUint32(0);
  const binExp = ((bits >>> 23) & 0xff) - 127;
  const integral = integralDigits(single, binExp, BigInt((bits & 0x7fffff) | 0x800000), 23, 24);
  if (integral) return javaLayout(single, integral);
  for (let digits = 1; digits <= 9; digits++) {
    const text = single.toExponential(digits - 1);
    if (Math.fround(Number(text)) === single) return javaLayout(single, halfEven(single, text));
  }
  return javaLayout(single, single.toExponential(8));
}

/**
 * `toExponential` rounds an exact tie up; Java rounds it to an even last
 * digit (`472046.125` is `472046.12`). `text` is `n.toExponential(k)`.
 */
function halfEven(n: number, text: string): string {
  const k = text.indexOf("e") - (text.includes(".") ? text.indexOf(".") + 1 : text.indexOf("e"));
  const exact = Math.abs(n).toExponential(Math.min(100, k + 40));
  const mantissa = exact.slice(0, exact.indexOf("e")).replace(".", "");
  if (mantissa[k + 1] !== "5" || !/^0*$/.test(mantissa.slice(k + 2))) return text;
  const truncated = mantissa.slice(0, k + 1);
  if (Number(truncated.at(-1)) % 2 !== 0) return text;
  const e = exact.slice(exact.indexOf("e") + 1);
  return `${n < 0 ? "-" : ""}${truncated[0]}${k > 0 ? "." + truncated.slice(1) : ""}e${e}`;
}

/**
 * The digits Java 17's `FloatingDecimal` gives a whole number below 2^63
 * (its "easy" long path), as `d.ddde±x`: the integer, rounded half up at
 * floor((binExp - significantBits - 1) * log10(2)) low digits when
 * `binExp > significantBits`, trailing zeros dropped. Undefined for any
 * other value, which gets the shortest digits.
 */
function integralDigits(
  n: number,
  binExp: number,
  fraction: bigint,
  fractionBits: number,
  significantBits: number,
): string | undefined {
  if (n === 0 || binExp < 0 || binExp > 62) return undefined;
  let tailZeros = 0;
  while (((fraction >> BigInt(tailZeros)) & 1n) === 0n) tailZeros++;
  if (fractionBits - tailZeros > binExp) return undefined; // not a whole number
  let value = BigInt(Math.abs(n));
  let insignificant = 0;
  const p2 = binExp - significantBits - 1;
  if (binExp > significantBits && p2 > 1) insignificant = Math.floor(p2 * Math.LOG10E * Math.LN2);
  if (insignificant > 0) {
    const pow10 = 10n ** BigInt(insignificant);
    const residue = value % pow10;
    value /= pow10;
    if (residue >= pow10 / 2n) value++;
  }
  const text = value.toString();
  const exponent = text.length - 1 + insignificant;
  const digits = text.replace(/0+$/, "");
  return `${n < 0 ? "-" : ""}${digits[0]}.${digits.slice(1) || "0"}e${exponent}`;
}

/** Lays out `d.ddde±x` digits as Java prints a floating-point number. */
function javaLayout(n: number, exponential: string): string {
  if (n === 0) return Object.is(n, -0) ? "-0.0" : "0.0";
  const negative = exponential.startsWith("-");
  const [mantissa, exp] = (negative ? exponential.slice(1) : exponential).split("e");
  const digits = mantissa!.replace(".", "").replace(/0+$/, "") || "0";
  const e = Number(exp);
  const sign = negative ? "-" : "";
  const abs = Math.abs(n);
  if (abs >= 1e-3 && abs < 1e7) {
    if (e < 0) return `${sign}0.${"0".repeat(-e - 1)}${digits}`;
    const int = digits.slice(0, e + 1).padEnd(e + 1, "0");
    const frac = digits.slice(e + 1) || "0";
    return `${sign}${int}.${frac}`;
  }
  return `${sign}${digits[0]}.${digits.slice(1) || "0"}E${e}`;
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

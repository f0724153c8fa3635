/**
 * Java 17's `Double.toString` and `Float.toString`, ported from the JDK's
 * `jdk.internal.math.FloatingDecimal` (`BinaryToASCIIBuffer.dtoa` and
 * `getChars`), which Spark 4.0's `to_json` of a variant runs on.
 *
 * That algorithm is not "shortest digits that read back": Java 19 replaced
 * it (JDK-4511638). It generates digits until the remainder is within half
 * an ulp, with a symmetric interval (half as wide below a power of two),
 * strict or non-strict bounds depending on which of its three integer
 * widths the value needs, a forced second digit in E notation, and int and
 * long arithmetic that can overflow and is kept here as Java does it
 * (`Math.imul`, `BigInt.asIntN(64, ...)`). Whole numbers below 2^63 take
 * its "easy" long path, rounded at `insignificantDigitsForPow2`. Its digits
 * may end in a zero that a round-up left (`0.0020`), which Java prints.
 *
 * Invariant: for every finite value, the text is Java 17's; checked against
 * the JDK's own output in tests/fixtures/java17_float_text.txt (written by
 * scripts/fixtures/JavaFloatText.java).
 */

const EXP_SHIFT = 52;
const FRACT_HOB = 1n << 52n;
const SIGNIF_BIT_MASK = FRACT_HOB - 1n;
const MAX_SMALL_BIN_EXP = 62;
const MIN_SMALL_BIN_EXP = -21; // -(63 / 3) in Java's int division
const LONG_5_POW = Array.from({ length: 27 }, (_, i) => 5n ** BigInt(i));
const SMALL_5_POW = Array.from({ length: 14 }, (_, i) => 5 ** i);
/** The bit length of 5^i. */
const N_5_BITS = LONG_5_POW.map((p) => p.toString(2).length - (p === 1n ? 1 : 0));
const INSIGNIFICANT_DIGITS = [
  0,
  0,
  0,
  0,
  1,
  1,
  1,
  2,
  2,
  2,
  3,
  3,
  3,
  3,
  4,
  4,
  4,
  5,
  5,
  5,
  6,
  6,
  6,
  6,
  7,
  7,
  7,
  8,
  8,
  8,
  9,
  9,
  9,
  9,
  10,
  10,
  10,
  11,
  11,
  11,
  12,
  12,
  12,
  12,
  13,
  13,
  13,
  14,
  14,
  14,
  15,
  15,
  15,
  15,
  16,
  16,
  16,
  17,
  17,
  17,
  18,
  18,
  18,
  19,
];

/** Java's digits of a value: 0.`digits` × 10^`decExponent`. */
interface JavaDigits {
  digits: number[];
  decExponent: number;
}

/** Java 17's `Double.toString(n)`. */
export function java17Double(n: number): string {
  if (!Number.isFinite(n)) return String(n);
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, n);
  const bits = view.getBigUint64(0);
  const negative = bits >> 63n === 1n;
  let fractBits = bits & SIGNIF_BIT_MASK;
  let binExp = Number((bits >> 52n) & 0x7ffn);
  if (binExp === 0 && fractBits === 0n) return negative ? "-0.0" : "0.0";
  let nSignificantBits: number;
  if (binExp === 0) {
    const leadingZeros = 64 - fractBits.toString(2).length;
    const shift = leadingZeros - (63 - EXP_SHIFT);
    fractBits <<= BigInt(shift);
    binExp = 1 - shift;
    nSignificantBits = 64 - leadingZeros;
  } else {
    fractBits |= FRACT_HOB;
    nSignificantBits = EXP_SHIFT + 1;
  }
  return javaChars(negative, dtoa(binExp - 1023, fractBits, nSignificantBits));
}

/** Java 17's `Float.toString` of the float32 value `n`. */
export function java17Float(n: number): string {
  if (!Number.isFinite(n)) return String(n);
  const view = new DataView(new ArrayBuffer(4));
  view.setFloat32(0, n);
  const bits = view.getUint32(0);
  const negative = bits >>> 31 === 1;
  let fractBits = bits & 0x7fffff;
  let binExp = (bits >>> 23) & 0xff;
  if (binExp === 0 && fractBits === 0) return negative ? "-0.0" : "0.0";
  let nSignificantBits: number;
  if (binExp === 0) {
    const leadingZeros = Math.clz32(fractBits);
    const shift = leadingZeros - (31 - 23);
    fractBits <<= shift;
    binExp = 1 - shift;
    nSignificantBits = 32 - leadingZeros;
  } else {
    fractBits |= 0x800000;
    nSignificantBits = 24;
  }
  const digits = dtoa(binExp - 127, BigInt(fractBits) << BigInt(EXP_SHIFT - 23), nSignificantBits);
  return javaChars(negative, digits);
}

/** `BinaryToASCIIBuffer.dtoa` with `isCompatibleFormat` true. */
function dtoa(binExp: number, fractBits: bigint, nSignificantBits: number): JavaDigits {
  let tailZeros = 0;
  while (((fractBits >> BigInt(tailZeros)) & 1n) === 0n) tailZeros++;
  const nFractBits = EXP_SHIFT + 1 - tailZeros;
  const nTinyBits = Math.max(0, nFractBits - binExp - 1);
  if (
    binExp <= MAX_SMALL_BIN_EXP && binExp >= MIN_SMALL_BIN_EXP &&
    nTinyBits < LONG_5_POW.length && nFractBits + N_5_BITS[nTinyBits]! < 64 && nTinyBits === 0
  ) {
    // A whole number that fits in a long.
    const insignificant = binExp > nSignificantBits
      ? insignificantDigitsForPow2(binExp - nSignificantBits - 1)
      : 0;
    const value = binExp >= EXP_SHIFT
      ? fractBits << BigInt(binExp - EXP_SHIFT)
      : fractBits >> BigInt(EXP_SHIFT - binExp);
    return developLongDigits(value, insignificant);
  }

  let decExp = estimateDecExp(fractBits, binExp);
  const B5 = Math.max(0, -decExp);
  let B2 = B5 + nTinyBits + binExp;
  const S5 = Math.max(0, decExp);
  let S2 = S5 + nTinyBits;
  const M5 = B5;
  let M2 = B2 - nSignificantBits;
  fractBits >>= BigInt(tailZeros);
  B2 -= nFractBits - 1;
  const common2 = Math.min(B2, S2);
  B2 -= common2;
  S2 -= common2;
  M2 -= common2;
  // Below a power of two the next value down is half as far away.
  if (nFractBits === 1) M2 -= 1;
  if (M2 < 0) {
    B2 -= M2;
    S2 -= M2;
    M2 = 0;
  }
  const bBits = nFractBits + B2 + (B5 < N_5_BITS.length ? N_5_BITS[B5]! : B5 * 3);
  const tenSBits = S2 + 1 + (S5 + 1 < N_5_BITS.length ? N_5_BITS[S5 + 1]! : (S5 + 1) * 3);

  const digits: number[] = [];
  let low: boolean;
  let high: boolean;
  let lowDigitDifference: bigint;
  // In E notation Java always prints a digit after the point.
  const eForm = () => decExp < -3 || decExp >= 8;
  if (bBits < 32 && tenSBits < 32) {
    // int arithmetic, wrapping as Java's does.
    let b = Math.imul(Number(BigInt.asIntN(32, fractBits)), SMALL_5_POW[B5]!) << B2;
    const s = SMALL_5_POW[S5]! << S2;
    let m = SMALL_5_POW[M5]! << M2;
    const tens = Math.imul(s, 10);
    let q = Math.trunc(b / s);
    b = Math.imul(10, b % s);
    m = Math.imul(m, 10);
    low = b < m;
    high = ((b + m) | 0) > tens;
    if (q === 0 && !high) decExp--;
    else digits.push(q);
    if (eForm()) high = low = false;
    while (!low && !high) {
      q = Math.trunc(b / s);
      b = Math.imul(10, b % s);
      m = Math.imul(m, 10);
      if (m > 0) {
        low = b < m;
        high = ((b + m) | 0) > tens;
      } else low = high = true; // m overflowed
      digits.push(q);
    }
    lowDigitDifference = BigInt(((b << 1) - tens) | 0);
  } else if (bBits < 64 && tenSBits < 64) {
    // long arithmetic, wrapping as Java's does.
    const long = (x: bigint) => BigInt.asIntN(64, x);
    let b = long(long(fractBits * LONG_5_POW[B5]!) << BigInt(B2));
    const s = long(LONG_5_POW[S5]! << BigInt(S2));
    let m = long(LONG_5_POW[M5]! << BigInt(M2));
    const tens = long(s * 10n);
    let q = Number(b / s);
    b = long(10n * (b % s));
    m = long(m * 10n);
    low = b < m;
    high = long(b + m) > tens;
    if (q === 0 && !high) decExp--;
    else digits.push(q);
    if (eForm()) high = low = false;
    while (!low && !high) {
      q = Number(b / s);
      b = long(10n * (b % s));
      m = long(m * 10n);
      if (m > 0n) {
        low = b < m;
        high = long(b + m) > tens;
      } else low = high = true; // m overflowed
      digits.push(q);
    }
    lowDigitDifference = long(long(b << 1n) - tens);
  } else {
    // FDBigInteger arithmetic: exact, and a sum equal to 10·S counts as high.
    const s = pow5(S5) << BigInt(S2);
    let b = fractBits * pow5(B5) << BigInt(B2);
    let m = pow5(M5) << BigInt(M2);
    const tens = s * 10n;
    let q = Number(b / s);
    b = 10n * (b % s);
    m *= 10n;
    low = b < m;
    high = b + m >= tens;
    if (q === 0 && !high) decExp--;
    else digits.push(q);
    if (eForm()) high = low = false;
    while (!low && !high) {
      q = Number(b / s);
      b = 10n * (b % s);
      m *= 10n;
      low = b < m;
      high = b + m >= tens;
      digits.push(q);
    }
    const twice = b << 1n;
    lowDigitDifference = high && low ? (twice > tens ? 1n : twice < tens ? -1n : 0n) : 0n;
  }
  const result = { digits, decExponent: decExp + 1 };
  // The last digit is rounded by the stopping condition.
  if (high) {
    if (low) {
      if (lowDigitDifference === 0n) {
        if ((digits[digits.length - 1]! & 1) !== 0) roundup(result);
      } else if (lowDigitDifference > 0n) roundup(result);
    } else roundup(result);
  }
  return result;
}

function pow5(i: number): bigint {
  return i < LONG_5_POW.length ? LONG_5_POW[i]! : 5n ** BigInt(i);
}

function insignificantDigitsForPow2(p2: number): number {
  return p2 > 1 && p2 < INSIGNIFICANT_DIGITS.length ? INSIGNIFICANT_DIGITS[p2]! : 0;
}

/** floor(log10(value)), estimated from the fraction and binary exponent as Java does. */
function estimateDecExp(fractBits: bigint, binExp: number): number {
  const d2 = 1 + Number(fractBits & SIGNIF_BIT_MASK) / 2 ** 52;
  const d = (d2 - 1.5) * 0.289529654 + 0.176091259 + binExp * 0.301029995663981;
  return Math.floor(d);
}

/** The digits of a whole number, rounded half up at `insignificant` low digits. */
function developLongDigits(value: bigint, insignificant: number): JavaDigits {
  let decExponent = 0;
  if (insignificant !== 0) {
    const pow10 = LONG_5_POW[insignificant]! << BigInt(insignificant);
    const residue = value % pow10;
    value /= pow10;
    decExponent += insignificant;
    if (residue >= pow10 >> 1n) value++;
  }
  const text = value.toString();
  const digits = [...text.replace(/0+$/, "")].map(Number);
  return { digits, decExponent: decExponent + text.length };
}

/** Adds one to the last digit, carrying. */
function roundup(d: JavaDigits): void {
  let i = d.digits.length - 1;
  let q = d.digits[i]!;
  if (q === 9) {
    while (q === 9 && i > 0) {
      d.digits[i] = 0;
      q = d.digits[--i]!;
    }
    if (q === 9) {
      // Carry out: a one and zeros, one more in the exponent.
      d.decExponent += 1;
      d.digits[0] = 1;
      return;
    }
  }
  d.digits[i] = q + 1;
}

/** `BinaryToASCIIBuffer.getChars`: plain in [1e-3, 1e7), else `d.dddE±x`. */
function javaChars(negative: boolean, { digits, decExponent }: JavaDigits): string {
  const sign = negative ? "-" : "";
  const text = digits.join("");
  const n = digits.length;
  if (decExponent > 0 && decExponent < 8) {
    const intLength = Math.min(n, decExponent);
    const int = text.slice(0, intLength);
    if (intLength < decExponent) return `${sign}${int}${"0".repeat(decExponent - intLength)}.0`;
    return `${sign}${int}.${intLength < n ? text.slice(intLength) : "0"}`;
  }
  if (decExponent <= 0 && decExponent > -3) {
    return `${sign}0.${"0".repeat(-decExponent)}${text}`;
  }
  return `${sign}${text[0]}.${n > 1 ? text.slice(1) : "0"}E${decExponent - 1}`;
}

import { InputError } from "../../src/util/errors.ts";
import {
  cannotRead,
  coerceBinary,
  coerceBoolean,
  coerceDecimal,
  coerceFloating,
  coerceInt,
  coerceLong,
  readBase64,
  readDecimal,
  readDouble,
  readFloat,
  readInt,
  readLong,
} from "../../src/sources/coerce.ts";
import {
  coerceDate,
  coerceTimestamp,
  coerceTimestampNtz,
  daysFromCivil,
  readDate,
  readDateTime,
} from "../../src/sources/coerce_time.ts";
import { assert, assertEquals, assertThrows } from "../_helpers/assert.ts";

Deno.test("coerceInt() reads each narrow type up to its limits and no further", () => {
  assertEquals(coerceInt("127", "byte"), 127);
  assertEquals(coerceInt("-128", "byte"), -128);
  assertThrows(() => coerceInt("128", "byte"), 'Cannot read "128" as byte');
  assertThrows(() => coerceInt("-129", "byte"), "from -128 to 127");
  assertEquals(coerceInt("32767", "short"), 32767);
  assertThrows(() => coerceInt("32768", "short"), "as short");
  assertEquals(coerceInt("2147483647", "integer"), 2147483647);
  assertEquals(coerceInt("-2147483648", "integer"), -2147483648);
  assertThrows(() => coerceInt("2147483648", "integer"), "as integer");
  assertEquals(coerceInt("+42", "integer"), 42);
  assertEquals(coerceInt("0007", "integer"), 7);
});

Deno.test("coerceInt() refuses fractions, exponents, blanks and stray characters", () => {
  for (const text of ["1.5", "1e3", "", "-", "+", " 1", "1 ", "12x", "0x10", "1_000", "١"]) {
    assertThrows(() => coerceInt(text, "integer"), `Cannot read ${JSON.stringify(text)}`);
  }
});

Deno.test("readInt() turns -0 into 0", () => {
  assert(Object.is(readInt("-0", -10, 10), 0));
});

Deno.test("coerceLong() is exact over all of int64", () => {
  assertEquals(coerceLong("9223372036854775807"), 9223372036854775807n);
  assertEquals(coerceLong("-9223372036854775808"), -9223372036854775808n);
  assertEquals(coerceLong("9007199254740993"), 9007199254740993n); // 2^53 + 1: a double would round
  assertEquals(coerceLong("-9007199254740993"), -9007199254740993n);
  assertEquals(coerceLong("123456789012345"), 123456789012345n);
  assertEquals(coerceLong("-0"), 0n);
  assertEquals(coerceLong("+000000000000000000000042"), 42n);
  assertThrows(() => coerceLong("9223372036854775808"), "as long");
  assertThrows(() => coerceLong("-9223372036854775809"), "as long");
  assertThrows(() => coerceLong("1.5"), "as long");
  assertThrows(() => coerceLong("1e3"), "as long");
  assertThrows(() => coerceLong("99999999999999999999x"), "as long");
});

Deno.test("readLong() returns safe values as numbers and larger ones as bigints", () => {
  assertEquals(readLong("9007199254740991"), 9007199254740991);
  assertEquals(readLong("9007199254740992"), 9007199254740992n);
  assert(Object.is(readLong("-0"), 0));
});

Deno.test("readDouble() reads decimal notation, exponents and special values", () => {
  assertEquals(readDouble("1.5"), 1.5);
  assertEquals(readDouble("-2.5e-3"), -0.0025);
  assertEquals(readDouble("6.02E23"), 6.02e23);
  assertEquals(readDouble("1e+2"), 100);
  assertEquals(readDouble(".5"), 0.5);
  assertEquals(readDouble("5."), 5);
  assert(Object.is(readDouble("-0"), -0));
  assert(Object.is(readDouble("-0.0"), -0));
  assert(Number.isNaN(readDouble("NaN")));
  assert(Number.isNaN(readDouble("nan")));
  assertEquals(readDouble("Infinity"), Infinity);
  assertEquals(readDouble("-Infinity"), -Infinity);
  assertEquals(readDouble("+inf"), Infinity);
  assertEquals(readDouble("-INF"), -Infinity);
});

Deno.test("readDouble() refuses what Number() would quietly accept", () => {
  for (const text of ["", " 1", "1 ", "0x10", "0b1", "1e", "1e+", "e5", ".", "-", "1,5", "--1"]) {
    assertEquals(readDouble(text), undefined, text);
  }
  assertEquals(readDouble("-NaN"), undefined);
  assertEquals(readDouble("infinit"), undefined);
  assertEquals(readDouble("1e400"), undefined); // finite text, infinite double
});

Deno.test("readDouble() agrees with Number() on random decimal text", () => {
  let seed = 12345;
  const random = () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32;
  const digits = (count: number) => {
    let text = "";
    for (let k = 0; k < count; k++) text += Math.floor(random() * 10);
    return text;
  };
  for (let k = 0; k < 20_000; k++) {
    let text = (random() < 0.3 ? "-" : "") + digits(1 + Math.floor(random() * 12));
    if (random() < 0.8) text += "." + digits(Math.floor(random() * 12));
    if (random() < 0.1) text += `e${random() < 0.5 ? "-" : ""}${Math.floor(random() * 40)}`;
    assert(Object.is(readDouble(text), Number(text)), text);
  }
});

Deno.test("readFloat() rounds to float32 and refuses values beyond its range", () => {
  assertEquals(readFloat("0.1"), Math.fround(0.1));
  assertEquals(readFloat("3.4028234663852886e38"), 3.4028234663852886e38);
  assertEquals(readFloat("3.5e38"), undefined);
  assertEquals(readFloat("-Infinity"), -Infinity);
  assertThrows(() => coerceFloating("1e39", "float"), 'Cannot read "1e39" as float');
  assertEquals(coerceFloating("1e39", "double"), 1e39);
});

Deno.test("coerceBoolean() takes true/false in any case and 1/0", () => {
  for (const text of ["true", "TRUE", "True", "tRuE", "1"]) assertEquals(coerceBoolean(text), true);
  for (const text of ["false", "FALSE", "False", "0"]) assertEquals(coerceBoolean(text), false);
  for (const text of ["", "yes", "t", "2", "truee", "fals", " true"]) {
    assertThrows(() => coerceBoolean(text), "expected true, false, 1 or 0");
  }
});

Deno.test("coerceBinary() decodes standard and URL-safe base64, padded or not", () => {
  const bytes = new Uint8Array([0xfb, 0xff, 0x01, 0x02]);
  assertEquals(coerceBinary("+/8BAg=="), bytes);
  assertEquals(coerceBinary("-_8BAg"), bytes);
  assertEquals(coerceBinary(""), new Uint8Array(0));
  assertEquals(coerceBinary("aGk="), new TextEncoder().encode("hi"));
  assertEquals(readBase64("aGk=="), undefined);
  assertEquals(readBase64("aGl="), undefined); // non-zero padding bits
  assertEquals(readBase64("a"), undefined);
  assertThrows(() => coerceBinary("not base64!"), "expected base64 text");
});

Deno.test("coerceDecimal() is exact with sign, point and exponent", () => {
  assertEquals(coerceDecimal("123.45", 5, 2), 12345n);
  assertEquals(coerceDecimal("-123.45", 5, 2), -12345n);
  assertEquals(coerceDecimal("+1.5", 5, 2), 150n);
  assertEquals(coerceDecimal("7", 5, 2), 700n);
  assertEquals(coerceDecimal(".5", 3, 1), 5n);
  assertEquals(coerceDecimal("1.2345e2", 5, 2), 12345n);
  assertEquals(coerceDecimal("12345E-2", 5, 2), 12345n);
  assertEquals(coerceDecimal("-0", 5, 2), 0n);
  assertEquals(coerceDecimal("0e-999999", 5, 2), 0n);
  assertEquals(coerceDecimal("1.50", 3, 1), 15n); // a trailing zero changes nothing
  assertEquals(coerceDecimal("00001.2", 2, 1), 12n);
});

Deno.test("coerceDecimal() refuses rounding and values past the precision", () => {
  assertThrows(() => coerceDecimal("1.234", 5, 2), 'Cannot read "1.234" as decimal(5,2)');
  assertThrows(() => coerceDecimal("0.001", 5, 2), "never rounded");
  assertThrows(() => coerceDecimal("1234.5", 5, 2), "at most 5 digits");
  assertThrows(() => coerceDecimal("1e3", 5, 2), "decimal(5,2)");
  assertThrows(() => coerceDecimal("1e999999", 38, 0), "decimal(38,0)");
  for (const text of ["", ".", "-", "1.2.3", "1e", "1e1.5", "abc", "1 ", "NaN", "Infinity"]) {
    assertEquals(readDecimal(text, 10, 2), undefined, text);
  }
});

Deno.test("coerceDecimal() reaches precision 38 exactly", () => {
  const max = "9".repeat(38);
  assertEquals(coerceDecimal(max, 38, 0), 10n ** 38n - 1n);
  assertEquals(coerceDecimal(`-${max}`, 38, 0), -(10n ** 38n - 1n));
  assertThrows(() => coerceDecimal(`1${"0".repeat(38)}`, 38, 0), "decimal(38,0)");
  assertEquals(coerceDecimal(`0.${max}`, 38, 38), 10n ** 38n - 1n);
  assertEquals(coerceDecimal("9.99", 3, 2), 999n);
  assertThrows(() => coerceDecimal("10.00", 3, 2), "decimal(3,2)");
});

Deno.test("coerceDate() counts days from 1970-01-01 in the proleptic Gregorian calendar", () => {
  assertEquals(coerceDate("1970-01-01"), 0);
  assertEquals(coerceDate("1969-12-31"), -1);
  assertEquals(coerceDate("2000-03-01"), 11017);
  assertEquals(coerceDate("2024-02-29"), 19782);
  assertEquals(coerceDate("0001-01-01"), -719162);
  assertEquals(coerceDate("9999-12-31"), 2932896);
  assertEquals(daysFromCivil(2024, 2, 29), Date.UTC(2024, 1, 29) / 86_400_000);
});

Deno.test("coerceDate() refuses days that are not on the calendar", () => {
  for (const text of ["2023-02-29", "1900-02-29", "2024-04-31", "2024-13-01", "2024-00-10"]) {
    assertThrows(() => coerceDate(text), "expected a calendar date as YYYY-MM-DD");
  }
  assertEquals(readDate("2000-02-29"), 11016); // divisible by 400: a leap year
  for (const text of ["0000-01-01", "2024-1-01", "2024/01/01", "20240101", "2024-01-01T00:00Z"]) {
    assertEquals(readDate(text), undefined, text);
  }
});

const micros = (iso: string) => BigInt(Date.parse(iso)) * 1000n;

Deno.test("coerceTimestamp() reads Z and offsets into UTC microseconds", () => {
  assertEquals(coerceTimestamp("2024-05-01T12:30:00Z"), micros("2024-05-01T12:30:00Z"));
  assertEquals(coerceTimestamp("2024-05-01T14:30:00+02:00"), micros("2024-05-01T12:30:00Z"));
  assertEquals(coerceTimestamp("2024-05-01T08:00:00-04:30"), micros("2024-05-01T12:30:00Z"));
  assertEquals(coerceTimestamp("2024-05-01 14:30:00+0200"), micros("2024-05-01T12:30:00Z"));
  assertEquals(coerceTimestamp("2024-05-01t14:30+02"), micros("2024-05-01T12:30:00Z"));
  assertEquals(coerceTimestamp("2024-05-01T12:30:00z"), micros("2024-05-01T12:30:00Z"));
  assertEquals(coerceTimestamp("1970-01-01T00:00:00Z"), 0n);
  assertEquals(coerceTimestamp("2024-01-01T00:30:00+01:00"), micros("2023-12-31T23:30:00Z"));
});

Deno.test("coerceTimestamp() keeps six fraction digits and truncates the seventh to ninth", () => {
  const base = micros("2024-05-01T12:30:00Z");
  assertEquals(coerceTimestamp("2024-05-01T12:30:00.5Z"), base + 500_000n);
  assertEquals(coerceTimestamp("2024-05-01T12:30:00.123456Z"), base + 123_456n);
  assertEquals(coerceTimestamp("2024-05-01T12:30:00.1234567Z"), base + 123_456n);
  assertEquals(coerceTimestamp("2024-05-01T12:30:00.12345678Z"), base + 123_456n);
  assertEquals(coerceTimestamp("2024-05-01T12:30:00.999999999Z"), base + 999_999n);
  assertEquals(coerceTimestamp("2024-05-01T12:30:00,25Z"), base + 250_000n);
  assertThrows(() => coerceTimestamp("2024-05-01T12:30:00.1234567890Z"), "as timestamp");
  assertThrows(() => coerceTimestamp("2024-05-01T12:30:00.Z"), "as timestamp");
  // Before the epoch the fraction still counts forward from the second.
  assertEquals(coerceTimestamp("1969-12-31T23:59:59.75Z"), -250_000n);
});

Deno.test("coerceTimestamp() is exact far from the epoch", () => {
  assertEquals(coerceTimestamp("9999-12-31T23:59:59.999999Z"), 253402300799999999n);
  assertEquals(coerceTimestamp("0001-01-01T00:00:00Z"), -62135596800000000n);
  assertEquals(readDateTime("2300-01-01T00:00:00.000001Z", "required"), 10413792000000001n);
});

Deno.test("coerceTimestamp() requires a zone and coerceTimestampNtz() forbids one", () => {
  assertThrows(() => coerceTimestamp("2024-05-01T12:30:00"), "use timestamp_ntz");
  assertThrows(() => coerceTimestampNtz("2024-05-01T12:30:00Z"), "use timestamp for times");
  assertEquals(
    coerceTimestampNtz("2024-05-01T12:30:00.000001"),
    micros("2024-05-01T12:30:00Z") + 1n,
  );
  assertEquals(coerceTimestampNtz("2024-05-01 12:30"), micros("2024-05-01T12:30:00Z"));
});

Deno.test("coerceTimestamp() refuses impossible times and malformed zones", () => {
  for (
    const text of [
      "2024-05-01T24:00:00Z",
      "2024-05-01T12:60:00Z",
      "2024-05-01T12:30:60Z",
      "2023-02-29T00:00:00Z",
      "2024-05-01T12:30:00+24:00",
      "2024-05-01T12:30:00+02:60",
      "2024-05-01T12:30:00+2",
      "2024-05-01T12:30:00 Z",
      "2024-05-01T12:30:00Zx",
      "2024-05-01X12:30:00Z",
      "2024-05-01",
      "2024-05-01T1:30:00Z",
    ]
  ) {
    assertEquals(readDateTime(text, "any"), undefined, text);
  }
});

Deno.test("cannotRead() names file, line and column when it knows them", () => {
  const error = cannotRead("12x", "integer", { file: "data.csv", line: 17, column: "neuron_id" });
  assert(error instanceof InputError);
  assertEquals(error.file, "data.csv");
  assertEquals(error.line, 17);
  assertEquals(error.column, "neuron_id");
  assert(
    error.message.startsWith('data.csv:17: column "neuron_id": cannot read "12x" as integer: '),
    error.message,
  );
  const bare = assertThrows(() => coerceInt("abc", "integer"));
  assert(bare.message.startsWith('Cannot read "abc" as integer: expected'), bare.message);
  assert(!bare.message.endsWith("."), "no final period");
});

Deno.test("cannotRead() shortens very long values", () => {
  const error = cannotRead("x".repeat(1000), "long");
  assert(error.message.length < 300, error.message);
  assert(error.message.includes("…"));
});

import {
  classifyJson,
  classifyText,
  InferenceError,
  type InferredType,
  mergeTypes,
  TypeSampler,
} from "../../src/sources/infer.ts";
import { assertEquals, assertThrows } from "../_helpers/assert.ts";

Deno.test("classifyText() recognises each inferable type", () => {
  const cases: [string, InferredType][] = [
    ["42", "long"],
    ["-42", "long"],
    ["+7", "long"],
    ["0", "long"],
    ["-0", "long"],
    ["9223372036854775807", "long"],
    ["9223372036854775808", "decimal(19,0)"],
    ["-12345678901234567890123", "decimal(23,0)"],
    ["99999999999999999999999999999999999999", "decimal(38,0)"],
    ["1.5", "double"],
    ["-0.25", "double"],
    [".5", "double"],
    ["1e3", "double"],
    ["NaN", "double"],
    ["-Infinity", "double"],
    ["true", "boolean"],
    ["FALSE", "boolean"],
    ["2024-02-29", "date"],
    ["2024-05-01T12:30:00Z", "timestamp"],
    ["2024-05-01 12:30:00.123+02:00", "timestamp"],
    ["2024-05-01T12:30:00.123456789", "timestamp_ntz"],
    ["2024-05-01 12:30", "timestamp_ntz"],
    ["hello", "string"],
    ["12x", "string"],
    ["2023-02-29", "string"],
    ["2024-05-01T25:00:00Z", "string"],
    ["t", "string"],
    ["yes", "string"],
    ["Infinite", "string"],
    ["-", "string"],
  ];
  for (const [text, type] of cases) assertEquals(classifyText(text), type, text);
});

Deno.test("classifyText() keeps digits with a leading zero as text", () => {
  assertEquals(classifyText("007"), "string");
  assertEquals(classifyText("-01"), "string");
  assertEquals(classifyText("00.5"), "string");
  assertEquals(classifyText("0.5"), "double");
});

Deno.test("classifyJson() types numbers by their text and recognises dates in strings only", () => {
  assertEquals(classifyJson("number", "12"), "long");
  assertEquals(classifyJson("number", "12.0"), "double");
  assertEquals(classifyJson("number", "1e2"), "double");
  assertEquals(classifyJson("number", "123456789012345678901234"), "decimal(24,0)");
  assertEquals(classifyJson("number", "1e400"), "string");
  assertEquals(classifyJson("string", "12"), "string");
  assertEquals(classifyJson("string", "true"), "string");
  assertEquals(classifyJson("string", "2024-05-01"), "date");
  assertEquals(classifyJson("string", "2024-05-01T00:00:00Z"), "timestamp");
  assertEquals(classifyJson("string", "2024-05-01T00:00:00"), "timestamp_ntz");
  assertEquals(classifyJson("boolean", "true"), "boolean");
  assertEquals(classifyJson("null", "null"), undefined);
});

Deno.test("mergeTypes() widens long with double and falls back to string for other mixes", () => {
  assertEquals(mergeTypes(undefined, "date"), "date");
  assertEquals(mergeTypes("long", "long"), "long");
  assertEquals(mergeTypes("long", "double"), "double");
  assertEquals(mergeTypes("double", "long"), "double");
  assertEquals(mergeTypes("long", "boolean"), "string");
  assertEquals(mergeTypes("date", "timestamp"), "string");
  assertEquals(mergeTypes("timestamp", "timestamp_ntz"), "string");
  assertEquals(mergeTypes("string", "long"), "string");
});

Deno.test("TypeSampler makes every field nullable and an unseen column string", () => {
  const sampler = new TypeSampler();
  sampler.observe(0, "long");
  sampler.observe(0, "double");
  sampler.observe(2, "boolean");
  assertEquals(sampler.fields(["a", "b", "c"]), [
    { name: "a", type: "double", nullable: true },
    { name: "b", type: "string", nullable: true },
    { name: "c", type: "boolean", nullable: true },
  ]);
});

Deno.test("an integer beyond int64 is inferred as decimal(p,0), as Spark infers it, never as a rounded double", () => {
  // 2^63 and beyond: a double would hold 9223372036854775808 but round 9223372036854775809.
  assertEquals(classifyText("9223372036854775809"), "decimal(19,0)");
  assertEquals(classifyJson("number", "-9223372036854775809"), "decimal(19,0)");
  assertEquals(mergeTypes("long", "decimal(19,0)"), "decimal(20,0)");
  assertEquals(mergeTypes("decimal(25,0)", "long"), "decimal(25,0)");
  assertEquals(mergeTypes("decimal(19,0)", "decimal(30,0)"), "decimal(30,0)");
  assertEquals(mergeTypes("decimal(19,0)", "string"), "string");
});

Deno.test("an integer of more than 38 digits, or one beyond int64 beside fractions, is refused rather than rounded", () => {
  const wide = "1" + "0".repeat(38);
  const error = assertThrows(() => classifyText(wide), "39 digits");
  assertEquals(error instanceof InferenceError, true);
  assertThrows(() => classifyJson("number", `-${wide}`), "a double would round it");
  assertThrows(() => mergeTypes("decimal(19,0)", "double"), "a double would round the integers");
  assertThrows(() => mergeTypes("double", "decimal(23,0)"), "a double would round the integers");
});

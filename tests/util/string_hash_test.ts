/**
 * `asciiHashInto` gives `stringHash` from the bytes of ASCII strings (replay
 * mixes the two in one table of keys), and refuses bytes that are not ASCII.
 */

import { asciiHashInto, stringHash } from "../../src/util/string_hash.ts";
import { assert, assertEquals } from "../_helpers/assert.ts";

Deno.test("asciiHashInto() gives stringHash of every ASCII string, of even and odd lengths, at any offset", () => {
  const strings = [
    "",
    "a",
    "ab",
    "abc",
    "part-00000-bench.c000.snappy.parquet",
    "x=1/y%202.parquet",
  ];
  for (let n = 0; n < 70; n++) {
    strings.push(String.fromCharCode(...Array.from({ length: n }, (_, i) => 32 + ((i * 7) % 95))));
  }
  const out = new Int32Array(3);
  for (const s of strings) {
    const bytes = new TextEncoder().encode(`__${s}_`);
    assert(asciiHashInto(bytes, 2, 2 + s.length, out, 1), JSON.stringify(s));
    assertEquals(out[1], stringHash(s), JSON.stringify(s));
  }
  // Strings that differ in one unit, or only in length, hash apart here.
  assert(stringHash("part-00001.parquet") !== stringHash("part-00002.parquet"));
  assert(stringHash("a") !== stringHash("a\u0000"));
});

Deno.test("asciiHashInto() refuses bytes that are not all ASCII, wherever the first such byte is", () => {
  const out = new Int32Array(1);
  for (const s of ["é", "aé", "abé", "日本", "x😀y", "\uFEFFa"]) {
    const bytes = new TextEncoder().encode(s);
    assertEquals(asciiHashInto(bytes, 0, bytes.length, out, 0), false, s);
  }
});

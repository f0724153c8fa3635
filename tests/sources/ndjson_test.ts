import type { Field } from "../../src/columnar/batch.ts";
import { JsonLineScanner } from "../../src/sources/json_line.ts";
import { ndjsonSourceFromStream, openNdjsonSource } from "../../src/sources/ndjson.ts";
import type { InputError } from "../../src/util/errors.ts";
import { assert, assertEquals } from "../_helpers/assert.ts";
import {
  allBatches,
  CountingStream,
  inputErrorOf,
  readRows,
  stdinErrorMessage,
  tempFile,
} from "./_text_helpers.ts";

async function ndjson(text: string | Uint8Array, options = {}) {
  return await openNdjsonSource(await tempFile(text, ".ndjson"), options);
}

/** Opens and reads the NDJSON, returning the error it fails with. */
function ndjsonError(text: string | Uint8Array, options = {}): Promise<InputError> {
  return inputErrorOf(openNdjsonSource, text, ".ndjson", options);
}

const us = (iso: string) => BigInt(Date.parse(iso)) * 1000n;

Deno.test("JsonLineScanner keeps number text exactly and unescapes strings", () => {
  const scanner = new JsonLineScanner();
  const line = ' { "a" : 12345678901234567890 , "b\\u0021":"x\\"y\\n", "c":-1.5e-3,' +
    '"d":true,"e":false,"f":null,"g":"" } ';
  assertEquals(scanner.scan(line), undefined);
  const n = scanner.count;
  assertEquals(scanner.keys.slice(0, n), ["a", "b!", "c", "d", "e", "f", "g"]);
  assertEquals(scanner.texts.slice(0, n), [
    "12345678901234567890",
    'x"y\n',
    "-1.5e-3",
    "true",
    "false",
    "null",
    "",
  ]);
  assertEquals(scanner.kinds.slice(0, n), [
    "number",
    "string",
    "number",
    "boolean",
    "boolean",
    "null",
    "string",
  ]);
  assertEquals(scanner.scan("{}"), undefined);
  assertEquals(scanner.count, 0);
});

Deno.test("JsonLineScanner refuses what JSON.parse refuses, with its reason", () => {
  const scanner = new JsonLineScanner();
  for (
    const line of [
      '{"a":01}',
      '{"a":1.}',
      '{"a":.5}',
      '{"a":+1}',
      '{"a":NaN}',
      '{"a":tru}',
      "{'a':1}",
      '{"a":1,}',
      '{"a":1} x',
      '{"a" 1}',
      '{"a":"\t"}',
      '{"a":"\\x"}',
      '{"a":1',
    ]
  ) {
    const problem = scanner.scan(line);
    assert(problem?.startsWith("the line is not valid JSON: "), `${line}: ${problem}`);
    let parsed = true;
    try {
      JSON.parse(line);
    } catch {
      parsed = false;
    }
    assert(!parsed, `JSON.parse agrees that ${line} is invalid`);
  }
});

Deno.test("JsonLineScanner keeps nested values as their text, and names a line that is no object", () => {
  const scanner = new JsonLineScanner();
  assertEquals(scanner.scan('{"a":1,"pos":{"x":"}]","y":[1,{"z":null}]},"n":2}'), undefined);
  assertEquals(scanner.kinds.slice(0, scanner.count), ["number", "json", "number"]);
  assertEquals(scanner.texts[1], '{"x":"}]","y":[1,{"z":null}]}');
  assert(scanner.scan('{"tags":[1,2}')!.startsWith("the line is not valid JSON"));
  assert(scanner.scan("[1,2]")!.startsWith("the line is an array, not a JSON object"));
  assert(scanner.scan("42")!.startsWith("the line is a number, not a JSON object"));
  assert(scanner.scan("null")!.startsWith("the line is null, not a JSON object"));
});

Deno.test("openNdjsonSource() infers columns in first-seen order from JSON types", async () => {
  const source = await ndjson(
    '{"t":"2024-05-01T12:00:00Z","id":1,"v":0.5,"ok":true,"name":"a"}\n' +
      '{"id":2,"v":2,"extra":"2024-05-01","name":null}\n' +
      "\n" +
      '{"id":9223372036854775807,"t":null,"ok":false,"name":"12"}\n',
  );
  assertEquals(source.fields, [
    { name: "t", type: "timestamp", nullable: true },
    { name: "id", type: "long", nullable: true },
    { name: "v", type: "double", nullable: true },
    { name: "ok", type: "boolean", nullable: true },
    { name: "name", type: "string", nullable: true },
    { name: "extra", type: "date", nullable: true },
  ]);
  assertEquals(await readRows(source), [
    [us("2024-05-01T12:00:00Z"), 1n, 0.5, 1, "a", null],
    [null, 2n, 2, null, null, 19844],
    [null, 9223372036854775807n, null, 0, "12", null],
  ]);
});

Deno.test("openNdjsonSource() reads a given schema through value text, exactly", async () => {
  const schema: Field[] = [
    { name: "id", type: "long", nullable: false },
    { name: "amount", type: "decimal(38,18)", nullable: true },
    { name: "when", type: "timestamp_ntz", nullable: true },
    { name: "raw", type: "binary", nullable: true },
    { name: "label", type: "string", nullable: true },
  ];
  const source = await ndjson(
    '{"id":9007199254740993,"amount":0.100000000000000001,"when":"2024-05-01T00:00:00",' +
      '"raw":"aGk=","label":42}\n' +
      '{"label":true,"id":"-9223372036854775808"}\n',
    { schema },
  );
  assertEquals(await readRows(source), [
    [
      9007199254740993n,
      100000000000000001n,
      us("2024-05-01T00:00:00Z"),
      new TextEncoder().encode("hi"),
      "42",
    ],
    [-9223372036854775808n, null, null, null, "true"],
  ]);
});

Deno.test("openNdjsonSource() refuses a key that the schema lacks, naming it and the line", async () => {
  const schema: Field[] = [{ name: "a", type: "long", nullable: true }];
  const error = await ndjsonError('{"a":1}\n{"a":2,"b":3}\n', { schema });
  assertEquals([error.line, error.column], [2, "b"]);
  assert(error.message.includes('column "b" is not in the schema'), error.message);
});

Deno.test("openNdjsonSource() refuses a key that the inferred schema never saw", async () => {
  const error = await ndjsonError('{"a":1}\n{"a":2}\n{"a":3,"late":1}\n', { inferRows: 2 });
  assertEquals([error.line, error.column], [3, "late"]);
  assert(error.message.includes("did not occur in the first 2 records"), error.message);
});

Deno.test("openNdjsonSource() refuses a missing or null non-nullable value at its line", async () => {
  const schema: Field[] = [
    { name: "a", type: "long", nullable: false },
    { name: "b", type: "long", nullable: true },
  ];
  const missing = await ndjsonError('{"a":1}\n{"b":2}\n', { schema });
  assertEquals([missing.line, missing.column], [2, "a"]);
  assert(missing.message.includes("not nullable"), missing.message);
  const isNull = await ndjsonError('{"a":null}\n', { schema });
  assertEquals([isNull.line, isNull.column], [1, "a"]);
});

Deno.test("a bad NDJSON value's error names file, line and column", async () => {
  const schema: Field[] = [{ name: "neuron_id", type: "integer", nullable: true }];
  const error = await ndjsonError('{"neuron_id":1}\n\n{"neuron_id":1.5}\n', { schema });
  assertEquals([error.line, error.column], [3, "neuron_id"]);
  assert(error.message.includes(':3: column "neuron_id": cannot read "1.5" as integer'));
});

Deno.test("a later NDJSON value that does not fit the inferred type is an error at its line", async () => {
  let text = "";
  for (let i = 0; i < 30; i++) text += `{"v":${i}}\n`;
  text += '{"v":"thirty"}\n';
  const error = await ndjsonError(text, { inferRows: 5, batchRows: 4 });
  assertEquals([error.line, error.column], [31, "v"]);
  assert(error.message.includes('cannot read "thirty" as long'), error.message);
  assert(error.message.includes("inferred from the first 5 records"), error.message);
});

Deno.test("an NDJSON line that is not an object, or not JSON, is an error at its line", async () => {
  const notJson = await ndjsonError('{"a":1}\n{"a":2,}\n');
  assertEquals(notJson.line, 2);
  assert(notJson.message.includes(":2: the line is not valid JSON: "), notJson.message);
  const array = await ndjsonError('{"a":1}\n[1]\n');
  assert(array.message.includes(":2: the line is an array, not a JSON object"), array.message);
  const nested = await ndjsonError('{"a":1}\n{"a":{"b":1}}\n', { inferRows: 1 });
  assertEquals(nested.line, 2);
  assert(nested.message.includes("holds an object, but the column is long"), nested.message);
});

Deno.test("invalid UTF-8 in NDJSON is an error at its line", async () => {
  const text = new TextEncoder().encode('{"a":"x"}\n{"a":"y"}\n{"a":"z"}\n');
  const bad = text.slice();
  bad[16] = 0xff; // the "y"
  const error = await ndjsonError(bad);
  assertEquals(error.line, 2);
  assert(error.message.includes("not valid UTF-8"), error.message);
});

Deno.test("openNdjsonSource() reads an input without records as no columns and no rows", async () => {
  const empty = await ndjson("\n  \n");
  assertEquals(empty.fields, []);
  assertEquals(await allBatches(empty), []);
  const schema: Field[] = [{ name: "a", type: "long", nullable: true }];
  assertEquals(await allBatches(await ndjson("", { schema })), []);
});

Deno.test("openNdjsonSource() reads CRLF, a byte order mark and a last line without newline", async () => {
  const source = await ndjson('\ufeff{"a":1}\r\n{"a":2}');
  assertEquals(source.fields.map((f) => f.name), ["a"]);
  assertEquals(await readRows(source), [[1n], [2n]]);
});

Deno.test("openNdjsonSource() splits rows into batches of batchRows", async () => {
  let text = "";
  for (let i = 0; i < 2500; i++) text += `{"i":${i}}\n`;
  const batches = await allBatches(await ndjson(text, { batchRows: 1000, inferRows: 1200 }));
  assertEquals(batches.map((b) => b.length), [1000, 1000, 500]);
});

Deno.test("ndjsonSourceFromStream() streams a large input with bounded read-ahead", async () => {
  const total = 200_000;
  const input = new CountingStream(undefined, total, (i) => `{"id":${i},"v":${i}.5}`);
  const source = await ndjsonSourceFromStream(input.stream, "gen.ndjson", {
    batchRows: 1000,
    inferRows: 100,
  });
  assert(input.produced < 1000, `opening read only the sample, not ${input.produced} lines`);
  let rows = 0;
  let maxAhead = 0;
  for await (const batch of source.batches()) {
    rows += batch.length;
    maxAhead = Math.max(maxAhead, input.produced - rows);
  }
  assertEquals(rows, total);
  assert(maxAhead <= 2000, `read at most two batches ahead, read ${maxAhead} rows ahead`);
});

Deno.test("openNdjsonSource() names stdin - in its messages", async () => {
  const stdout = await stdinErrorMessage(
    "../../src/sources/ndjson.ts",
    "openNdjsonSource",
    'openNdjsonSource("-")',
    '{"a":1}\nnope\n',
  );
  assert(stdout.startsWith("-:2: the line is not valid JSON: "), stdout);
});

Deno.test("openNdjsonSource() infers structs and arrays, nulls at every level, exactly", async () => {
  const source = await ndjson(
    '{"id":1,"meta":{"gain":2.5,"probe":{"name":"A"}},"wave":[1,null,3]}\n' +
      '{"id":2,"meta":{"gain":null,"site":"CA1"},"wave":[]}\n' +
      '{"id":3,"meta":null,"wave":null}\n' +
      '{"id":4,"meta":{"probe":null},"wave":[9223372036854775807]}\n',
  );
  assertEquals(source.fields, [
    { name: "id", type: "long", nullable: true },
    {
      name: "meta",
      type: {
        type: "struct",
        fields: [
          { name: "gain", type: "double", nullable: true },
          {
            name: "probe",
            type: { type: "struct", fields: [{ name: "name", type: "string", nullable: true }] },
            nullable: true,
          },
          { name: "site", type: "string", nullable: true },
        ],
      },
      nullable: true,
    },
    {
      name: "wave",
      type: { type: "array", elementType: "long", containsNull: true },
      nullable: true,
    },
  ]);
  const [batch] = await allBatches(source);
  const meta = batch!.columns[1]!;
  const wave = batch!.columns[2]!;
  assertEquals((meta.values as unknown[])[0], { gain: 2.5, probe: { name: "A" }, site: null });
  assertEquals((meta.values as unknown[])[1], { gain: null, probe: null, site: "CA1" });
  assertEquals(meta.nulls?.[2], 1);
  assertEquals((meta.values as unknown[])[3], { gain: null, probe: null, site: null });
  assertEquals((wave.values as unknown[])[0], [1n, null, 3n]);
  assertEquals((wave.values as unknown[])[1], []);
  assertEquals(wave.nulls?.[2], 1);
  assertEquals((wave.values as unknown[])[3], [9223372036854775807n]);
});

Deno.test("a nested value that does not fit its column is an error naming line, column and path", async () => {
  const schema: Field[] = [{
    name: "m",
    type: {
      type: "map",
      keyType: "string",
      valueType: {
        type: "array",
        elementType: {
          type: "struct",
          fields: [{ name: "t", type: "timestamp", nullable: false }],
        },
        containsNull: false,
      },
      valueContainsNull: true,
    },
    nullable: true,
  }];
  const ok = await ndjson('{"m":{"a":[{"t":"2024-01-01T00:00:00Z"}],"b":null}}\n', { schema });
  const [batch] = await allBatches(ok);
  assertEquals(
    (batch!.columns[0]!.values as unknown[])[0],
    new Map<string, unknown>([["a", [{ t: 1704067200000000n }]], ["b", null]]),
  );
  const bad = await ndjsonError(
    '{"m":{}}\n{"m":{"a":[{"t":"2024-01-01T00:00:00Z"},{"t":"noon"}]}}\n',
    { schema },
  );
  assertEquals([bad.line, bad.column], [2, "m"]);
  assert(
    bad.message.includes('m["a"][1].t: cannot read the string "noon" as timestamp'),
    bad.message,
  );
  const missing = await ndjsonError('{"m":{"a":[{}]}}\n', { schema });
  assert(missing.message.includes('m["a"][0].t: is null or missing'), missing.message);
  const extra = await ndjsonError('{"m":{"a":[{"t":null,"u":1}]}}\n', { schema });
  assert(extra.message.includes('m["a"][0].u: the struct has no field "u"'), extra.message);
  const scalar = await ndjsonError('{"m":"x"}\n', { schema });
  assert(scalar.message.includes("its column is nested"), scalar.message);
});

Deno.test("inference refuses an object and an array under one key, naming the line", async () => {
  const error = await ndjsonError('{"a":{"x":1}}\n{"a":[1]}\n');
  assertEquals(error.line, 2);
  assert(
    error.message.includes("a holds an object in one record and an array in another"),
    error.message,
  );
});

Deno.test("a map column takes an object or [key, value] pairs, keys read as the key type", async () => {
  const schema: Field[] = [{
    name: "m",
    type: { type: "map", keyType: "integer", valueType: "string", valueContainsNull: true },
    nullable: true,
  }];
  const source = await ndjson('{"m":{"1":"a"}}\n{"m":[[2,"b"],[3,null]]}\n', { schema });
  const [batch] = await allBatches(source);
  assertEquals(batch!.columns[0]!.values, [new Map([[1, "a"]]), new Map([[2, "b"], [3, null]])]);
  const bad = await ndjsonError('{"m":[[1,"a"],["x","b"]]}\n', { schema });
  assert(bad.message.includes('m[1].key: cannot read the string "x" as integer'), bad.message);
});

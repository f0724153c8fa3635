import type { Field } from "../../src/columnar/batch.ts";
import { csvSourceFromStream, openCsvSource } from "../../src/sources/csv.ts";
import { InputError } from "../../src/util/errors.ts";
import { assert, assertEquals } from "../_helpers/assert.ts";
import {
  allBatches,
  CountingStream,
  failure,
  inputErrorOf,
  readRows,
  stdinErrorMessage,
  tempFile,
  toRows,
} from "./_text_helpers.ts";

async function csv(text: string | Uint8Array, options = {}) {
  return await openCsvSource(await tempFile(text, ".csv"), options);
}

/** Opens and reads the CSV, returning the error it fails with. */
function csvError(text: string | Uint8Array, options = {}): Promise<InputError> {
  return inputErrorOf(openCsvSource, text, ".csv", options);
}

const day = (iso: string) => Date.parse(iso) / 86_400_000;
const us = (iso: string) => BigInt(Date.parse(iso)) * 1000n;

Deno.test("openCsvSource() infers a schema and reads typed columns", async () => {
  const source = await csv(
    "t,id,rate,ok,day,note\n" +
      "2024-05-01T12:00:00Z,1,0.5,true,2024-05-01,a\n" +
      "2024-05-01T12:00:01.25+00:00,2,2,FALSE,2024-05-02,\n" +
      ',9223372036854775807,NaN,,,"quoted, with comma"\n',
  );
  assertEquals(source.fields, [
    { name: "t", type: "timestamp", nullable: true },
    { name: "id", type: "long", nullable: true },
    { name: "rate", type: "double", nullable: true },
    { name: "ok", type: "boolean", nullable: true },
    { name: "day", type: "date", nullable: true },
    { name: "note", type: "string", nullable: true },
  ]);
  assertEquals(await readRows(source), [
    [us("2024-05-01T12:00:00Z"), 1n, 0.5, 1, day("2024-05-01"), "a"],
    [us("2024-05-01T12:00:01.250Z"), 2n, 2, 0, day("2024-05-02"), null],
    [null, 9223372036854775807n, NaN, null, null, "quoted, with comma"],
  ]);
});

Deno.test("openCsvSource() infers string for a column that is empty throughout", async () => {
  const source = await csv("a,b\n1,\n2,\n");
  assertEquals(source.fields.map((f) => f.type), ["long", "string"]);
  assertEquals(await readRows(source), [[1n, null], [2n, null]]);
});

Deno.test("openCsvSource() reads a header-only file as no rows of string columns", async () => {
  const source = await csv("a,b\n");
  assertEquals(source.fields.map((f) => f.type), ["string", "string"]);
  assertEquals(await allBatches(source), []);
});

Deno.test("openCsvSource() matches a given schema by name, in the schema's order", async () => {
  const schema: Field[] = [
    { name: "neuron_id", type: "integer", nullable: false },
    { name: "voltage", type: "float", nullable: true },
    { name: "region", type: "string", nullable: true },
    { name: "amount", type: "decimal(6,2)", nullable: true },
  ];
  const source = await csv("region,neuron_id,amount\nCA1,7,12.5\nV1,8,\n", { schema });
  assertEquals(source.fields, schema);
  assertEquals(await readRows(source), [[7, null, "CA1", 1250n], [8, null, "V1", null]]);
});

Deno.test("openCsvSource() refuses a column that the schema lacks, naming it and the line", async () => {
  const schema: Field[] = [{ name: "a", type: "long", nullable: true }];
  const error = await csvError("a,extra\n1,2\n", { schema });
  assertEquals([error.line, error.column], [1, "extra"]);
  assert(error.message.includes('column "extra" is not in the schema'), error.message);
});

Deno.test("openCsvSource() refuses a header that lacks a non-nullable schema column", async () => {
  const schema: Field[] = [
    { name: "a", type: "long", nullable: true },
    { name: "b", type: "long", nullable: false },
  ];
  const error = await csvError("a\n1\n", { schema });
  assert(error.message.includes('no column "b", which the schema requires'), error.message);
});

Deno.test("openCsvSource() refuses an empty value in a non-nullable column", async () => {
  const schema: Field[] = [{ name: "a", type: "string", nullable: false }];
  const error = await csvError('a\nx\n""\n', { schema });
  assertEquals([error.line, error.column], [3, "a"]);
  assert(error.message.includes("not nullable"), error.message);
});

Deno.test("a bad value's error names file, line and column, counting quoted and blank lines", async () => {
  const schema: Field[] = [
    { name: "note", type: "string", nullable: true },
    { name: "neuron_id", type: "integer", nullable: true },
  ];
  const text = 'note,neuron_id\n"two\nlines",1\n\n\nplain,12x\n';
  const error = await csvError(text, { schema });
  assertEquals([error.line, error.column], [6, "neuron_id"]);
  assert(
    error.message.endsWith(
      `:6: column "neuron_id": cannot read "12x" as integer: ` +
        "expected a whole number from -2147483648 to 2147483647",
    ),
    error.message,
  );
});

Deno.test("a later value that does not fit the inferred type is an error at its line", async () => {
  let text = "id,v\n";
  for (let i = 0; i < 50; i++) text += `${i},${i}.5\n`;
  text += "50,oops\n";
  const error = await csvError(text, { inferRows: 10, batchRows: 7 });
  assertEquals([error.line, error.column], [52, "v"]);
  assert(error.message.includes('cannot read "oops" as double'), error.message);
  assert(error.message.includes("inferred from the first 10 records"), error.message);
});

Deno.test("a value that fits only with more inferred rows passes when the sample covers it", async () => {
  const text = "v\n1\n2\n2.5\n";
  const error = await csvError(text, { inferRows: 2 });
  assertEquals(error.line, 4);
  const source = await csv(text, { inferRows: 3 });
  assertEquals(source.fields[0]!.type, "double");
  assertEquals(await readRows(source), [[1], [2], [2.5]]);
});

Deno.test("a record with the wrong number of fields is an error at its line", async () => {
  const error = await csvError("a,b,c\n1,2,3\n4,5\n");
  assertEquals(error.line, 3);
  assert(error.message.includes("the record has 2 fields, but the header has 3"), error.message);
  const more = await csvError("a,b\n1,2\n3,4\n5,6,7\n", { inferRows: 1 });
  assertEquals(more.line, 4);
});

Deno.test("an unterminated quote is an error at the line where it opens", async () => {
  const error = await csvError('a,b\n1,2\n3,"never closed\n4,5\n6,7\n');
  assertEquals(error.line, 3);
  assert(error.message.includes("never closed"), error.message);
});

Deno.test("a stray quote inside a field is an error at its line", async () => {
  const error = await csvError('a,b\n1,2\n3,x"y\n');
  assertEquals(error.line, 3);
  assert(error.message.includes("quote appears inside an unquoted field"), error.message);
});

Deno.test("invalid UTF-8 is an error at its line", async () => {
  const bytes = new TextEncoder().encode("a,b\n1,caf\u00e9\n2,x\n3,y\n");
  const bad = new Uint8Array([...bytes.subarray(0, 14), 0xff, ...bytes.subarray(14)]);
  const error = await csvError(bad);
  assertEquals(error.line, 3);
  assert(error.message.includes("not valid UTF-8"), error.message);
  const truncated = await csvError(bytes.subarray(0, 10)); // ends inside "é"
  assertEquals(truncated.line, 2);
});

Deno.test("an empty file without a schema is no columns and no rows, not an error", async () => {
  for (const options of [{}, { header: false }]) {
    const source = await csv("", options);
    assertEquals(source.fields, []);
    for await (const _ of source.batches()) throw new Error("an empty file has no batches");
  }
});

Deno.test("a header with an empty or a repeated name is an error", async () => {
  const empty = await csvError("a,,c\n1,2,3\n");
  assert(empty.message.includes("column 2 of the header has no name"), empty.message);
  const repeated = await csvError("a,b,a\n1,2,3\n");
  assert(repeated.message.includes('columns 1 and 3 of the header are both named "a"'));
});

Deno.test("openCsvSource() splits rows into batches of batchRows", async () => {
  let text = "i\n";
  for (let i = 0; i < 2500; i++) text += `${i}\n`;
  const batches = await allBatches(await csv(text, { batchRows: 1000, inferRows: 1500 }));
  assertEquals(batches.map((b) => b.length), [1000, 1000, 500]);
  const values = batches.flatMap((b) => Array.from(b.columns[0]!.values as BigInt64Array));
  assertEquals(values, Array.from({ length: 2500 }, (_, i) => BigInt(i)));
});

Deno.test("openCsvSource() keeps nulls in place across batch boundaries", async () => {
  const source = await csv("a,b\n1,x\n,y\n3,\n4,w\n,\n", { batchRows: 2 });
  const batches = await allBatches(source);
  assertEquals(batches.map((b) => b.length), [2, 2, 1]);
  assertEquals(batches.map((b) => b.columns[0]!.nulls), [
    new Uint8Array([0, 1]),
    undefined,
    new Uint8Array([1]),
  ]);
  assertEquals(toRows(batches), [[1n, "x"], [null, "y"], [3n, null], [4n, "w"], [null, null]]);
});

Deno.test("openCsvSource() replays an inference sample longer than a batch in order", async () => {
  const source = await csv("n\n1\n2\n3\n4\n5\n6\n7\n", { inferRows: 5, batchRows: 2 });
  const batches = await allBatches(source);
  assertEquals(batches.map((b) => b.length), [2, 2, 2, 1]);
  assertEquals(toRows(batches).flat(), [1n, 2n, 3n, 4n, 5n, 6n, 7n]);
});

Deno.test("openCsvSource() reads without a header, by position or with inferred names", async () => {
  const schema: Field[] = [
    { name: "x", type: "short", nullable: true },
    { name: "y", type: "string", nullable: true },
  ];
  assertEquals(await readRows(await csv("1,a\n2,b\n", { header: false, schema })), [
    [1, "a"],
    [2, "b"],
  ]);
  const inferred = await csv("1,a\n2,b\n", { header: false });
  assertEquals(inferred.fields.map((f) => f.name), ["column_1", "column_2"]);
  assertEquals(await readRows(inferred), [[1n, "a"], [2n, "b"]]);
});

Deno.test("openCsvSource() honours the delimiter and nullValues options", async () => {
  const source = await csv("a;b\n1;NA\nNA;x\n", { delimiter: ";", nullValues: ["NA"] });
  assertEquals(await readRows(source), [[1n, null], [null, "x"]]);
  const tabs = await csv("a\tb\n1\t\n", { delimiter: "\t", nullValues: [] });
  assertEquals(tabs.fields.map((f) => f.type), ["long", "string"]);
  assertEquals(await readRows(tabs), [[1n, ""]]);
});

Deno.test("openCsvSource() reads CRLF line ends and skips a byte order mark", async () => {
  const source = await csv("\ufeffa,b\r\n1,x\r\n2,y");
  assertEquals(source.fields.map((f) => f.name), ["a", "b"]);
  assertEquals(await readRows(source), [[1n, "x"], [2n, "y"]]);
});

Deno.test("openCsvSource() refuses bad options before reading", async () => {
  await failure(openCsvSource("unused.csv", { batchRows: 0 })).then((e) => {
    assert(e instanceof RangeError && e.message.includes("batchRows 0"), e.message);
  });
  await failure(openCsvSource("unused.csv", { delimiter: '"' })).then((e) => {
    assert(e instanceof RangeError, e.message);
  });
});

Deno.test("openCsvSource() says which file it cannot open", async () => {
  const error = await failure(openCsvSource("/nonexistent/neuralake/x.csv"));
  assert(error instanceof InputError, String(error));
  assert(error.message.startsWith("Cannot open /nonexistent/neuralake/x.csv: "), error.message);
});

Deno.test("openCsvSource() names stdin - in its messages", async () => {
  const stdout = await stdinErrorMessage(
    "../../src/sources/csv.ts",
    "openCsvSource",
    'openCsvSource("-", { inferRows: 1 })',
    "a\n1\nx\n",
  );
  assertEquals(stdout.split(":").slice(0, 3), ["-", "3", ' column "a"']);
});

Deno.test("csvSourceFromStream() streams a large input with bounded read-ahead", async () => {
  const total = 200_000;
  const input = new CountingStream("t,id,v", total, (i) => `2024-01-01T00:00:00Z,${i},${i}.5`);
  const source = await csvSourceFromStream(input.stream, "gen.csv", {
    batchRows: 1000,
    inferRows: 100,
  });
  assert(input.produced < 1000, `opening read only the sample, not ${input.produced} lines`);
  let rows = 0;
  let batches = 0;
  let maxAhead = 0;
  let sum = 0n;
  for await (const batch of source.batches()) {
    rows += batch.length;
    batches++;
    maxAhead = Math.max(maxAhead, input.produced - rows);
    const ids = batch.columns[1]!.values as BigInt64Array;
    for (const id of ids) sum += id;
  }
  assertEquals(rows, total);
  assertEquals(batches, total / 1000);
  assertEquals(sum, BigInt(total * (total - 1) / 2));
  assert(maxAhead <= 2000, `read at most two batches ahead, read ${maxAhead} rows ahead`);
});

Deno.test("openCsvSource() reads a 200,000-row file in batches of 1,000", async () => {
  const lines = ["neuron_id,voltage"];
  for (let i = 0; i < 200_000; i++) lines.push(`${i % 384},${(i % 1000) / 8}`);
  const path = await tempFile(lines.join("\n") + "\n", ".csv");
  try {
    const source = await openCsvSource(path, { batchRows: 1000 });
    let rows = 0;
    let total = 0;
    for await (const batch of source.batches()) {
      assert(batch.length === 1000, `batch of ${batch.length}`);
      rows += batch.length;
      for (const v of batch.columns[1]!.values as Float64Array) total += v;
    }
    assertEquals(rows, 200_000);
    assertEquals(total, 200 * (999 * 1000 / 2) / 8);
  } finally {
    await Deno.remove(path);
  }
});

Deno.test("breaking out of batches() releases the input", async () => {
  const input = new CountingStream("id", 100_000, (i) => `${i}`);
  const source = await csvSourceFromStream(input.stream, "gen.csv", { batchRows: 10 });
  for await (const batch of source.batches()) {
    assertEquals(toRows([batch])[0], [0n]);
    break;
  }
  assert(input.cancelled, "the input stream was cancelled");
});

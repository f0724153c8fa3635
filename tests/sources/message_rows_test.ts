import type { ColumnBatch, Field } from "../../src/columnar/batch.ts";
import { NEURAL_FIELDS, NeuralGenerator } from "../../src/sources/neural.ts";
import { encodeNeuralMessage, neuralRowsAsJson } from "../../src/sources/neural_message.ts";
import { MessageRows } from "../../src/sources/message_rows.ts";
import { assertEquals } from "../_helpers/assert.ts";

const FIELDS: Field[] = [
  { name: "id", type: "long", nullable: false },
  { name: "at", type: "timestamp", nullable: true },
];
const bytes = (text: string) => new TextEncoder().encode(text);

Deno.test("a JSON object is one row and NDJSON many, coerced as write coerces them", () => {
  const rows = new MessageRows(FIELDS, 10);
  assertEquals(rows.add(bytes(`{"id": "9007199254740993"}`)), { kind: "added", rows: 1 });
  assertEquals(rows.add(bytes(`{"id": 2, "at": "2024-05-01T12:00:00Z"}\r\n\n{"id": 3}`)), {
    kind: "added",
    rows: 2,
  });
  const batch = rows.take()!;
  assertEquals([...(batch.columns[0]!.values as BigInt64Array)], [9007199254740993n, 2n, 3n]);
  assertEquals([...batch.columns[1]!.nulls!], [1, 0, 1]);
  assertEquals(rows.rows, 0);
});

Deno.test("a bad line rolls back the rows its message added, and says which line and column", () => {
  const rows = new MessageRows(FIELDS, 10);
  rows.add(bytes(`{"id": 1}`));
  const bad = rows.add(bytes(`{"id": 2}\n{"id": null}`));
  assertEquals(bad.kind, "bad");
  assertEquals(
    bad.kind === "bad" && bad.error.startsWith(`value:2: column "id": no value`),
    true,
    JSON.stringify(bad),
  );
  assertEquals(rows.add(bytes(`{"id": 3}`)).kind, "added");
  const batch = rows.take()!;
  assertEquals([...(batch.columns[0]!.values as BigInt64Array)], [1n, 3n]);
  assertEquals(batch.columns[1]!.nulls && [...batch.columns[1]!.nulls], [1, 1]);
});

Deno.test("values that are not JSON objects of the table's columns are bad, each with a reason", () => {
  const rows = new MessageRows(FIELDS, 10);
  for (const value of [null, bytes(""), bytes("[1]"), new Uint8Array([0xff]), bytes(`{"x": 1}`)]) {
    const outcome = rows.add(value);
    assertEquals(outcome.kind, "bad", String(value));
  }
  assertEquals(rows.rows, 0);
});

Deno.test("a message that does not fit the rows left waits for the next batch; a huge one gets its own", () => {
  const rows = new MessageRows(FIELDS, 2);
  rows.add(bytes(`{"id": 1}`));
  assertEquals(rows.add(bytes(`{"id": 2}\n{"id": 3}`)), { kind: "full", lines: 2 });
  assertEquals(rows.take()!.length, 1);
  assertEquals(rows.add(bytes(`{"id": 2}\n{"id": 3}\n{"id": 4}`)).kind, "added");
  assertEquals(rows.take()!.length, 3);
  assertEquals(rows.add(bytes(`{"id": 5}`)).kind, "added");
});

Deno.test("a binary neural message is taken whole into a neural table, JSON rows beside it", () => {
  const generator = new NeuralGenerator({ seed: 7, neurons: 16 });
  const batch = generator.generate({
    writerId: "w",
    sessionId: "s",
    batchSeq: 3,
    tick0: generator.tickAt(1_700_000_000_000),
    startRow: 0,
    rows: 40,
  });
  const rows = new MessageRows(NEURAL_FIELDS, 100);
  assertEquals(rows.add(encodeNeuralMessage(batch, 0, 30)), { kind: "added", rows: 30 });
  assertEquals(rows.add(neuralRowsAsJsonBytes(batch, 30, 31)).kind, "added");
  assertEquals(rows.add(encodeNeuralMessage(batch, 31, 40)), { kind: "added", rows: 9 });
  const taken = rows.take()!;
  assertEquals(taken.length, 40);
  const ts = (b: typeof batch) => [...(b.columns[0]!.values as BigInt64Array)].slice(0, 40);
  // The JSON row is built after the binary chunks: same rows, that one moved last.
  const expected = ts(batch);
  assertEquals(ts(taken), [...expected.slice(0, 30), ...expected.slice(31), expected[30]]);
  assertEquals(
    (taken.columns[5]!.values as Int32Array)[0],
    (batch.columns[5]!.values as Int32Array)[0],
  );
  const bad = new MessageRows(FIELDS, 10).add(encodeNeuralMessage(batch, 0, 1));
  assertEquals(bad.kind, "bad");
  const cut = rows.add(encodeNeuralMessage(batch, 0, 5).subarray(0, 30));
  assertEquals(cut.kind === "bad" && cut.error.includes("byte"), true, JSON.stringify(cut));
});

function neuralRowsAsJsonBytes(batch: ColumnBatch, start: number, end: number): Uint8Array {
  return new TextEncoder().encode(neuralRowsAsJson(batch, start, end));
}

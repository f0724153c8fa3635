import { Buffer } from "node:buffer";
import { assert, assertEquals } from "../_helpers/assert.ts";
import type { ColumnBatch } from "../../src/columnar/batch.ts";
import { NeuralGenerator } from "../../src/sources/neural.ts";
import {
  decodeNeuralMessage,
  encodeNeuralMessage,
  isNeuralMessage,
  isoMicros,
  neuralRowsAsJson,
} from "../../src/sources/neural_message.ts";
import { readDateTime } from "../../src/columnar/text_values.ts";

function sample(rows = 3000, writerId = "w-0"): ColumnBatch {
  const gen = new NeuralGenerator({ seed: 11, neurons: 64 });
  return gen.generate({
    writerId,
    sessionId: "s-1",
    batchSeq: 7,
    tick0: gen.tickAt(Date.parse("2026-12-01T00:00:00Z")),
    startRow: 5,
    rows,
  });
}

/** Rows as plain arrays, column by column, to compare batches value for value. */
function rowsOf(batch: ColumnBatch, start = 0, end = batch.length): unknown[][] {
  return batch.columns.map((c) => Array.from(c.values as ArrayLike<unknown>).slice(start, end));
}

Deno.test("a neural message decodes to the rows it was encoded from, for a whole batch and a slice", () => {
  const batch = sample();
  const whole = encodeNeuralMessage(batch);
  assert(isNeuralMessage(whole));
  const back = decodeNeuralMessage(whole);
  assert(!("error" in back), "error" in back ? back.error : "");
  assertEquals(back.length, 3000);
  assertEquals(back.fields, batch.fields);
  assertEquals(rowsOf(back), rowsOf(batch));
  // 36 bytes a row, plus the three small dictionaries.
  assert(whole.length < 3000 * 37, `${whole.length} bytes`);

  const part = decodeNeuralMessage(encodeNeuralMessage(batch, 100, 250));
  assert(!("error" in part));
  assertEquals(rowsOf(part), rowsOf(batch, 100, 250));
});

Deno.test("a neural message decodes from an unaligned view, as Kafka hands values over", () => {
  const bytes = encodeNeuralMessage(sample(50));
  const padded = new Uint8Array(bytes.length + 3);
  padded.set(bytes, 3);
  const back = decodeNeuralMessage(padded.subarray(3));
  assert(!("error" in back));
  assertEquals(rowsOf(back), rowsOf(sample(50)));
});

Deno.test("a neural message decodes from a node Buffer inside a larger pool, as the Kafka client hands values over", () => {
  const bytes = encodeNeuralMessage(sample(40));
  const pool = Buffer.alloc(bytes.length + 13);
  pool.set(bytes, 5);
  const back = decodeNeuralMessage(pool.subarray(5, 5 + bytes.length));
  assert(!("error" in back), "error" in back ? back.error : "");
  assertEquals(rowsOf(back), rowsOf(sample(40)));
});

Deno.test("a cut, padded or foreign value decodes to an error naming the byte, never to rows", () => {
  const bytes = encodeNeuralMessage(sample(20));
  const cut = decodeNeuralMessage(bytes.subarray(0, bytes.length - 1));
  assert("error" in cut);
  assertEquals(cut.error, `the region indices are cut short at byte ${bytes.length - 1}`);
  const long = new Uint8Array(bytes.length + 1);
  long.set(bytes);
  assertEquals(decodeNeuralMessage(long), {
    error: `the neural message ends at byte ${bytes.length} but the value has ${
      bytes.length + 1
    } bytes`,
  });
  assertEquals(decodeNeuralMessage(new TextEncoder().encode('{"a":1}')), {
    error: 'the value is not a neural message (it does not start with "NLN1")',
  });
  const huge = bytes.slice();
  new DataView(huge.buffer).setUint32(4, 1_000_000, true);
  assertEquals(decodeNeuralMessage(huge), {
    error: `the neural message says 1000000 rows but ends at byte ${bytes.length}`,
  });
});

Deno.test("neural rows as JSON lines carry every value, the timestamp to the microsecond", () => {
  const batch = sample(4);
  const lines = neuralRowsAsJson(batch).split("\n");
  assertEquals(lines.length, 4);
  const rows = lines.map((l) => JSON.parse(l));
  const ts = batch.columns[0]!.values as BigInt64Array;
  for (let i = 0; i < 4; i++) {
    assertEquals(BigInt(readDateTime(rows[i].timestamp_us, "required")!), ts[i]);
    assertEquals(rows[i].batch_seq, 7);
    assertEquals(rows[i].writer_id, "w-0");
    assertEquals(Math.fround(rows[i].voltage_uv), (batch.columns[6]!.values as Float32Array)[i]);
    assertEquals(rows[i].spike, (batch.columns[7]!.values as Uint8Array)[i] === 1);
  }
  assertEquals(isoMicros(1_764_547_200_000_001n), "2025-12-01T00:00:00.000001Z");
  assertEquals(isoMicros(-1n), "1969-12-31T23:59:59.999999Z");
});

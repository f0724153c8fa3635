/**
 * Neural rows in Kafka message values: the compact binary form that carries
 * many rows of the 10-column neural schema per message (`--format neural`),
 * and the JSON text forms (`json`: one object, `ndjson`: one object per line)
 * that `write` and `ingest` read like any NDJSON.
 *
 * The binary form, version 1, little-endian, columnar so that decoding is a
 * few copies and no per-row parsing:
 *
 *     "NLN1"  magic (4 bytes)
 *     u32     rows
 *     i64[rows]  timestamp_us      (microseconds since the epoch)
 *     i64[rows]  batch_seq
 *     i32[rows]  neuron_id
 *     f32[rows]  voltage_uv, then firing_rate_hz, then snr
 *     u8[rows]   spike             (0 or 1)
 *     then session_id, writer_id, region, each a dictionary:
 *       u16 count, count × (u16 byte length, UTF-8 bytes),
 *       then u8[rows] indices (u16[rows] when count > 256)
 *
 * Invariants:
 * - `decodeNeuralMessage(encodeNeuralMessage(b))` gives back `b` row for row;
 * - a value that is not a whole, well-formed message decodes to `{ error }`
 *   saying what is wrong and at which byte, never to partial rows.
 */

import type { ColumnBatch } from "../columnar/batch.ts";
import { NEURAL_FIELDS } from "./neural.ts";

const MAGIC = [0x4e, 0x4c, 0x4e, 0x31]; // "NLN1"
const HEADER_BYTES = 8;

/** Column indexes of the neural schema. */
const TS = 0,
  SESSION = 1,
  WRITER = 2,
  SEQ = 3,
  REGION = 4,
  NEURON = 5,
  VOLT = 6,
  SPIKE = 7,
  RATE = 8,
  SNR = 9;

/** Whether a value starts like a binary neural message. */
export function isNeuralMessage(value: Uint8Array): boolean {
  return value.length >= 4 && MAGIC.every((b, i) => value[i] === b);
}

interface Dictionary {
  entries: Uint8Array[];
  indices: Uint8Array | Uint16Array;
}

const encoder = new TextEncoder();

function dictionary(values: string[], start: number, end: number): Dictionary {
  const ids = new Map<string, number>();
  const entries: Uint8Array[] = [];
  const rows = end - start;
  const wide = new Uint16Array(rows);
  for (let i = 0; i < rows; i++) {
    const v = values[start + i]!;
    let id = ids.get(v);
    if (id === undefined) {
      id = entries.length;
      if (id > 0xffff) {
        throw new RangeError("A neural message holds at most 65536 distinct strings per column");
      }
      ids.set(v, id);
      const bytes = encoder.encode(v);
      if (bytes.length > 0xffff) {
        throw new RangeError("A neural message string is at most 65535 bytes");
      }
      entries.push(bytes);
    }
    wide[i] = id;
  }
  return { entries, indices: entries.length <= 256 ? Uint8Array.from(wide) : wide };
}

function dictionaryBytes(d: Dictionary): number {
  let n = 2;
  for (const e of d.entries) n += 2 + e.length;
  return n + d.indices.byteLength;
}

/**
 * Encodes rows [start, end) of a batch of the neural schema (`NEURAL_FIELDS`,
 * no nulls) as one binary message.
 */
export function encodeNeuralMessage(batch: ColumnBatch, start = 0, end = batch.length): Uint8Array {
  if (
    batch.fields.length !== NEURAL_FIELDS.length ||
    batch.fields.some((f, i) => f.name !== NEURAL_FIELDS[i]!.name)
  ) {
    throw new TypeError(
      `A neural message holds the neural schema (${
        NEURAL_FIELDS.map((f) => f.name).join(", ")
      }), got ${batch.fields.map((f) => f.name).join(", ")}`,
    );
  }
  const rows = end - start;
  const col = <T>(i: number) => batch.columns[i]!.values as T;
  const dicts = [SESSION, WRITER, REGION].map((i) => dictionary(col<string[]>(i), start, end));
  const size = HEADER_BYTES + rows * (8 + 8 + 4 + 4 + 4 + 4 + 1) +
    dicts.reduce((n, d) => n + dictionaryBytes(d), 0);
  const out = new Uint8Array(size);
  const view = new DataView(out.buffer);
  out.set(MAGIC, 0);
  view.setUint32(4, rows, true);
  let at = HEADER_BYTES;
  const put = (
    values: { buffer: ArrayBufferLike; byteOffset: number; BYTES_PER_ELEMENT: number },
  ) => {
    const bytes = new Uint8Array(
      values.buffer,
      values.byteOffset + start * values.BYTES_PER_ELEMENT,
      rows * values.BYTES_PER_ELEMENT,
    );
    out.set(bytes, at);
    at += bytes.length;
  };
  put(col<BigInt64Array>(TS));
  put(col<BigInt64Array>(SEQ));
  put(col<Int32Array>(NEURON));
  put(col<Float32Array>(VOLT));
  put(col<Float32Array>(RATE));
  put(col<Float32Array>(SNR));
  put(col<Uint8Array>(SPIKE));
  for (const d of dicts) {
    view.setUint16(at, d.entries.length, true);
    at += 2;
    for (const e of d.entries) {
      view.setUint16(at, e.length, true);
      out.set(e, at + 2);
      at += 2 + e.length;
    }
    out.set(new Uint8Array(d.indices.buffer, d.indices.byteOffset, d.indices.byteLength), at);
    at += d.indices.byteLength;
  }
  return out;
}

const decoder = new TextDecoder("utf-8", { fatal: true });

/**
 * Decodes a binary neural message into a batch of the neural schema, or says
 * why it cannot: `{ error }` names the byte offset where the value goes wrong.
 */
export function decodeNeuralMessage(value: Uint8Array): ColumnBatch | { error: string } {
  if (!isNeuralMessage(value)) {
    return { error: 'the value is not a neural message (it does not start with "NLN1")' };
  }
  if (value.length < HEADER_BYTES) {
    return { error: `the neural message is cut short at byte ${value.length}` };
  }
  const view = new DataView(value.buffer, value.byteOffset, value.byteLength);
  const rows = view.getUint32(4, true);
  const fixed = rows * (8 + 8 + 4 + 4 + 4 + 4 + 1);
  if (HEADER_BYTES + fixed > value.length) {
    return { error: `the neural message says ${rows} rows but ends at byte ${value.length}` };
  }
  let at = HEADER_BYTES;
  // Copies: a message's bytes are seldom aligned for typed-array views. Not
  // `value.slice`, which on a node Buffer (as Kafka hands values over) is a
  // view into a shared pool.
  const take = <T>(make: (buffer: ArrayBuffer) => T, width: number): T => {
    const copy = new Uint8Array(rows * width);
    copy.set(value.subarray(at, at + rows * width));
    at += rows * width;
    return make(copy.buffer);
  };
  const ts = take((b) => new BigInt64Array(b), 8);
  const seq = take((b) => new BigInt64Array(b), 8);
  const neuron = take((b) => new Int32Array(b), 4);
  const volt = take((b) => new Float32Array(b), 4);
  const rate = take((b) => new Float32Array(b), 4);
  const snr = take((b) => new Float32Array(b), 4);
  const spike = take((b) => new Uint8Array(b), 1);
  for (let i = 0; i < rows; i++) {
    if (spike[i]! > 1) {
      return { error: `spike of row ${i} is ${spike[i]}, not 0 or 1 (byte ${at - rows + i})` };
    }
  }
  const strings: string[][] = [];
  for (const name of ["session_id", "writer_id", "region"]) {
    if (at + 2 > value.length) {
      return { error: `the ${name} dictionary is cut short at byte ${value.length}` };
    }
    const count = view.getUint16(at, true);
    at += 2;
    const entries: string[] = [];
    for (let e = 0; e < count; e++) {
      if (at + 2 > value.length) {
        return { error: `the ${name} dictionary is cut short at byte ${value.length}` };
      }
      const length = view.getUint16(at, true);
      if (at + 2 + length > value.length) {
        return { error: `the ${name} dictionary is cut short at byte ${value.length}` };
      }
      try {
        entries.push(decoder.decode(value.subarray(at + 2, at + 2 + length)));
      } catch {
        return { error: `${name} entry ${e} at byte ${at + 2} is not valid UTF-8` };
      }
      at += 2 + length;
    }
    const width = count <= 256 ? 1 : 2;
    if (at + rows * width > value.length) {
      return { error: `the ${name} indices are cut short at byte ${value.length}` };
    }
    const column = new Array<string>(rows);
    for (let i = 0; i < rows; i++) {
      const id = width === 1 ? value[at + i]! : view.getUint16(at + 2 * i, true);
      const s = entries[id];
      if (s === undefined) {
        return {
          error: `${name} of row ${i} is entry ${id} of a dictionary of ${count} (byte ${
            at + width * i
          })`,
        };
      }
      column[i] = s;
    }
    at += rows * width;
    strings.push(column);
  }
  if (at !== value.length) {
    return {
      error: `the neural message ends at byte ${at} but the value has ${value.length} bytes`,
    };
  }
  const columns = new Array(NEURAL_FIELDS.length);
  columns[TS] = { values: ts };
  columns[SESSION] = { values: strings[0]! };
  columns[WRITER] = { values: strings[1]! };
  columns[SEQ] = { values: seq };
  columns[REGION] = { values: strings[2]! };
  columns[NEURON] = { values: neuron };
  columns[VOLT] = { values: volt };
  columns[SPIKE] = { values: spike };
  columns[RATE] = { values: rate };
  columns[SNR] = { values: snr };
  return { fields: NEURAL_FIELDS, columns, length: rows };
}

/** A microsecond timestamp as ISO 8601 UTC with six fraction digits. */
export function isoMicros(us: bigint): string {
  const ms = us / 1000n - (us % 1000n < 0n ? 1n : 0n);
  const micros = Number(us - ms * 1000n);
  const iso = new Date(Number(ms)).toISOString(); // ...T..:..:..mmmZ
  return `${iso.slice(0, -1)}${String(micros).padStart(3, "0")}Z`;
}

/**
 * Rows [start, end) of a neural batch as JSON objects, one per line, with
 * the timestamp as ISO 8601 text (as `write` reads it) and no final newline.
 */
export function neuralRowsAsJson(batch: ColumnBatch, start = 0, end = batch.length): string {
  const col = <T>(i: number) => batch.columns[i]!.values as T;
  const ts = col<BigInt64Array>(TS),
    seq = col<BigInt64Array>(SEQ),
    neuron = col<Int32Array>(NEURON);
  const volt = col<Float32Array>(VOLT),
    rate = col<Float32Array>(RATE),
    snr = col<Float32Array>(SNR);
  const spike = col<Uint8Array>(SPIKE);
  const session = col<string[]>(SESSION),
    writer = col<string[]>(WRITER),
    region = col<string[]>(REGION);
  const lines = new Array<string>(end - start);
  for (let i = start; i < end; i++) {
    lines[i - start] =
      `{"timestamp_us":"${isoMicros(ts[i]!)}","session_id":${JSON.stringify(session[i])},` +
      `"writer_id":${JSON.stringify(writer[i])},"batch_seq":${seq[i]},"region":${
        JSON.stringify(region[i])
      },` +
      `"neuron_id":${neuron[i]},"voltage_uv":${volt[i]},"spike":${spike[i] === 1},` +
      `"firing_rate_hz":${rate[i]},"snr":${snr[i]}}`;
  }
  return lines.join("\n");
}

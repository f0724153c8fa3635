/**
 * The synthetic neural source: its schema, row layout, determinism (which a
 * restarted writer relies on), key uniqueness (which verification relies on)
 * and the statistics that make the data look like a recording.
 */

import { assert, assertEquals, assertNotEquals, assertThrows } from "../_helpers/assert.ts";
import { type ColumnBatch, columnByName } from "../../src/columnar/batch.ts";
import {
  DEFAULT_REGIONS,
  NEURAL_FIELDS,
  NeuralGenerator,
  type NeuralRequest,
  spikeWaveform,
} from "../../src/sources/neural.ts";

const START_MS = Date.parse("2026-11-27T10:55:04Z");

function request(gen: NeuralGenerator, rows: number, extra: Partial<NeuralRequest> = {}) {
  return {
    writerId: "writer-0",
    sessionId: "session-a",
    batchSeq: 0,
    tick0: gen.tickAt(START_MS),
    startRow: 0,
    rows,
    ...extra,
  };
}

function col<T>(batch: ColumnBatch, name: string): T {
  const column = columnByName(batch, name);
  assert(column, `missing column ${name}`);
  return column.values as T;
}

function assertSameColumns(actual: ColumnBatch, expected: ColumnBatch): void {
  assertEquals(actual.length, expected.length);
  for (const field of NEURAL_FIELDS) {
    assertEquals(
      Array.from(col<ArrayLike<unknown>>(actual, field.name)),
      Array.from(col<ArrayLike<unknown>>(expected, field.name)),
      `column ${field.name} differs`,
    );
  }
}

function concat(batches: ColumnBatch[]): ColumnBatch {
  const length = batches.reduce((n, b) => n + b.length, 0);
  return {
    fields: NEURAL_FIELDS,
    length,
    columns: NEURAL_FIELDS.map((field) => ({
      values: batches.flatMap((b) =>
        Array.from(col<ArrayLike<unknown>>(b, field.name))
      ) as string[],
    })),
  };
}

function assertThrowsKind(fn: () => unknown, type: typeof RangeError, text = ""): void {
  const error = assertThrows(fn, text);
  assert(error instanceof type, `expected a ${type.name}, got ${error.name}`);
}

function correlation(a: Float64Array, b: Float64Array): number {
  let ma = 0;
  let mb = 0;
  for (let i = 0; i < a.length; i++) {
    ma += a[i]!;
    mb += b[i]!;
  }
  ma /= a.length;
  mb /= b.length;
  let sab = 0;
  let saa = 0;
  let sbb = 0;
  for (let i = 0; i < a.length; i++) {
    const x = a[i]! - ma;
    const y = b[i]! - mb;
    sab += x * y;
    saa += x * x;
    sbb += y * y;
  }
  return sab / Math.sqrt(saa * sbb);
}

Deno.test("NEURAL_FIELDS is the fixed 10-column schema in order, all not null", () => {
  assertEquals(NEURAL_FIELDS, [
    { name: "timestamp_us", type: "timestamp", nullable: false },
    { name: "session_id", type: "string", nullable: false },
    { name: "writer_id", type: "string", nullable: false },
    { name: "batch_seq", type: "long", nullable: false },
    { name: "region", type: "string", nullable: false },
    { name: "neuron_id", type: "integer", nullable: false },
    { name: "voltage_uv", type: "float", nullable: false },
    { name: "spike", type: "boolean", nullable: false },
    { name: "firing_rate_hz", type: "float", nullable: false },
    { name: "snr", type: "float", nullable: false },
  ]);
});

Deno.test("generate() fills each column with the typed array of its type", () => {
  const gen = new NeuralGenerator({ seed: 1 });
  const batch = gen.generate(request(gen, 700, { batchSeq: 12 }));
  assertEquals(batch.fields, NEURAL_FIELDS);
  assertEquals(batch.length, 700);
  const kinds = batch.columns.map((c) => c.values.constructor.name);
  assertEquals(kinds, [
    "BigInt64Array",
    "Array",
    "Array",
    "BigInt64Array",
    "Array",
    "Int32Array",
    "Float32Array",
    "Uint8Array",
    "Float32Array",
    "Float32Array",
  ]);
  for (const c of batch.columns) {
    assertEquals(c.values.length, 700);
    assertEquals(c.nulls, undefined);
  }
  assert(col<string[]>(batch, "session_id").every((s) => s === "session-a"));
  assert(col<string[]>(batch, "writer_id").every((s) => s === "writer-0"));
  assert(col<BigInt64Array>(batch, "batch_seq").every((s) => s === 12n));
  assert(col<Uint8Array>(batch, "spike").every((s) => s === 0 || s === 1));
});

Deno.test("row r is neuron r % neurons at tick tick0 + floor(r / neurons), also mid-tick", () => {
  const gen = new NeuralGenerator({ seed: 1, neurons: 10 });
  const tick0 = gen.tickAt(START_MS);
  assertEquals(tick0, START_MS); // 1 kHz: one tick per millisecond
  const batch = gen.generate(request(gen, 25, { startRow: 37 }));
  const ts = col<BigInt64Array>(batch, "timestamp_us");
  const ids = col<Int32Array>(batch, "neuron_id");
  for (let i = 0; i < 25; i++) {
    const r = 37 + i;
    assertEquals(ids[i], r % 10);
    assertEquals(ts[i], BigInt((tick0 + Math.floor(r / 10)) * 1000));
  }
});

Deno.test("timestamps are integer microseconds, distinct per tick, at a rate that does not divide 1e6", () => {
  const gen = new NeuralGenerator({ seed: 1, neurons: 2, regions: ["M1"], sampleRateHz: 30_000 });
  const tick0 = gen.tickAt(START_MS);
  assertEquals(gen.timestampUs(tick0), START_MS * 1000);
  assertEquals(gen.timestampUs(tick0 + 1), START_MS * 1000 + 33);
  assertEquals(gen.timestampUs(tick0 + 30_000), START_MS * 1000 + 1_000_000);
  const batch = gen.generate(request(gen, 2 * 60_000, { tick0 }));
  const ts = col<BigInt64Array>(batch, "timestamp_us");
  for (let i = 2; i < ts.length; i += 2) {
    assertEquals(ts[i], ts[i + 1]);
    assert(ts[i]! > ts[i - 1]!, `timestamps must increase at row ${i}`);
  }
});

Deno.test("the same seed and writer give the same data; another seed or writer gives other data", () => {
  const a = new NeuralGenerator({ seed: 99 });
  const b = new NeuralGenerator({ seed: 99 });
  const c = new NeuralGenerator({ seed: 100 });
  const rows = 5000;
  const first = a.generate(request(a, rows));
  assertSameColumns(b.generate(request(b, rows)), first);
  const otherSeed = c.generate(request(c, rows));
  const otherWriter = a.generate(request(a, rows, { writerId: "writer-1" }));
  const volts = Array.from(col<Float32Array>(first, "voltage_uv"));
  assertNotEquals(Array.from(col<Float32Array>(otherSeed, "voltage_uv")), volts);
  assertNotEquals(Array.from(col<Float32Array>(otherWriter, "voltage_uv")), volts);
  assertNotEquals(
    Array.from(col<Float32Array>(otherSeed, "firing_rate_hz")),
    Array.from(col<Float32Array>(first, "firing_rate_hz")),
  );
});

Deno.test("the session id and batch seq do not change the data", () => {
  const gen = new NeuralGenerator({ seed: 5 });
  const a = gen.generate(request(gen, 3000));
  const b = gen.generate(request(gen, 3000, { sessionId: "other", batchSeq: 8 }));
  for (const name of ["voltage_uv", "spike", "firing_rate_hz", "snr", "timestamp_us"]) {
    assertEquals(
      Array.from(col<ArrayLike<unknown>>(b, name)),
      Array.from(col<ArrayLike<unknown>>(a, name)),
    );
  }
});

Deno.test("20 calls of 500 rows give the same columns as one call of 10,000 rows", () => {
  const gen = new NeuralGenerator({ seed: 7 });
  const whole = gen.generate(request(gen, 10_000));
  const parts: ColumnBatch[] = [];
  for (let i = 0; i < 20; i++) parts.push(gen.generate(request(gen, 500, { startRow: i * 500 })));
  assertSameColumns(concat(parts), whole);
});

Deno.test("uneven splits, generated out of order into one reused batch, equal one call", () => {
  const gen = new NeuralGenerator({ seed: 11, neurons: 8, regions: ["A", "B"] });
  // Many ticks per neuron, so that spike waveforms cross every kind of boundary.
  const whole = gen.generate(request(gen, 8 * 3000));
  const sizes = [1, 7, 8, 9, 3, 1, 100, 15, 2, 64, 23_790];
  const starts: number[] = [];
  let at = 0;
  for (const size of sizes) {
    starts.push(at);
    at += size;
  }
  assertEquals(at, whole.length);
  const byStart = new Map<number, ColumnBatch>();
  for (const i of [5, 2, 9, 0, 10, 7, 1, 3, 8, 4, 6]) {
    const batch = gen.generate(request(gen, sizes[i]!, { startRow: starts[i]! }));
    byStart.set(starts[i]!, batch);
  }
  assertSameColumns(concat(starts.map((s) => byStart.get(s)!)), whole);
  // The same, one row at a time into one reused batch.
  const reuse = gen.generate(request(gen, 1));
  const volts = col<Float32Array>(whole, "voltage_uv");
  for (let r = 0; r < 200; r++) {
    const one = gen.generate(request(gen, 1, { startRow: r }), reuse);
    assertEquals(one, reuse);
    assertEquals(col<Float32Array>(one, "voltage_uv")[0], volts[r]);
  }
});

Deno.test("generate() refills a reused batch in place and replaces columns of the wrong size", () => {
  const gen = new NeuralGenerator({ seed: 3 });
  const reuse = gen.generate(request(gen, 500));
  const arrays = reuse.columns.map((c) => c.values);
  const again = gen.generate(request(gen, 500, { startRow: 500 }), reuse);
  assert(again === reuse);
  assert(again.columns.every((c, i) => c.values === arrays[i]));
  assertSameColumns(again, gen.generate(request(gen, 500, { startRow: 500 })));
  const bigger = gen.generate(request(gen, 600), reuse);
  assert(bigger === reuse);
  assertEquals(bigger.length, 600);
  assert(bigger.columns.every((c) => c.values.length === 600));
  const empty = gen.generate(request(gen, 0));
  assertEquals(empty.length, 0);
  assertEquals(empty.columns.length, 10);
});

Deno.test("(writer_id, batch_seq, neuron_id, timestamp_us) is unique across a writer's batches", () => {
  const gen = new NeuralGenerator({ seed: 2, neurons: 100 });
  const seen = new Set<string>();
  let rows = 0;
  for (let seq = 0; seq < 40; seq++) {
    const batch = gen.generate(request(gen, 777, { batchSeq: seq, startRow: seq * 777 }));
    const ids = col<Int32Array>(batch, "neuron_id");
    const ts = col<BigInt64Array>(batch, "timestamp_us");
    const writer = col<string[]>(batch, "writer_id");
    const bs = col<BigInt64Array>(batch, "batch_seq");
    for (let i = 0; i < batch.length; i++) seen.add(`${writer[i]}/${bs[i]}/${ids[i]}/${ts[i]}`);
    rows += batch.length;
  }
  assertEquals(seen.size, rows);
  // Even ignoring batch_seq, rows of a segment never repeat a (neuron, timestamp).
  const whole = gen.generate(request(gen, 40 * 777));
  const pairs = new Set<string>();
  const ids = col<Int32Array>(whole, "neuron_id");
  const ts = col<BigInt64Array>(whole, "timestamp_us");
  for (let i = 0; i < whole.length; i++) pairs.add(`${ids[i]}/${ts[i]}`);
  assertEquals(pairs.size, whole.length);
});

Deno.test("neurons split evenly into contiguous region blocks", () => {
  const gen = new NeuralGenerator({ seed: 1 });
  assertEquals(gen.regions, DEFAULT_REGIONS);
  const batch = gen.generate(request(gen, 1024));
  const regions = col<string[]>(batch, "region");
  const expected = ["M1", "S1", "PMd", "PPC"].flatMap((r) => Array<string>(256).fill(r));
  assertEquals(regions, expected);

  const small = new NeuralGenerator({ seed: 1, neurons: 10, regions: ["a", "b", "c"] });
  const ten = small.generate(request(small, 20));
  // Ten neurons in three regions (4, 3, 3), twice: two ticks of 10 rows.
  const tick = ["a", "a", "a", "a", "b", "b", "b", "c", "c", "c"];
  assertEquals(col<string[]>(ten, "region"), [...tick, ...tick]);
  assertEquals([0, 3, 4, 6, 7, 9].map((n) => small.regionOf(n)), [0, 0, 1, 1, 2, 2]);
});

Deno.test("snr is fixed per neuron, equals amplitude over noise sd, and lies in [2.8, 27]", () => {
  const gen = new NeuralGenerator({ seed: 4, neurons: 256 });
  const batch = gen.generate(request(gen, 256 * 20));
  const snr = col<Float32Array>(batch, "snr");
  let min = Infinity;
  let max = -Infinity;
  for (let i = 0; i < batch.length; i++) {
    const n = i % 256;
    const p = gen.neuronParameters("writer-0", n);
    assertEquals(snr[i], p.snr);
    assert(Math.abs(p.snr - p.amplitudeUv / p.noiseSdUv) < 1e-4);
    min = Math.min(min, snr[i]!);
    max = Math.max(max, snr[i]!);
  }
  assert(min >= 2.8 && max <= 27, `snr range [${min}, ${max}]`);
  assert(max / min > 3, "snr should vary across channels");
});

Deno.test("mean spike rates lie in the configured range and match firing_rate_hz", () => {
  for (const range of [[2, 50], [20, 30]] as [number, number][]) {
    const neurons = 64;
    const seconds = 20;
    const gen = new NeuralGenerator({ seed: 8, neurons, rateRangeHz: range });
    const batch = gen.generate(request(gen, neurons * 1000 * seconds));
    const spike = col<Uint8Array>(batch, "spike");
    const rate = col<Float32Array>(batch, "firing_rate_hz");
    let spikes = 0;
    let expected = 0;
    for (let i = 0; i < batch.length; i++) {
      spikes += spike[i]!;
      expected += rate[i]! / 1000;
    }
    const meanRate = spikes / neurons / seconds;
    assert(meanRate > range[0] && meanRate < range[1], `mean rate ${meanRate} outside ${range}`);
    // Poisson counts: the total is within a few standard deviations of the expectation.
    assert(Math.abs(spikes - expected) < 5 * Math.sqrt(expected), `${spikes} vs ${expected}`);
    for (let n = 0; n < neurons; n++) {
      const base = gen.neuronParameters("writer-0", n).rateHz;
      assert(base >= range[0] && base <= range[1], `baseline ${base} outside ${range}`);
    }
  }
});

Deno.test("bursts are region-wide, last tens of ms, and raise rates by the burst gain", () => {
  const neurons = 40;
  const gen = new NeuralGenerator({ seed: 21, neurons, burstGain: 4 });
  const seconds = 30;
  const batch = gen.generate(request(gen, neurons * 1000 * seconds));
  const rate = col<Float32Array>(batch, "firing_rate_hz");
  const base = Array.from(
    { length: neurons },
    (_, n) => gen.neuronParameters("writer-0", n).rateHz,
  );
  const tick0 = gen.tickAt(START_MS);
  const runs: number[] = [];
  const current = [0, 0, 0, 0];
  let burstTicks = 0;
  for (let t = 0; t < 1000 * seconds; t++) {
    for (let r = 0; r < 4; r++) {
      const states = new Set<boolean>();
      for (let n = r * 10; n < r * 10 + 10; n++) {
        const ratio = rate[t * neurons + n]! / base[n]!;
        assert(Math.abs(ratio - 1) < 1e-5 || Math.abs(ratio - 4) < 1e-5, `ratio ${ratio}`);
        states.add(ratio > 2);
      }
      assertEquals(states.size, 1, `region ${r} is split at tick ${t}`);
      const burst = states.has(true);
      assertEquals(gen.inBurst("writer-0", r, tick0 + t), burst);
      if (burst) {
        burstTicks++;
        current[r]!++;
      } else if (current[r]! > 0) {
        runs.push(current[r]!);
        current[r] = 0;
      }
    }
  }
  assert(runs.length >= 40, `only ${runs.length} bursts in ${seconds} s x 4 regions`);
  // Bursts of 20-80 ms, possibly merged when two overlap.
  assert(runs.every((n) => n >= 20), `a burst shorter than 20 ms: ${Math.min(...runs)}`);
  const mean = runs.reduce((a, b) => a + b, 0) / runs.length;
  assert(mean >= 30 && mean <= 100, `mean burst length ${mean} ms`);
  const fraction = burstTicks / (4 * 1000 * seconds);
  assert(fraction > 0.01 && fraction < 0.2, `fraction of time in bursts ${fraction}`);
});

Deno.test("spike counts correlate within a region and not across regions", () => {
  const neurons = 64;
  const seconds = 30;
  const binTicks = 25;
  const gen = new NeuralGenerator({ seed: 3, neurons });
  const batch = gen.generate(request(gen, neurons * 1000 * seconds));
  const spike = col<Uint8Array>(batch, "spike");
  const bins = 1000 * seconds / binTicks;
  const counts = Array.from({ length: neurons }, () => new Float64Array(bins));
  for (let i = 0; i < batch.length; i++) {
    if (spike[i]) counts[i % neurons]![Math.floor(i / neurons / binTicks)]!++;
  }
  let within = 0;
  let withinPairs = 0;
  let across = 0;
  let acrossPairs = 0;
  for (let a = 0; a < neurons; a++) {
    for (let b = a + 1; b < neurons; b++) {
      const c = correlation(counts[a]!, counts[b]!);
      if (gen.regionOf(a) === gen.regionOf(b)) {
        within += c;
        withinPairs++;
      } else {
        across += c;
        acrossPairs++;
      }
    }
  }
  within /= withinPairs;
  across /= acrossPairs;
  assert(within > 0.03, `mean within-region correlation ${within}`);
  assert(Math.abs(across) < 0.015, `mean across-region correlation ${across}`);
  assert(within > across + 0.025, `within ${within} vs across ${across}`);
});

Deno.test("the voltage is noise plus the spike waveform after each spike", () => {
  const neurons = 32;
  const ticks = 20_000;
  const gen = new NeuralGenerator({ seed: 13, neurons });
  const wave = gen.waveform;
  assertEquals(Array.from(wave), Array.from(spikeWaveform(1000)));
  assertEquals(wave[0], -1);
  assert(wave.some((w) => w > 0.2), "the waveform must be biphasic");
  const batch = gen.generate(request(gen, neurons * ticks));
  const spike = col<Uint8Array>(batch, "spike");
  const volts = col<Float32Array>(batch, "voltage_uv");
  const params = Array.from({ length: neurons }, (_, n) => gen.neuronParameters("writer-0", n));
  // Spike-triggered average in units of each neuron's amplitude.
  const sta = new Float64Array(wave.length);
  let spikes = 0;
  // Residual after removing the waveforms, in units of each neuron's noise sd.
  let sum = 0;
  let sumSq = 0;
  let maxAbs = 0;
  for (let t = 0; t < ticks; t++) {
    for (let n = 0; n < neurons; n++) {
      const i = t * neurons + n;
      const p = params[n]!;
      let expected = 0;
      for (let k = 0; k < wave.length && k <= t; k++) {
        if (spike[i - k * neurons]) expected += p.amplitudeUv * wave[k]!;
      }
      const z = (volts[i]! - expected) / p.noiseSdUv;
      sum += z;
      sumSq += z * z;
      maxAbs = Math.max(maxAbs, Math.abs(z));
      if (spike[i] && t + wave.length <= ticks) {
        spikes++;
        for (let k = 0; k < wave.length; k++) sta[k]! += volts[i + k * neurons]! / p.amplitudeUv;
      }
    }
  }
  const count = neurons * ticks;
  const mean = sum / count;
  const sd = Math.sqrt(sumSq / count - mean * mean);
  assert(Math.abs(mean) < 0.02, `residual mean ${mean}`);
  assert(Math.abs(sd - 1) < 0.02, `residual sd ${sd}`);
  assert(maxAbs < 4.5, `residual max |z| ${maxAbs}`);
  assert(spikes > 1000, `only ${spikes} spikes`);
  for (let k = 0; k < wave.length; k++) {
    const avg = sta[k]! / spikes;
    assert(Math.abs(avg - wave[k]!) < 0.05, `STA[${k}] = ${avg}, waveform ${wave[k]}`);
  }
});

Deno.test("spikeWaveform() spans a few samples at 1 kHz and about 3 ms at higher rates", () => {
  assertEquals(spikeWaveform(1000).length, 4);
  assertEquals(spikeWaveform(2000).length, 6);
  assertEquals(spikeWaveform(30_000).length, 24);
  for (const rate of [1000, 2000, 30_000]) {
    const w = spikeWaveform(rate);
    assertEquals(Math.min(...w), -1);
    assert(w.indexOf(-1) < w.indexOf(Math.max(...w)), "the trough comes before the rebound");
  }
});

Deno.test("NeuralGenerator rejects invalid settings and requests", () => {
  assertThrowsKind(() => new NeuralGenerator({ seed: 1.5 }), RangeError, "seed");
  assertThrowsKind(() => new NeuralGenerator({ seed: 1, neurons: 0 }), RangeError, "neuron count");
  assertThrowsKind(
    () => new NeuralGenerator({ seed: 1, neurons: 3, regions: ["a", "b", "c", "d"] }),
    RangeError,
  );
  assertThrowsKind(
    () => new NeuralGenerator({ seed: 1, regions: ["a", "a"] }),
    RangeError,
    "unique",
  );
  assertThrowsKind(
    () => new NeuralGenerator({ seed: 1, sampleRateHz: 999.5 }),
    RangeError,
    "sample rate",
  );
  assertThrowsKind(
    () => new NeuralGenerator({ seed: 1, rateRangeHz: [10, 5] }),
    RangeError,
    "firing rate",
  );
  const gen = new NeuralGenerator({ seed: 1 });
  assertThrowsKind(() => gen.generate(request(gen, -1)), RangeError, "rows");
  assertThrowsKind(() => gen.generate(request(gen, 1, { startRow: 0.5 })), RangeError, "startRow");
  assertThrowsKind(() => gen.generate(request(gen, 1, { batchSeq: -2 })), RangeError, "batchSeq");
});

/**
 * The synthetic neural source: a multi-region cortical recording with Poisson
 * spiking, region-wide network bursts, spike waveforms on a noisy voltage
 * trace, and the fixed 10-column schema `NEURAL_FIELDS`.
 *
 * A writer's output is a row stream: row `r` of a segment is sample tick
 * `tick0 + floor(r / neurons)` and neuron `r % neurons`. A batch is any
 * contiguous run of rows, and may start and end mid-tick.
 *
 * Invariants:
 * - Every value is a pure function of (seed, writerId, neuron, tick): a burst
 *   state is a pure function of (seed, writerId, region, tick), a spike of
 *   (seed, writerId, neuron, tick, burst state), and the voltage at tick t of
 *   the noise at t plus the spikes at t-k for k below the waveform length.
 *   Generating rows in one call or in many gives identical columns, so a
 *   restarted writer regenerates exactly the data it lost.
 * - `(writer_id, batch_seq, neuron_id, timestamp_us)` is unique across a
 *   writer's output: within a segment each row is a distinct (neuron, tick),
 *   and distinct ticks have distinct timestamps while the rate is at most 1 MHz.
 * - Ticks before 0 have no spikes and no bursts.
 * - The hot path allocates nothing per row (one BigInt per tick for the
 *   timestamp) and reuses a caller-owned batch whose columns have `rows` values.
 */

import { allocateValues, type ColumnBatch, type Field } from "../columnar/batch.ts";
import {
  deriveKey,
  fmix32,
  mix,
  mixCounter,
  normalQuantile,
  normalTable,
  toOpenUnit,
} from "./prng.ts";

/** The neural schema, in column order. */
export const NEURAL_FIELDS: Field[] = [
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
];

/** The default cortical regions: motor, somatosensory, dorsal premotor, posterior parietal. */
export const DEFAULT_REGIONS: readonly string[] = ["M1", "S1", "PMd", "PPC"];

/** How the simulated recording behaves. */
export interface NeuralConfig {
  /** The seed of every random draw; any safe integer. */
  seed: number;
  /** Channels (neurons) per tick. @default 1024 */
  neurons?: number | undefined;
  /** Region names; neurons are split evenly among them in contiguous blocks. @default ["M1","S1","PMd","PPC"] */
  regions?: string[] | undefined;
  /** Samples per second, an integer in [1, 1_000_000]. @default 1000 */
  sampleRateHz?: number | undefined;
  /** Range of the neurons' baseline firing rates in Hz (log-normal, clipped). @default [2, 50] */
  rateRangeHz?: [number, number] | undefined;
  /** Mean network bursts per second in each region. @default 1 */
  burstsPerSecond?: number | undefined;
  /** Factor by which a burst raises its region's firing rates. @default 4 */
  burstGain?: number | undefined;
  /** Range of burst durations in ms. @default [20, 80] */
  burstDurationMs?: [number, number] | undefined;
}

/** Which rows to generate. */
export interface NeuralRequest {
  /** The writer's id; part of every random key, written to `writer_id`. */
  writerId: string;
  /** Written to `session_id`; does not affect the data. */
  sessionId: string;
  /** Written to `batch_seq`; does not affect the data. */
  batchSeq: number;
  /** The tick of the segment's row 0 (see `NeuralGenerator.tickAt`). */
  tick0: number;
  /** The first row, counted from the start of the segment. */
  startRow: number;
  /** How many rows. */
  rows: number;
}

/** Per-writer neuron parameters, derived once and cached. */
interface WriterModel {
  spikeKey: number;
  noiseKey: number;
  burstKey: number;
  /** Spike thresholds against a uint32 draw, outside and inside a burst. */
  thresholdBase: Float64Array;
  thresholdBurst: Float64Array;
  rateBase: Float32Array;
  rateBurst: Float32Array;
  /** Trough amplitude in µV (positive) and noise sd in µV. */
  amplitude: Float32Array;
  noiseSd: Float32Array;
  snr: Float32Array;
}

const TWO_POW_32 = 4294967296;
const GOLDEN = 0x9e3779b1;
const NOISE_TABLE_BITS = 12;
const MAX_CACHED_WRITERS = 64;
const BURST_BLOCK_MS = 10;
const WAVEFORM_MS = 3;

/**
 * The biphasic spike waveform sampled at `sampleRateHz`: a sharp trough at the
 * spike's own tick, then a slower, smaller positive phase. Scaled so that the
 * trough is -1; the voltage adds `amplitude * waveform[k]` at `k` ticks after
 * each spike. At least 4 and at most 24 samples long.
 */
export function spikeWaveform(sampleRateHz: number): Float64Array {
  const length = Math.min(24, Math.max(4, Math.round(sampleRateHz * WAVEFORM_MS / 1000)));
  const shape = new Float64Array(length);
  let min = 0;
  for (let k = 0; k < length; k++) {
    const x = (k + 0.5) / length;
    const trough = -Math.exp(-(((x - 0.15) / 0.12) ** 2));
    const rebound = 0.45 * Math.exp(-(((x - 0.55) / 0.25) ** 2));
    shape[k] = trough + rebound;
    min = Math.min(min, shape[k]!);
  }
  for (let k = 0; k < length; k++) shape[k] = shape[k]! / -min;
  return shape;
}

/**
 * Generates neural rows deterministically. One generator may serve many
 * writers; it caches each writer's neuron parameters.
 *
 * @example
 * ```ts
 * const gen = new NeuralGenerator({ seed: 7 });
 * const tick0 = gen.tickAt(Date.parse("2026-01-01T00:00:00Z"));
 * const batch = gen.generate({
 *   writerId: "writer-0", sessionId: "s1", batchSeq: 0, tick0, startRow: 0, rows: 500,
 * });
 * batch.length; // 500
 * ```
 */
export class NeuralGenerator {
  /** The seed. */
  readonly seed: number;
  /** Neurons per tick, which is also rows per tick. */
  readonly neurons: number;
  /** Region names. */
  readonly regions: readonly string[];
  /** Samples per second. */
  readonly sampleRateHz: number;
  /** The spike waveform (see `spikeWaveform`). */
  readonly waveform: Float64Array;

  readonly #rateRange: [number, number];
  readonly #burstGain: number;
  readonly #burstBlock: number;
  readonly #burstProbability: number;
  readonly #burstMin: number;
  readonly #burstMax: number;
  readonly #regionOf: Int32Array;
  readonly #regionStart: Int32Array;
  readonly #noise = normalTable(1 << NOISE_TABLE_BITS);
  readonly #models = new Map<string, WriterModel>();
  /** Spike history bits per neuron: bit k is a spike k ticks before the current one. */
  readonly #history: Int32Array;
  #spikeKeys = new Int32Array(0);
  #noiseKeys = new Int32Array(0);
  #burstMask = new Uint8Array(0);

  constructor(config: NeuralConfig) {
    const neurons = config.neurons ?? 1024;
    const regions = config.regions ?? [...DEFAULT_REGIONS];
    const rate = config.sampleRateHz ?? 1000;
    const [rateMin, rateMax] = config.rateRangeHz ?? [2, 50];
    const [burstMinMs, burstMaxMs] = config.burstDurationMs ?? [20, 80];
    const burstsPerSecond = config.burstsPerSecond ?? 1;
    const gain = config.burstGain ?? 4;
    requireInteger("neural seed", config.seed, Number.MIN_SAFE_INTEGER);
    requireInteger("neuron count", neurons, 1, 1 << 24);
    if (regions.length < 1 || regions.length > neurons) {
      throw new RangeError(
        `Invalid regions: expected 1 to ${neurons} names (at most one per neuron), got ${regions.length}`,
      );
    }
    if (regions.some((r) => r.length === 0) || new Set(regions).size !== regions.length) {
      throw new RangeError(`Invalid regions: names must be unique and non-empty: ${regions}`);
    }
    requireInteger("sample rate (Hz)", rate, 1, 1_000_000);
    if (!(rateMin > 0 && rateMax >= rateMin && rateMax * gain < rate)) {
      throw new RangeError(
        `Invalid firing rate range [${rateMin}, ${rateMax}] Hz: need 0 < min <= max and max * burst gain below the sample rate`,
      );
    }
    if (!(gain >= 1) || !(burstsPerSecond >= 0) || !(burstMinMs > 0 && burstMaxMs >= burstMinMs)) {
      throw new RangeError(
        "Invalid burst settings: need gain >= 1, bursts per second >= 0 and 0 < min <= max duration",
      );
    }
    this.seed = config.seed;
    this.neurons = neurons;
    this.regions = [...regions];
    this.sampleRateHz = rate;
    this.waveform = spikeWaveform(rate);
    this.#rateRange = [rateMin, rateMax];
    this.#burstGain = gain;
    this.#burstBlock = Math.max(1, Math.round(rate * BURST_BLOCK_MS / 1000));
    this.#burstProbability = Math.min(1, burstsPerSecond * this.#burstBlock / rate);
    this.#burstMin = Math.max(1, Math.round(burstMinMs * rate / 1000));
    this.#burstMax = Math.max(this.#burstMin, Math.round(burstMaxMs * rate / 1000));
    const regionCount = regions.length;
    this.#regionOf = new Int32Array(neurons);
    for (let n = 0; n < neurons; n++) this.#regionOf[n] = Math.floor(n * regionCount / neurons);
    this.#regionStart = new Int32Array(regionCount + 1);
    for (let r = 0; r <= regionCount; r++) {
      this.#regionStart[r] = Math.ceil(r * neurons / regionCount);
    }
    this.#history = new Int32Array(neurons);
  }

  /** The region index of neuron `n`. */
  regionOf(neuron: number): number {
    return this.#regionOf[neuron]!;
  }

  /** The sample tick at or before an epoch time in milliseconds. */
  tickAt(epochMs: number): number {
    const seconds = Math.floor(epochMs / 1000);
    const ms = epochMs - seconds * 1000;
    return seconds * this.sampleRateHz + Math.floor(ms * this.sampleRateHz / 1000);
  }

  /** The timestamp of a tick, in integer microseconds since the epoch. */
  timestampUs(tick: number): number {
    const rate = this.sampleRateHz;
    const seconds = Math.floor(tick / rate);
    return seconds * 1_000_000 + Math.floor((tick - seconds * rate) * 1_000_000 / rate);
  }

  /**
   * The baseline firing rate (Hz), trough amplitude (µV) and noise sd (µV) of
   * one neuron of one writer.
   */
  neuronParameters(
    writerId: string,
    neuron: number,
  ): { rateHz: number; amplitudeUv: number; noiseSdUv: number; snr: number } {
    const m = this.#model(writerId);
    return {
      rateHz: m.rateBase[neuron]!,
      amplitudeUv: m.amplitude[neuron]!,
      noiseSdUv: m.noiseSd[neuron]!,
      snr: m.snr[neuron]!,
    };
  }

  /**
   * True if region `region` of a writer is in a network burst at `tick`.
   * A pure function of (seed, writerId, region, tick).
   */
  inBurst(writerId: string, region: number, tick: number): boolean {
    const m = this.#model(writerId);
    const block = this.#burstBlock;
    const first = Math.max(0, Math.floor((tick - this.#burstMax + 1) / block));
    for (let b = first; b * block <= tick; b++) {
      const start = this.#burstStart(m.burstKey, region, b);
      if (start >= 0 && start <= tick && tick < start + this.#burstLength(m.burstKey, region, b)) {
        return true;
      }
    }
    return false;
  }

  /**
   * Generates `request.rows` rows. When `reuse` is given it is filled and
   * returned; its columns are reused if each already holds `rows` values of
   * the right type, and replaced otherwise (for example after their buffers
   * were transferred).
   */
  generate(request: NeuralRequest, reuse?: ColumnBatch): ColumnBatch {
    const { writerId, sessionId, batchSeq, tick0, startRow, rows } = request;
    requireInteger("neural request tick0", tick0, 0);
    requireInteger("neural request startRow", startRow, 0);
    requireInteger("neural request rows", rows, 0);
    requireInteger("neural request batchSeq", batchSeq, 0);
    const batch = prepareBatch(rows, reuse);
    if (rows === 0) return batch;

    const n = this.neurons;
    const model = this.#model(writerId);
    const firstTick = tick0 + Math.floor(startRow / n);
    const firstNeuron = startRow % n;
    const lastTick = tick0 + Math.floor((startRow + rows - 1) / n);
    const k = this.waveform.length;
    const lo = firstTick - (k - 1);
    this.#prepareTicks(model, lo, lastTick + 1, firstTick);
    this.#initHistory(model, rows, firstTick, firstNeuron, lo);

    const cols = batch.columns;
    const timestamp = cols[0]!.values as BigInt64Array;
    (cols[1]!.values as string[]).fill(sessionId);
    (cols[2]!.values as string[]).fill(writerId);
    (cols[3]!.values as BigInt64Array).fill(BigInt(batchSeq));
    const region = cols[4]!.values as string[];
    const neuronId = cols[5]!.values as Int32Array;
    const voltage = cols[6]!.values as Float32Array;
    const spike = cols[7]!.values as Uint8Array;
    const rateOut = cols[8]!.values as Float32Array;
    const snrOut = cols[9]!.values as Float32Array;

    const regions = this.regions;
    const regionCount = regions.length;
    const regionStart = this.#regionStart;
    const history = this.#history;
    const noise = this.#noise;
    const wave = this.waveform;
    const mask = (1 << k) - 1;
    const amplitude = model.amplitude;
    const noiseSd = model.noiseSd;
    const snr = model.snr;
    const spikeKeys = this.#spikeKeys;
    const noiseKeys = this.#noiseKeys;
    const burstMask = this.#burstMask;
    const noiseShift = 32 - NOISE_TABLE_BITS;

    let row = 0;
    let tick = firstTick;
    let from = firstNeuron;
    while (row < rows) {
      const to = Math.min(n, from + (rows - row));
      const ti = tick - lo;
      const spikeKey = spikeKeys[ti]!;
      const noiseKey = noiseKeys[ti]!;
      timestamp.fill(BigInt(this.timestampUs(tick)), row, row + (to - from));
      for (let r = this.#regionOf[from]!; r < regionCount && regionStart[r]! < to; r++) {
        const burst = burstMask[ti * regionCount + r] === 1;
        const threshold = burst ? model.thresholdBurst : model.thresholdBase;
        const rate = burst ? model.rateBurst : model.rateBase;
        const name = regions[r]!;
        const end = Math.min(to, regionStart[r + 1]!);
        for (let j = Math.max(from, regionStart[r]!); j < end; j++, row++) {
          const salt = Math.imul(j + 1, GOLDEN);
          const s = fmix32(spikeKey ^ salt) < threshold[j]! ? 1 : 0;
          const bits = ((history[j]! << 1) | s) & mask;
          history[j] = bits;
          let v = noise[fmix32(noiseKey ^ salt) >>> noiseShift]! * noiseSd[j]!;
          if (bits !== 0) {
            let w = 0;
            for (let rest = bits; rest !== 0; rest &= rest - 1) {
              w += wave[31 - Math.clz32(rest & -rest)]!;
            }
            v += w * amplitude[j]!;
          }
          region[row] = name;
          neuronId[row] = j;
          voltage[row] = v;
          spike[row] = s;
          rateOut[row] = rate[j]!;
          snrOut[row] = snr[j]!;
        }
      }
      tick++;
      from = 0;
    }
    return batch;
  }

  /** Fills the per-tick keys and burst mask for ticks [lo, hi). */
  #prepareTicks(model: WriterModel, lo: number, hi: number, firstOutputTick: number): void {
    const ticks = hi - lo;
    const regionCount = this.regions.length;
    if (this.#spikeKeys.length < ticks) {
      const capacity = Math.max(ticks, this.#spikeKeys.length * 2);
      this.#spikeKeys = new Int32Array(capacity);
      this.#noiseKeys = new Int32Array(capacity);
      this.#burstMask = new Uint8Array(capacity * regionCount);
    }
    for (let t = Math.max(lo, 0); t < hi; t++) {
      this.#spikeKeys[t - lo] = mixCounter(model.spikeKey, t);
    }
    for (let t = firstOutputTick; t < hi; t++) {
      this.#noiseKeys[t - lo] = mixCounter(model.noiseKey, t);
    }
    const mask = this.#burstMask;
    mask.fill(0, 0, ticks * regionCount);
    const block = this.#burstBlock;
    const firstBlock = Math.max(0, Math.floor((lo - this.#burstMax + 1) / block));
    const lastBlock = Math.floor((hi - 1) / block);
    for (let r = 0; r < regionCount; r++) {
      for (let b = firstBlock; b <= lastBlock; b++) {
        const start = this.#burstStart(model.burstKey, r, b);
        if (start < 0) continue;
        const end = Math.min(hi, start + this.#burstLength(model.burstKey, r, b));
        for (let t = Math.max(lo, start); t < end; t++) mask[(t - lo) * regionCount + r] = 1;
      }
    }
  }

  /**
   * Sets the spike history of each neuron that the batch touches from the
   * ticks before the first tick it appears in, so that waveforms of earlier
   * spikes carry into the batch exactly as they would in one long call.
   */
  #initHistory(
    model: WriterModel,
    rows: number,
    firstTick: number,
    firstNeuron: number,
    lo: number,
  ): void {
    const n = this.neurons;
    const k = this.waveform.length;
    const regionCount = this.regions.length;
    const touched = Math.min(rows, n);
    for (let i = 0; i < touched; i++) {
      let j = firstNeuron + i;
      let tick = firstTick;
      if (j >= n) {
        j -= n;
        tick++;
      }
      const r = this.#regionOf[j]!;
      const salt = Math.imul(j + 1, GOLDEN);
      let bits = 0;
      for (let back = k - 1; back >= 1; back--) {
        const t = tick - back;
        let s = 0;
        if (t >= 0) {
          const burst = this.#burstMask[(t - lo) * regionCount + r] === 1;
          const threshold = burst ? model.thresholdBurst[j]! : model.thresholdBase[j]!;
          s = fmix32(this.#spikeKeys[t - lo]! ^ salt) < threshold ? 1 : 0;
        }
        bits = (bits << 1) | s;
      }
      this.#history[j] = bits;
    }
  }

  /** The first tick of the burst that block `b` of a region starts, or -1 if none. */
  #burstStart(burstKey: number, region: number, b: number): number {
    const h = mixCounter(mix(burstKey, region), b);
    if (h / TWO_POW_32 >= this.#burstProbability) return -1;
    return b * this.#burstBlock + fmix32(h ^ 0x68e31da4) % this.#burstBlock;
  }

  /** The length in ticks of the burst that block `b` of a region starts. */
  #burstLength(burstKey: number, region: number, b: number): number {
    const h = mixCounter(mix(burstKey, region), b);
    const span = this.#burstMax - this.#burstMin + 1;
    return this.#burstMin + fmix32(h ^ 0x1b56c4e9) % span;
  }

  #model(writerId: string): WriterModel {
    const cached = this.#models.get(writerId);
    if (cached) return cached;
    if (this.#models.size >= MAX_CACHED_WRITERS) {
      this.#models.delete(this.#models.keys().next().value!);
    }
    const model = this.#buildModel(writerId);
    this.#models.set(writerId, model);
    return model;
  }

  #buildModel(writerId: string): WriterModel {
    const key = deriveKey(this.seed, writerId);
    const n = this.neurons;
    const rate = this.sampleRateHz;
    const [rateMin, rateMax] = this.#rateRange;
    const mu = (Math.log(rateMin) + Math.log(rateMax)) / 2;
    const sigma = (Math.log(rateMax) - Math.log(rateMin)) / 4;
    const model: WriterModel = {
      spikeKey: mix(key, 1),
      noiseKey: mix(key, 2),
      burstKey: mix(key, 3),
      thresholdBase: new Float64Array(n),
      thresholdBurst: new Float64Array(n),
      rateBase: new Float32Array(n),
      rateBurst: new Float32Array(n),
      amplitude: new Float32Array(n),
      noiseSd: new Float32Array(n),
      snr: new Float32Array(n),
    };
    const paramKey = mix(key, 4);
    for (let j = 0; j < n; j++) {
      const draw = (i: number) => toOpenUnit(mixCounter(paramKey, j * 4 + i));
      const base = Math.min(
        rateMax,
        Math.max(rateMin, Math.exp(mu + sigma * normalQuantile(draw(0)))),
      );
      const burst = base * this.#burstGain;
      model.rateBase[j] = base;
      model.rateBurst[j] = burst;
      model.thresholdBase[j] = Math.floor(base / rate * TWO_POW_32);
      model.thresholdBurst[j] = Math.floor(burst / rate * TWO_POW_32);
      // Trough amplitudes log-uniform in [40, 160] µV; noise sd uniform in [6, 14] µV.
      const amplitude = 40 * Math.pow(4, draw(1));
      const sd = 6 + 8 * draw(2);
      model.amplitude[j] = amplitude;
      model.noiseSd[j] = sd;
      model.snr[j] = amplitude / sd;
    }
    return model;
  }
}

/** Throws a RangeError unless `value` is an integer in [min, max]. */
function requireInteger(what: string, value: number, min: number, max = Number.MAX_SAFE_INTEGER) {
  if (!Number.isSafeInteger(value) || value < min || value > max) {
    throw new RangeError(
      `Invalid ${what}: expected an integer from ${min} to ${max}, got ${value}`,
    );
  }
}

/** Returns `reuse` with columns of `rows` values each, or a new batch. */
function prepareBatch(rows: number, reuse: ColumnBatch | undefined): ColumnBatch {
  if (reuse && fitsNeuralBatch(reuse, rows)) {
    reuse.fields = NEURAL_FIELDS;
    reuse.length = rows;
    return reuse;
  }
  const columns = NEURAL_FIELDS.map((f) => ({ values: allocateValues(f.type, rows) }));
  if (!reuse) return { fields: NEURAL_FIELDS, columns, length: rows };
  reuse.fields = NEURAL_FIELDS;
  reuse.columns = columns;
  reuse.length = rows;
  return reuse;
}

function fitsNeuralBatch(batch: ColumnBatch, rows: number): boolean {
  const c = batch.columns;
  if (c.length !== NEURAL_FIELDS.length) return false;
  for (let i = 0; i < c.length; i++) {
    if (c[i]!.values.length !== rows || c[i]!.nulls !== undefined) return false;
  }
  return c[0]!.values instanceof BigInt64Array && Array.isArray(c[1]!.values) &&
    Array.isArray(c[2]!.values) && c[3]!.values instanceof BigInt64Array &&
    Array.isArray(c[4]!.values) && c[5]!.values instanceof Int32Array &&
    c[6]!.values instanceof Float32Array && c[7]!.values instanceof Uint8Array &&
    c[8]!.values instanceof Float32Array && c[9]!.values instanceof Float32Array;
}

/**
 * The soak's flatness target: for every series, the last window (default
 * the last 10 minutes) stays within a tolerance (default 10 %) of a
 * baseline window (default minutes 10 to 20). Pure, so that it can be
 * tested and re-run on a saved soak.json:
 *
 *   deno run -A scripts/soak_target.ts <soak.json>
 *
 * soak.json names its keys in snake_case, as every `--json` document of
 * neuralake does (`duration_ms`, `interval_ms`, `samples[]{minute at load1
 * disk_free_bytes rss_mb probe}`; role ids under `rss_mb` as the run names
 * them). Files written before the rename have `durationMs` and
 * `intervalMs`, which are still read.
 */

/** One sample: minutes since the start, and a value per series (null: not measured). */
export interface SoakSample {
  minute: number;
  values: Record<string, number | null>;
}

/** The verdict on one series. */
export interface SeriesVerdict {
  series: string;
  baselineMean: number | null;
  tailMean: number | null;
  /** (tail mean - baseline mean) / baseline mean. */
  change: number | null;
  /** The largest |sample - baseline mean| / baseline mean in the tail. */
  worstSample: number | null;
  /** True when the tail mean is within the tolerance of the baseline mean. */
  held: boolean | null;
  /**
   * Growth per hour: the least-squares slope of the samples from the
   * baseline window's start to the end (the warm-up left out), times 60.
   */
  perHour: number | null;
}

/** The windows compared, in minutes: [from, to] inclusive. */
export interface SoakWindows {
  baseline: [number, number];
  tail: [number, number];
}

/**
 * The windows for a run of `durationMin` minutes: minutes 10–20 against the
 * last 10, or, for runs shorter than 30 minutes, the second quarter against
 * the last quarter.
 */
export function soakWindows(durationMin: number): SoakWindows {
  if (durationMin >= 30) return { baseline: [10, 20], tail: [durationMin - 10, durationMin] };
  const q = durationMin / 4;
  return { baseline: [q, 2 * q], tail: [durationMin - q, durationMin] };
}

function mean(xs: number[]): number | null {
  return xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : null;
}

/** The least-squares slope of `points` ([x, y]), or null for fewer than two distinct x. */
export function slope(points: readonly [number, number][]): number | null {
  const n = points.length;
  if (n < 2) return null;
  const mx = points.reduce((a, [x]) => a + x, 0) / n;
  const my = points.reduce((a, [, y]) => a + y, 0) / n;
  let sxx = 0;
  let sxy = 0;
  for (const [x, y] of points) {
    sxx += (x - mx) ** 2;
    sxy += (x - mx) * (y - my);
  }
  return sxx > 0 ? sxy / sxx : null;
}

/** Judges every series of `samples` against the target. */
export function judgeSoak(
  samples: readonly SoakSample[],
  windows: SoakWindows,
  tolerance = 0.1,
): SeriesVerdict[] {
  const names = [...new Set(samples.flatMap((s) => Object.keys(s.values)))].sort();
  const inWindow = (s: SoakSample, [from, to]: [number, number]) =>
    s.minute >= from && s.minute <= to;
  return names.map((series) => {
    const trend: [number, number][] = samples
      .filter((s) => s.minute >= windows.baseline[0])
      .flatMap((s) => {
        const v = s.values[series];
        return typeof v === "number" && Number.isFinite(v)
          ? [[s.minute, v] as [number, number]]
          : [];
      });
    const perMinute = slope(trend);
    const perHour = perMinute === null ? null : perMinute * 60;
    const values = (w: [number, number]) =>
      samples.filter((s) => inWindow(s, w)).map((s) => s.values[series]).filter((
        v,
      ): v is number => typeof v === "number" && Number.isFinite(v));
    const base = mean(values(windows.baseline));
    const tailValues = values(windows.tail);
    const tail = mean(tailValues);
    if (base === null || tail === null || base === 0) {
      return {
        series,
        baselineMean: base,
        tailMean: tail,
        change: null,
        worstSample: null,
        held: null,
        perHour,
      };
    }
    const change = (tail - base) / base;
    const worst = Math.max(...tailValues.map((v) => Math.abs(v - base) / base));
    return {
      series,
      baselineMean: base,
      tailMean: tail,
      change,
      worstSample: worst,
      held: Math.abs(change) <= tolerance,
      perHour,
    };
  });
}

/** One sample of soak.json: what `scripts/soak.ts` measured at one minute. */
export interface SoakRow {
  minute: number;
  at: string;
  load1: number | null;
  disk_free_bytes: number | null;
  /** Resident memory in MiB by role id. */
  rss_mb: Record<string, number>;
  /** V8 heap in use in MiB by role id (absent in soaks from before it was sampled). */
  heap_mb?: Record<string, number>;
  /** Open file descriptors of the stream's processes (absent in older soaks). */
  open_fds?: number | null;
  /** What `scripts/soak_probe.ts` printed (its keys are snake_case). */
  probe: Record<string, number | null>;
}

/** soak.json: the run and its samples. */
export interface SoakDocument {
  command: string;
  table: string;
  duration_ms: number;
  interval_ms: number;
  samples: SoakRow[];
}

/** The document soak.json holds. */
export function soakDocument(
  run: { command: string; table: string; durationMs: number; intervalMs: number },
  samples: SoakRow[],
): SoakDocument {
  return {
    command: run.command,
    table: run.table,
    duration_ms: run.durationMs,
    interval_ms: run.intervalMs,
    samples,
  };
}

/**
 * Reads soak.json's text, also as written before its keys were snake_case.
 * A document that is not one says so, naming `name` (its path).
 */
export function parseSoakDocument(text: string, name = "soak.json"): SoakDocument {
  let doc;
  try {
    doc = JSON.parse(text);
  } catch (error) {
    throw new SyntaxError(`${name} is not JSON: ${(error as Error).message}`);
  }
  const duration = doc?.duration_ms ?? doc?.durationMs;
  const interval = doc?.interval_ms ?? doc?.intervalMs;
  if (typeof duration !== "number" || !Array.isArray(doc.samples)) {
    throw new TypeError(`${name} needs duration_ms (a number) and samples (an array)`);
  }
  doc.samples.forEach((sample: Partial<SoakRow> | null, i: number) => {
    if (
      typeof sample?.minute !== "number" || !isObject(sample.rss_mb) || !isObject(sample.probe)
    ) {
      throw new TypeError(
        `${name}: samples[${i}] needs minute (a number), rss_mb and probe (objects)`,
      );
    }
  });
  return { ...doc, duration_ms: duration, interval_ms: interval, samples: doc.samples };
}

function isObject(value: unknown): boolean {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/**
 * The series judged for each row: memory per role (resident, and V8 heap),
 * checkpoint, open time, bytes, files of the table and of its log.
 */
export function soakSamples(rows: readonly SoakRow[]): SoakSample[] {
  return rows.map((r) => ({
    minute: r.minute,
    values: {
      ...Object.fromEntries(Object.entries(r.rss_mb).map(([id, mb]) => [`rss_mb ${id}`, mb])),
      ...Object.fromEntries(
        Object.entries(r.heap_mb ?? {}).map(([id, mb]) => [`heap_mb ${id}`, mb]),
      ),
      "open_fds": r.open_fds ?? null,
      "live_files": r.probe.files ?? null,
      "data_files": r.probe.data_files ?? null,
      "checkpoint_bytes": r.probe.checkpoint_bytes ?? null,
      "open_ms": r.probe.open_ms ?? null,
      "open_cpu_ms": r.probe.open_cpu_ms ?? null,
      "data_bytes": r.probe.data_bytes ?? null,
      "unreclaimed_bytes": r.probe.data_bytes != null && r.probe.live_bytes != null
        ? r.probe.data_bytes - r.probe.live_bytes
        : null,
      "log_files": r.probe.log_files ?? null,
      "tombstones": r.probe.tombstones ?? null,
    },
  }));
}

if (import.meta.main) {
  const path = Deno.args[0];
  if (!path) {
    console.error("usage: soak_target.ts <soak.json>");
    Deno.exit(2);
  }
  let doc: SoakDocument;
  try {
    doc = parseSoakDocument(await Deno.readTextFile(path), path);
  } catch (error) {
    // What is wrong with the file, not a stack trace.
    console.error(`soak_target: ${(error as Error).message}`);
    Deno.exit(2);
  }
  const verdicts = judgeSoak(soakSamples(doc.samples), soakWindows(doc.duration_ms / 60_000));
  for (const v of verdicts) {
    console.log(
      `${v.series}: ${v.held === null ? "n/a" : v.held ? "held" : "NOT held"}${
        v.change === null ? "" : ` (${(v.change * 100).toFixed(1)} %)`
      }${v.perHour === null ? "" : `, ${v.perHour.toPrecision(3)} per hour`}`,
    );
  }
}

/**
 * The soak's flatness target: for every series, the last window (default
 * the last 10 minutes) stays within a tolerance (default 10 %) of a
 * baseline window (default minutes 10 to 20). Pure, so that it can be
 * tested and re-run on a saved soak.json.
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
    };
  });
}

/**
 * The side-by-side measuring loop of `deno task bench`: a warm-up, then at
 * least five measured repetitions in which neuralake and delta-rs take turns
 * (alternating who goes first, so drift hits both alike), and a summary of
 * medians, ranges and per-pair ratios oriented so that above 1 means
 * neuralake is better.
 */

/** Whether a bigger figure is better (throughput) or a smaller one (time). */
export type Better = "higher" | "lower";

/** One metric of one repetition of one side. */
export type Sample = Record<string, number>;

/** A metric to report from the samples. */
export interface MetricSpec {
  key: string;
  /** What is measured, for the table: `rows/s`, `open time (ms)`. */
  label: string;
  better: Better;
  /**
   * A fixed figure to hold this metric against instead of the peer's samples
   * (a target the peer has no measure of: a stream job's commit latency
   * against a machine ceiling that commits nothing), and what to call it.
   */
  target?: { value: number; label: string };
}

/** A scenario variant's result. */
export interface ScenarioResult {
  name: string;
  variant: string;
  metric: string;
  better: Better;
  /** Median over the measured repetitions. */
  neuralake: number;
  delta_rs: number;
  /**
   * What `delta_rs` holds when the peer is not delta-rs: a machine ceiling
   * measured in the same run (e.g. "consumer alone").
   */
  peer?: string;
  /** The median of the per-pair ratios, oriented so that > 1 favours neuralake. */
  ratio: number;
  /** The ratio of each repetition's pair of runs, in run order. */
  pair_ratios: number[];
  neuralake_range: [number, number];
  delta_rs_range: [number, number];
  repetitions: number;
  /** True when both sides ended with the rows they should (see `validity`). */
  valid: boolean;
  validity: string;
  notes?: string;
}

/** What a repetition of each side returns: its figures and a validity check. */
export interface SideRun {
  sample: Sample;
  /** Rows that the table holds at the end (for the validity check). */
  tableRows: number;
  /** Rows that this side says it wrote, or that the table must hold. */
  expectedRows: number;
  /**
   * Why the repetition is invalid beyond the row counts, and where its
   * evidence was kept (a stream whose own verification failed).
   */
  failure?: string;
}

/** Runs `warmup + repetitions` alternating pairs and summarises each metric. */
export async function measurePairs(
  name: string,
  variant: string,
  metrics: MetricSpec[],
  options: {
    repetitions: number;
    warmup: number;
    sameRowsAcrossSides: boolean;
    notes?: string;
    /** The peer's name when it is not delta-rs. */
    peer?: string;
  },
  ours: (rep: number) => Promise<SideRun>,
  theirs: (rep: number) => Promise<SideRun>,
  progress: (line: string) => void,
): Promise<ScenarioResult[]> {
  const mine: SideRun[] = [];
  const other: SideRun[] = [];
  for (let rep = 0; rep < options.warmup + options.repetitions; rep++) {
    const warm = rep < options.warmup;
    const order = rep % 2 === 0 ? ["ours", "theirs"] : ["theirs", "ours"];
    for (const side of order) {
      const run = side === "ours" ? await ours(rep) : await theirs(rep);
      if (!warm) (side === "ours" ? mine : other).push(run);
      progress(
        `${name} ${variant} ${warm ? "warm-up" : `rep ${rep - options.warmup + 1}`} ${
          side === "ours" ? "neuralake" : options.peer ?? "delta-rs"
        }: ${
          metrics.filter((m) => m.key in run.sample)
            .map((m) => `${m.label} ${formatNumber(run.sample[m.key]!)}`).join(", ")
        }`,
      );
    }
  }
  const validity = checkValidity(mine, other, options.sameRowsAcrossSides, options.peer);
  return metrics.map((m) => {
    const a = mine.map((r) => r.sample[m.key]!);
    const b = m.target ? a.map(() => m.target!.value) : other.map((r) => r.sample[m.key]!);
    const ratios = a.map((x, i) => (m.better === "higher" ? x / b[i]! : b[i]! / x));
    return {
      name,
      variant,
      metric: m.label,
      better: m.better,
      neuralake: median(a),
      delta_rs: median(b),
      ratio: round(median(ratios), 3),
      pair_ratios: ratios.map((r) => round(r, 3)),
      neuralake_range: [Math.min(...a), Math.max(...a)],
      delta_rs_range: [Math.min(...b), Math.max(...b)],
      repetitions: a.length,
      valid: validity.valid,
      validity: validity.detail,
      ...(options.notes ? { notes: options.notes } : {}),
      ...(m.target ? { peer: m.target.label } : options.peer ? { peer: options.peer } : {}),
    };
  });
}

function checkValidity(
  mine: SideRun[],
  other: SideRun[],
  sameRowsAcrossSides: boolean,
  peer = "delta-rs",
): { valid: boolean; detail: string } {
  const problems: string[] = [];
  for (const [side, runs] of [["neuralake", mine], [peer, other]] as const) {
    runs.forEach((r, i) => {
      if (r.failure !== undefined) problems.push(`${side} rep ${i + 1}: ${r.failure}`);
      else if (r.tableRows !== r.expectedRows) {
        problems.push(
          `${side} rep ${i + 1}: table holds ${r.tableRows} rows, expected ${r.expectedRows}`,
        );
      }
    });
  }
  if (sameRowsAcrossSides) {
    mine.forEach((r, i) => {
      const o = other[i];
      if (o && o.tableRows !== r.tableRows) {
        problems.push(
          `rep ${i + 1}: neuralake ends with ${r.tableRows} rows, ${peer} with ${o.tableRows}`,
        );
      }
    });
  }
  return problems.length === 0
    ? {
      valid: true,
      detail: sameRowsAcrossSides
        ? "both sides end with the same rows"
        : "each side's table holds exactly the rows it acknowledged",
    }
    : { valid: false, detail: problems.slice(0, 3).join("; ") };
}

/** The median of some numbers. */
export function median(values: number[]): number {
  if (values.length === 0) return NaN;
  const s = [...values].sort((x, y) => x - y);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

/** Rounds to `digits` decimals. */
export function round(value: number, digits = 1): number {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}

/** Formats a figure for tables: thousands separators, sensible decimals. */
export function formatNumber(value: number): string {
  if (!Number.isFinite(value)) return String(value);
  const abs = Math.abs(value);
  const digits = abs >= 1000 ? 0 : abs >= 10 ? 1 : abs >= 1 ? 2 : 3;
  return value.toLocaleString("en-US", { maximumFractionDigits: digits, minimumFractionDigits: 0 });
}

/** The results as a Markdown table. */
export function markdownTable(results: ScenarioResult[]): string {
  const rows = results.map((r) =>
    `| ${r.name} | ${r.variant} | ${r.metric} | ${formatNumber(r.neuralake)} (${
      formatNumber(r.neuralake_range[0])
    }–${formatNumber(r.neuralake_range[1])}) | ${formatNumber(r.delta_rs)} (${
      formatNumber(r.delta_rs_range[0])
    }–${formatNumber(r.delta_rs_range[1])})${r.peer ? ` [${r.peer}]` : ""} | ${
      r.ratio.toFixed(2)
    } | ${r.valid ? "yes" : `**no**: ${r.validity}`} |`
  );
  return [
    "| scenario | variant | metric | neuralake median (min–max) | delta-rs [or other peer] median (min–max) | ratio | valid |",
    "|---|---|---|---:|---:|---:|---|",
    ...rows,
  ].join("\n");
}

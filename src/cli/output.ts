/**
 * Printing results: one JSON document for `--json` (bigints as numbers when
 * safe, else strings), or aligned text tables for people.
 */

const encoder = new TextEncoder();

/** Writes text to stdout, all of it. */
export function write(text: string): void {
  const bytes = encoder.encode(text);
  let written = 0;
  while (written < bytes.length) written += Deno.stdout.writeSync(bytes.subarray(written));
}

/** Serialises a value as JSON, turning bigints into numbers (or strings beyond 2^53). */
export function toJson(value: unknown, indent = 2): string {
  return JSON.stringify(value, (key, v) => {
    // A duration in milliseconds to the microsecond, not 18.63508200000001.
    if (typeof v === "number" && /(?:Ms|_ms)$/.test(key) && !Number.isInteger(v)) {
      return Math.round(v * 1000) / 1000;
    }
    if (typeof v === "bigint") {
      return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER)
        ? Number(v)
        : v.toString();
    }
    if (v instanceof Map) return Object.fromEntries(v);
    if (v instanceof Set) return [...v];
    return v;
  }, indent);
}

/** Prints a value as one JSON document on stdout. */
export function printJson(value: unknown): void {
  write(toJson(value) + "\n");
}

/** `latencyMs` as `latency_ms`; a key already in snake_case is unchanged. */
export function snakeCase(key: string): string {
  return key.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
}

/**
 * The `--json` style: every key neuralake names is snake_case, in every
 * command's document and in the files a run writes. Returns `value` with the
 * keys of its plain objects in snake_case, at every depth, except the values
 * under a key in `verbatim` (matched by the key's own name), which are kept
 * as they are: objects of the Delta log (a schema, a protocol action, a
 * commit's operationParameters), user data (table properties, rows) and
 * setting names (a run's configuration), all spelt as their source spells
 * them.
 */
export function snakeCaseKeys(value: unknown, verbatim: readonly string[] = []): unknown {
  if (Array.isArray(value)) return value.map((v) => snakeCaseKeys(v, verbatim));
  if (value === null || typeof value !== "object") return value;
  const proto = Object.getPrototypeOf(value);
  if (proto !== Object.prototype && proto !== null) return value;
  const out: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(value)) {
    out[snakeCase(key)] = verbatim.includes(key) ? v : snakeCaseKeys(v, verbatim);
  }
  return out;
}

/** Formats rows as an aligned text table with a header. */
export function formatTable(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (cells: string[]) =>
    cells.map((c, i) => (c ?? "").padEnd(widths[i]!)).join("  ").trimEnd();
  return [line(header), line(widths.map((w) => "-".repeat(w))), ...rows.map(line)].join("\n") +
    "\n";
}

/** Formats `key: value` lines with aligned values. */
export function formatFields(fields: [string, string][]): string {
  const width = Math.max(...fields.map(([k]) => k.length));
  return fields.map(([k, v]) => `${(k + ":").padEnd(width + 2)}${v}`).join("\n") + "\n";
}

/**
 * The fixture tables under tests/fixtures/ (made by Spark and delta-rs with
 * scripts/make-fixtures.sh) and the rows their engines read from them.
 */

/** The folder that holds manifest.json, tables/ and expected/. */
export const FIXTURES = new URL("../fixtures/", import.meta.url).pathname;

/**
 * What the tests expect neuralake to do with a table: read the engine's rows,
 * or refuse naming a feature, and then read these columns alone as the
 * engine does (when given).
 */
export type NeuralakeExpectation = "rows" | { refused: string; columns?: string[] };

/** One table of tests/fixtures/manifest.json. */
export interface FixtureTable {
  name: string;
  /** The engine and version that wrote it. */
  engine: string;
  /** Table features and situations it covers, e.g. "deletionVectors". */
  features: string[];
  note: string;
  /** Relative to FIXTURES. */
  path: string;
  /** The rows the writing engine reads, as canonical NDJSON, relative to FIXTURES. */
  expected: string;
  version: number;
  rows: number;
  protocol: Record<string, unknown> | null;
  /**
   * "rows": neuralake reads the expected rows; `{ refused: feature }`:
   * neuralake refuses the table naming that feature (until it is built).
   */
  neuralake: NeuralakeExpectation;
  /**
   * Earlier versions the engine read back (time travel), with their rows
   * (`expected`, relative to FIXTURES), or that it could not reconstruct
   * (`unavailable`: their commits were cleaned up).
   */
  versions?: EarlierVersion[];
}

/** An earlier version of a fixture table. */
export type EarlierVersion =
  | { version: number; expected: string; rows: number; unavailable?: undefined }
  | { version: number; unavailable: true };

let manifest: FixtureTable[] | undefined;

/** Every fixture table, by name order. */
export function fixtureTables(): FixtureTable[] {
  manifest ??= JSON.parse(Deno.readTextFileSync(`${FIXTURES}manifest.json`)).tables;
  return manifest!;
}

/** One fixture table by name; throws naming it when there is none. */
export function fixture(name: string): FixtureTable {
  const found = fixtureTables().find((t) => t.name === name);
  if (!found) throw new Error(`No fixture table named "${name}" in tests/fixtures/manifest.json`);
  return found;
}

/** The absolute path of a fixture table's root. */
export function fixturePath(name: string): string {
  return FIXTURES + fixture(name).path;
}

/**
 * The rows the engine that wrote the table reads from it, in canonical JSON:
 * at its latest version, or at the earlier `version` the manifest lists.
 */
export function expectedRows(name: string, version?: number): Record<string, unknown>[] {
  const table = fixture(name);
  let file = table.expected;
  if (version !== undefined && version !== table.version) {
    const earlier = table.versions?.find((v) => v.version === version);
    if (!earlier || earlier.unavailable) {
      throw new Error(`Fixture table "${name}" has no expected rows at version ${version}`);
    }
    file = earlier.expected;
  }
  const text = Deno.readTextFileSync(FIXTURES + file);
  return text.split("\n").filter((l) => l !== "").map((l) => JSON.parse(l));
}

/** Every file under a folder (default: all fixture tables) whose name matches. */
export function filesUnder(pattern: RegExp, dir = `${FIXTURES}tables`): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const entry of Deno.readDirSync(d)) {
      const path = `${d}/${entry.name}`;
      if (entry.isDirectory) walk(path);
      else if (entry.isFile && pattern.test(entry.name)) out.push(path);
    }
  };
  walk(dir);
  return out.sort();
}

/** Data files of the fixture tables (Parquet that is not a checkpoint or sidecar). */
export function dataFiles(): string[] {
  return filesUnder(/\.parquet$/).filter((p) => !p.includes("/_delta_log/"));
}

/** Classic checkpoint files (single and multi-part) of the fixture tables. */
export function classicCheckpoints(): string[] {
  return filesUnder(/^\d{20}\.checkpoint(\.\d{10}\.\d{10})?\.parquet$/);
}

/** Every Parquet file of the fixture logs: checkpoints, v2 top-level checkpoints, sidecars. */
export function logParquetFiles(): string[] {
  return filesUnder(/\.parquet$/).filter((p) => p.includes("/_delta_log/"));
}

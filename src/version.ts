/**
 * The product version, reported in `commitInfo.engineInfo`, `--version` and
 * Parquet `created_by`. Kept in step with `deno.json` by a test.
 */
export const VERSION = "0.1.0";

/** The `engineInfo` string written into every commit. */
export const ENGINE_INFO = `neuralake/${VERSION}`;

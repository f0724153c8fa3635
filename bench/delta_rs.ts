/**
 * Runs the delta-rs side of a benchmark (`bench/py/delta_rs_bench.py`) in the
 * benchmark's own virtual environment, installed on demand under
 * `.cache/bench-venv`.
 */

const ROOT = new URL("../", import.meta.url).pathname;
let python: Promise<string> | undefined;

/** The benchmark venv's python, installing deltalake and pyarrow on first use. */
export function benchPython(): Promise<string> {
  return python ??= (async () => {
    const out = await new Deno.Command("sh", {
      args: [`${ROOT}scripts/ensure-python.sh`, `${ROOT}.cache/bench-venv`],
      stdout: "piped",
      stderr: "inherit",
    }).output();
    if (!out.success) throw new Error("Cannot install the benchmark's Python environment");
    return new TextDecoder().decode(out.stdout).trim();
  })();
}

/** Runs one delta-rs benchmark request and returns its JSON answer. */
// deno-lint-ignore no-explicit-any
export async function deltaRsBench(request: Record<string, unknown>): Promise<any> {
  const out = await new Deno.Command(await benchPython(), {
    args: [`${ROOT}bench/py/delta_rs_bench.py`, JSON.stringify(request)],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder().decode(out.stdout).trim();
  if (!out.success || !text) {
    throw new Error(
      `delta-rs benchmark ${request.op} failed: ${
        new TextDecoder().decode(out.stderr).slice(-2000)
      }`,
    );
  }
  return JSON.parse(text.split("\n").pop()!);
}

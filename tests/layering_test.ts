/**
 * The layering of DESIGN.md, asserted for every folder of src/: each layer
 * imports only the layers below it (and the libraries of its concern), so an
 * import that points up fails here. `delta/` and `parquet/` never import each
 * other; roles reach the Delta and Parquet layers only through `ops/`.
 */

import { assertEquals } from "./_helpers/assert.ts";

/** Per folder: the src/ folders (or top-level files) and libraries it may import. */
const RULES: Record<string, { layers: string[]; libraries?: RegExp }> = {
  util: { layers: [], libraries: /^@logtape\/logtape$/ },
  columnar: { layers: ["util"] },
  storage: {
    layers: ["util"],
    libraries: /^(@smithy\/signature-v4|@smithy\/core\/config|@aws-crypto\/sha256-js|node:[a-z]+)$/,
  },
  parquet: {
    layers: ["columnar", "util"],
    libraries: /^(hyparquet(-writer|-compressors)?(\/src\/[a-z0-9-]+\.js)?|hysnappy|node:zlib)$/,
  },
  delta: { layers: ["storage", "columnar", "util", "version.ts"], libraries: /^crc-32$/ },
  ops: { layers: ["delta", "parquet", "storage", "columnar", "util", "version.ts"] },
  sources: {
    layers: ["parquet", "storage", "columnar", "util"],
    libraries: /^(csv-parse(\/[a-z]+)?|node:fs\/promises|node:buffer|@platformatic\/kafka)$/,
  },
  // The orchestrator writes the run's report and metrics at the end of a run.
  roles: {
    layers: ["ops", "sources", "metrics", "report", "storage", "util"],
    libraries: /^jsonc-parser$/,
  },
  metrics: {
    layers: ["columnar", "util"],
    libraries: /^(csv-stringify(\/[a-z]+)?|prom-client|@datadog\/sketches-js)$/,
  },
  report: { layers: ["metrics", "util"] },
  cli: {
    layers: [
      "ops",
      "roles",
      "sources",
      "metrics",
      "report",
      "delta",
      "parquet",
      "storage",
      "columnar",
      "util",
      "version.ts",
    ],
    libraries: /^(csv-stringify(\/[a-z]+)?|node:util)$/,
  },
};

const SRC = new URL("../src/", import.meta.url);

/** The layer an import of `specifier` from `folder` (a path under src/) points at. */
function layerOf(folder: string, specifier: string): string | undefined {
  if (!specifier.startsWith(".")) return undefined;
  const resolved = new URL(specifier, new URL(`${folder}/x.ts`, SRC)).pathname;
  const rel = resolved.slice(SRC.pathname.length);
  return rel.includes("/") ? rel.slice(0, rel.indexOf("/")) : rel;
}

async function* sourceFiles(dir: URL, prefix = ""): AsyncIterable<string> {
  for await (const entry of Deno.readDir(dir)) {
    if (entry.isDirectory) {
      yield* sourceFiles(new URL(`${entry.name}/`, dir), `${prefix}${entry.name}/`);
    } else if (entry.name.endsWith(".ts")) yield `${prefix}${entry.name}`;
  }
}

Deno.test("every folder of src imports only the layers below it", async () => {
  const offending: string[] = [];
  const seen = new Map<string, number>();
  for await (const file of sourceFiles(SRC)) {
    if (!file.includes("/")) continue;
    const folder = file.slice(0, file.indexOf("/"));
    const rule = RULES[folder];
    if (!rule) {
      offending.push(`${file}: the folder ${folder} has no layering rule`);
      continue;
    }
    const text = await Deno.readTextFile(new URL(file, SRC));
    for (const match of text.matchAll(/^(?:import|export)[^;]*?from\s+"([^"]+)"/gms)) {
      const specifier = match[1]!;
      seen.set(folder, (seen.get(folder) ?? 0) + 1);
      const layer = layerOf(file.slice(0, file.lastIndexOf("/")), specifier);
      const allowed = layer === undefined
        ? rule.libraries?.test(specifier) ?? false
        : layer === folder || rule.layers.includes(layer);
      if (!allowed) offending.push(`${file}: ${specifier}`);
    }
  }
  assertEquals(offending, []);
  for (const folder of Object.keys(RULES)) {
    if (folder === "util") continue;
    assertEquals(
      (seen.get(folder) ?? 0) > 3,
      true,
      `only ${seen.get(folder)} imports in ${folder}: the scan is broken`,
    );
  }
});

Deno.test("the layering scan catches an import that points up", () => {
  assertEquals(layerOf("roles", "../delta/transaction.ts"), "delta");
  assertEquals(layerOf("storage/s3", "../keys.ts"), "storage");
  assertEquals(layerOf("ops", "../version.ts"), "version.ts");
  assertEquals(RULES.roles!.layers.includes("delta"), false);
  assertEquals(RULES.delta!.layers.includes("parquet"), false);
  assertEquals(RULES.parquet!.layers.includes("delta"), false);
});

Deno.test("only parquet/_hyparquet.ts imports the private modules of hyparquet and hyparquet-writer", async () => {
  const offending: string[] = [];
  for await (const file of sourceFiles(SRC)) {
    if (file === "parquet/_hyparquet.ts") continue;
    const text = await Deno.readTextFile(new URL(file, SRC));
    for (const match of text.matchAll(/^(?:import|export)[^;]*?from\s+"([^"]+)"/gms)) {
      if (/^hyparquet(-writer)?\/src\//.test(match[1]!)) offending.push(`${file}: ${match[1]}`);
    }
  }
  assertEquals(offending, []);
});

Deno.test("only sources/kafka.ts imports the Kafka client library", async () => {
  const importers: string[] = [];
  for await (const file of sourceFiles(SRC)) {
    const text = await Deno.readTextFile(new URL(file, SRC));
    for (const match of text.matchAll(/^(?:import|export)[^;]*?from\s+"([^"]+)"/gms)) {
      if (/^@platformatic\/kafka\b/.test(match[1]!)) importers.push(file);
    }
  }
  assertEquals(importers, ["sources/kafka.ts"]);
});

Deno.test("tests assert with tests/_helpers/assert.ts only, never node:assert", async () => {
  const tests = new URL("./", import.meta.url);
  const files: string[] = [];
  for await (const entry of Deno.readDir(tests)) {
    // Fixtures hold tables, not tests (and paths a URL cannot spell plainly).
    if (entry.name === "fixtures") continue;
    if (entry.isFile && entry.name.endsWith(".ts")) files.push(entry.name);
    if (entry.isDirectory) {
      for await (const file of sourceFiles(new URL(`${entry.name}/`, tests))) {
        files.push(`${entry.name}/${file}`);
      }
    }
  }
  assertEquals(files.includes("metrics/recorder_test.ts"), true, "the scan is broken");
  const offending: string[] = [];
  for (const file of files) {
    const text = await Deno.readTextFile(new URL(file, tests));
    for (const match of text.matchAll(/^(?:import|export)[^;]*?from\s+"([^"]+)"/gms)) {
      if (/^node:assert\b/.test(match[1]!)) offending.push(`${file}: ${match[1]}`);
    }
  }
  assertEquals(offending, []);
});

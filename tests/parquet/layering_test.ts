/**
 * The Parquet layer depends only on the columnar and util layers and on the
 * Parquet libraries: never on the Delta layer, storage or anything above.
 */

import { assertEquals } from "../_helpers/assert.ts";

const ALLOWED = [
  /^\.\/[a-z_]+\.ts$/,
  /^\.\.\/columnar\/[a-z_]+\.ts$/,
  /^\.\.\/util\/[a-z_]+\.ts$/,
  /^hyparquet(-writer)?(\/src\/[a-z-]+\.js)?$/,
  /^hysnappy$/,
  /^node:zlib$/,
];

Deno.test("the parquet layer imports only columnar, util and the Parquet libraries", async () => {
  const dir = new URL("../../src/parquet/", import.meta.url);
  const offending: string[] = [];
  let seen = 0;
  for await (const entry of Deno.readDir(dir)) {
    if (!entry.name.endsWith(".ts")) continue;
    const text = await Deno.readTextFile(new URL(entry.name, dir));
    for (const match of text.matchAll(/^(?:import|export)[^;]*?from\s+"([^"]+)"/gms)) {
      const specifier = match[1]!;
      seen++;
      if (!ALLOWED.some((rule) => rule.test(specifier))) {
        offending.push(`${entry.name}: ${specifier}`);
      }
    }
  }
  assertEquals(offending, []);
  assertEquals(seen > 40, true, `only ${seen} imports were found: the scan is broken`);
});

/** Only the entry point ends the process: commands return their exit status. */

import { assertEquals } from "../_helpers/assert.ts";

Deno.test("no module under src/ calls Deno.exit; main.ts alone does", async () => {
  const offending: string[] = [];
  const walk = async (dir: URL) => {
    for await (const entry of Deno.readDir(dir)) {
      const url = new URL(entry.name + (entry.isDirectory ? "/" : ""), dir);
      if (entry.isDirectory) await walk(url);
      else if (entry.name.endsWith(".ts")) {
        const text = await Deno.readTextFile(url);
        if (/\bDeno\.exit\s*\(/.test(text)) offending.push(url.pathname);
      }
    }
  };
  await walk(new URL("../../src/", import.meta.url));
  assertEquals(offending, []);
  const main = await Deno.readTextFile(new URL("../../main.ts", import.meta.url));
  assertEquals(main.match(/\bDeno\.exit\s*\(/g)?.length, 1);
});

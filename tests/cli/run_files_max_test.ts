/**
 * `--run-files-max` takes only a cap that can be held: 0 (keep everything)
 * or at least four of the smallest segments (16 KiB). A smaller cap is a
 * usage error naming the flag and the smallest value, from every source.
 */

import { resolveConfig } from "../../src/roles/config.ts";
import { keySpec } from "../../src/roles/config_keys.ts";
import { MIN_CAPPED_BYTES, RotatingFile, segmentBytesFor } from "../../src/util/rotating_file.ts";
import { assert, assertEquals, assertThrows } from "../_helpers/assert.ts";
import { cli } from "../_helpers/cli.ts";

Deno.test("--run-files-max under 16KiB is a usage error naming the flag and the smallest value, exit 2", async () => {
  const dir = await Deno.makeTempDir({ prefix: "run-files-max-" });
  const r = await cli(["stream", `${dir}/t`, "--out", `${dir}/runs`, "--run-files-max", "8KiB"]);
  assertEquals(r.code, 2, r.stderr);
  assert(
    r.stderr.startsWith("error: --run-files-max must be 0 or a size of at least 16KiB"),
    r.stderr,
  );
  assert(!/\n\s+at /.test(r.stderr), r.stderr);
  // Refused before anything is created.
  assertEquals([...Deno.readDirSync(dir)], []);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("a run-files cap is 0 or at least 16KiB, from a flag, a variable or a file", () => {
  const flag = (value: string) => resolveConfig({ flags: [["runFilesMaxBytes", value]] });
  assertEquals(MIN_CAPPED_BYTES, 16 * 1024);
  assertEquals(flag("0").runFilesMaxBytes, 0);
  assertEquals(flag("16KiB").runFilesMaxBytes, 16 * 1024);
  assertEquals(flag("1MiB").runFilesMaxBytes, 1024 * 1024);
  for (const small of ["1", "4096", "16383"]) {
    const e = assertThrows(() => flag(small));
    assert(e.message.includes("at least 16KiB (16384 bytes)"), e.message);
  }
  const env = keySpec("runFilesMaxBytes")!.env;
  const fromEnv = assertThrows(() => resolveConfig({ env: { [env]: "10KiB" } }));
  assert(fromEnv.message.includes(env), fromEnv.message);
  const fromFile = assertThrows(
    () =>
      resolveConfig({ file: { path: "neuralake.jsonc", text: '{ "runFilesMaxBytes": 1000 }' } }),
  );
  assert(fromFile.message.includes("runFilesMaxBytes"), fromFile.message);
  assert(keySpec("runFilesMaxBytes")!.help.includes("at least 16KiB"));
});

Deno.test("the smallest cap accepted is held: the files stay within 16KiB", async () => {
  const dir = await Deno.makeTempDir({ prefix: "run-files-min-cap-" });
  const encoder = new TextEncoder();
  const file = new RotatingFile(`${dir}/roles.log`, {
    maxBytes: MIN_CAPPED_BYTES,
    segmentBytes: segmentBytesFor(MIN_CAPPED_BYTES),
    truncate: true,
  });
  const random = () => crypto.getRandomValues(new Uint8Array(40));
  const hex = (b: Uint8Array) => [...b].map((x) => x.toString(16).padStart(2, "0")).join("");
  for (let n = 0; n < 2_000; n++) file.writeSync(encoder.encode(`${hex(random())}\n`));
  await file.close();
  let total = 0;
  for await (const entry of Deno.readDir(dir)) {
    total += (await Deno.stat(`${dir}/${entry.name}`)).size;
  }
  assert(total <= MIN_CAPPED_BYTES, `${total} bytes kept`);
  await Deno.remove(dir, { recursive: true });
});

/**
 * `verify` on a table whose `_last_checkpoint` is damaged: the file is only a
 * hint (PROTOCOL.md), so the command warns, naming it, and still passes and
 * exits 0 when the table itself is whole.
 */

import { assert, assertEquals } from "../_helpers/assert.ts";
import { cli } from "../_helpers/cli.ts";

Deno.test("verify warns about an empty _last_checkpoint, names the file, and exits 0", async () => {
  const dir = await Deno.makeTempDir({ prefix: "neuralake-verify-hint-" });
  try {
    const table = `${dir}/t`;
    await Deno.writeTextFile(`${dir}/rows.ndjson`, '{"n":1}\n{"n":2}\n');
    assertEquals((await cli(["write", table, "--input", `${dir}/rows.ndjson`])).code, 0);
    assertEquals((await cli(["checkpoint", table])).code, 0);
    await Deno.writeTextFile(`${table}/_delta_log/_last_checkpoint`, "");
    const verified = await cli(["verify", table]);
    assertEquals(verified.code, 0, verified.stdout + verified.stderr);
    assert(verified.stdout.includes("WARN last_checkpoint_exists"), verified.stdout);
    assert(
      verified.stdout.includes("_delta_log/_last_checkpoint: the file is empty"),
      verified.stdout,
    );
    assert(verified.stdout.includes("verify: PASSED"), verified.stdout);
    const json = JSON.parse((await cli(["verify", table, "--json"])).stdout);
    const check = json.checks.find((c: { name: string }) => c.name === "last_checkpoint_exists");
    assertEquals([json.passed, check.passed, check.warning], [true, true, true]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

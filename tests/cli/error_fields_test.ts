/**
 * A failure names where it is, for people and for scripts: the schema file's
 * line and column, the commit file and line of a damaged log, in the message
 * and as `--json` fields, never a stack trace.
 */

import { assert, assertEquals } from "../_helpers/assert.ts";
import { cli } from "../_helpers/cli.ts";

async function failure(args: string[]) {
  const out = await cli([...args, "--json"]);
  assertEquals(out.code, 1, out.stderr);
  assert(!/^\s+at /m.test(out.stderr), `a stack trace: ${out.stderr}`);
  return { stderr: out.stderr, error: JSON.parse(out.stdout).error };
}

Deno.test("create names the line and column of a schema file that is not JSON", async () => {
  const dir = await Deno.makeTempDir({ prefix: "error-fields-" });
  const schema = `${dir}/schema.json`;
  await Deno.writeTextFile(
    schema,
    '{"type":"struct","fields":[\n {"name":"a","type":"long","nullable":true},\n]}',
  );
  const { stderr, error } = await failure(["create", `${dir}/t`, "--schema", schema]);
  assertEquals([error.file, error.line, error.column], [schema, 3, "1"]);
  assert(error.message.includes("at line 3, column 1"), error.message);
  assert(stderr.includes(`the schema file ${schema}: it is not JSON`), stderr);
  // A schema that is JSON but names a bad type: the file, and the column in the message.
  await Deno.writeTextFile(
    schema,
    '{"type":"struct","fields":[{"name":"gain","type":"flaot","nullable":true}]}',
  );
  const typo = await failure(["create", `${dir}/t`, "--schema", schema]);
  assertEquals(typo.error.file, schema);
  assert(typo.error.message.includes('column "gain" has unknown type "flaot"'), typo.error.message);
});

Deno.test("a damaged commit is named by its file and line, in --json too", async () => {
  const dir = await Deno.makeTempDir({ prefix: "error-fields-" });
  const schema = `${dir}/schema.json`;
  await Deno.writeTextFile(
    schema,
    '{"type":"struct","fields":[{"name":"a","type":"long","nullable":true}]}',
  );
  assertEquals((await cli(["create", `${dir}/t`, "--schema", schema])).code, 0);
  await Deno.writeTextFile(
    `${dir}/t/_delta_log/00000000000000000001.json`,
    '{"commitInfo":{}}\n{"add": {"path": "x"\n',
  );
  for (const command of ["scan", "describe", "history"]) {
    const { error } = await failure([command, `${dir}/t`]);
    assertEquals([error.file, error.line], ["_delta_log/00000000000000000001.json", 2], command);
    assertEquals(
      error.message,
      "Cannot parse _delta_log/00000000000000000001.json: line 2 is not JSON",
    );
  }
});

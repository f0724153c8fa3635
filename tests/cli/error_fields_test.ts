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

Deno.test("scan --columns naming a column the table lacks is a usage error, as --where's is", async () => {
  const dir = await Deno.makeTempDir({ prefix: "error-fields-" });
  const schema = `${dir}/schema.json`;
  await Deno.writeTextFile(
    schema,
    '{"type":"struct","fields":[{"name":"a","type":"long","nullable":true}]}',
  );
  assertEquals((await cli(["create", `${dir}/t`, "--schema", schema])).code, 0);
  for (const flags of [["--columns", "a,nope"], ["--where", "nope = 1"]]) {
    const out = await cli(["scan", `${dir}/t`, ...flags, "--json"]);
    assertEquals(out.code, 2, out.stderr);
    const error = JSON.parse(out.stdout).error;
    assertEquals(error.usage, true);
    assert(error.message.startsWith(flags[0]!), error.message);
    assert(error.message.includes('Unknown column "nope"'), error.message);
    assert(out.stderr.includes('Run "neuralake scan --help" for usage.'), out.stderr);
  }
});

Deno.test("create --partition-by naming a column the schema lacks is a usage error naming the flag", async () => {
  const dir = await Deno.makeTempDir({ prefix: "error-fields-" });
  const schema = `${dir}/schema.json`;
  await Deno.writeTextFile(
    schema,
    '{"type":"struct","fields":[{"name":"a","type":"long","nullable":true}]}',
  );
  const out = await cli(["create", `${dir}/t`, "--schema", schema, "--partition-by", "regoin"]);
  assertEquals(out.code, 2, out.stderr);
  assert(
    out.stderr.startsWith(
      `error: --partition-by regoin: column "regoin" is not in the schema ${schema}; its columns are: a`,
    ),
    out.stderr,
  );
  await assertNothingAt(`${dir}/t`);
});

/** Nothing was created at `path`. */
async function assertNothingAt(path: string): Promise<void> {
  const exists = await Deno.stat(path).then(() => true, () => false);
  assertEquals(exists, false, `${path} was created`);
}

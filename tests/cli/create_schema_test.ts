/**
 * `create` (and `write --schema` for a new table) refuses a schema that no
 * write could honour, naming the column path and the bad type, and commits
 * nothing; valid nested types are accepted.
 */

import { assert, assertEquals } from "../_helpers/assert.ts";
import { cli } from "../_helpers/cli.ts";

const field = (name: string, type: unknown) => ({ name, type, nullable: true, metadata: {} });

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.stat(path);
    return true;
  } catch {
    return false;
  }
}

Deno.test("create refuses an unknown type, naming the column and the type, and commits nothing", async () => {
  const dir = await Deno.makeTempDir({ prefix: "nl-create-schema-" });
  try {
    const bad: [unknown, string][] = [
      [[field("a", "weird")], 'column "a" has unknown type "weird"'],
      [
        [field("s", { type: "struct", fields: [field("b", "int")] })],
        'column "s.b" has unknown type "int"',
      ],
      [[field("d", "decimal(39,0)")], 'column "d" has type "decimal(39,0)"'],
      [
        [field("s", { type: "struct", fields: [field("x", "long"), field("X", "long")] })],
        'columns "s.x" and "s.X"',
      ],
      [[{ ...field("a", "long"), nullable: "no" }], '"nullable": "no"'],
    ];
    for (const [i, [schema, message]] of bad.entries()) {
      await Deno.writeTextFile(`${dir}/s${i}.json`, JSON.stringify(schema));
      const created = await cli(["create", `${dir}/c${i}`, "--schema", `${dir}/s${i}.json`]);
      assertEquals(created.code, 1, created.stdout);
      assert(created.stderr.includes(message), created.stderr);
      assert(created.stderr.includes(`s${i}.json`), created.stderr);
      assertEquals(await exists(`${dir}/c${i}/_delta_log`), false);

      await Deno.writeTextFile(`${dir}/rows.ndjson`, '{"a":1}\n');
      const written = await cli([
        "write",
        `${dir}/w${i}`,
        "--input",
        `${dir}/rows.ndjson`,
        "--schema",
        `${dir}/s${i}.json`,
      ]);
      assertEquals(written.code, 1, written.stdout);
      assert(written.stderr.includes(message), written.stderr);
      assertEquals(await exists(`${dir}/w${i}/_delta_log`), false);
    }

    await Deno.writeTextFile(
      `${dir}/nested.json`,
      JSON.stringify([
        field("id", "long"),
        field("s", { type: "struct", fields: [field("x", "timestamp_ntz")] }),
        field("l", { type: "array", elementType: "decimal(10,2)", containsNull: true }),
        field("m", {
          type: "map",
          keyType: "string",
          valueType: "double",
          valueContainsNull: true,
        }),
      ]),
    );
    const nested = await cli([
      "create",
      `${dir}/n`,
      "--schema",
      `${dir}/nested.json`,
      "--partition-by",
      "id",
    ]);
    assertEquals(nested.code, 0, nested.stderr);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

/**
 * One style for scripts: every key a `--json` document names is snake_case.
 * Only values copied from elsewhere keep their own spelling: Delta's objects
 * (a schema, a protocol action, a commit's operationParameters and action
 * names), user data (table properties, rows) and setting names. The commands
 * run as a user runs them.
 */

import { snakeCase, snakeCaseKeys } from "../../src/cli/output.ts";
import { assert, assertEquals } from "../_helpers/assert.ts";
import { cli } from "../_helpers/cli.ts";

Deno.test("snakeCaseKeys renames the keys at every depth except under the verbatim ones", () => {
  const map = new Map([["aB", 1]]);
  assertEquals(
    snakeCaseKeys({
      filesAdded: 1,
      already_snake: { deletedRows: [{ clockSkewMs: 2 }] },
      schema: { minReaderVersion: 1 },
      map,
      list: ["keepMe"],
    }, ["schema"]),
    {
      files_added: 1,
      already_snake: { deleted_rows: [{ clock_skew_ms: 2 }] },
      schema: { minReaderVersion: 1 },
      map,
      list: ["keepMe"],
    },
  );
  assertEquals(snakeCase("accessKeyId"), "access_key_id");
});

/** The keys of `doc` that are not snake_case, with their paths, outside `verbatim` keys. */
function camelKeys(doc: unknown, verbatim: readonly string[], path = ""): string[] {
  if (Array.isArray(doc)) return doc.flatMap((v, i) => camelKeys(v, verbatim, `${path}[${i}]`));
  if (doc === null || typeof doc !== "object") return [];
  return Object.entries(doc).flatMap(([key, value]) => [
    ...(/^[a-z][a-z0-9_]*$/.test(key) ? [] : [`${path}.${key}`]),
    ...(verbatim.includes(key) ? [] : camelKeys(value, verbatim, `${path}.${key}`)),
  ]);
}

Deno.test("every --json document names its keys in snake_case", async () => {
  const dir = await Deno.makeTempDir({ prefix: "nl-json-style-" });
  try {
    const t = `${dir}/t`;
    await Deno.writeTextFile(`${dir}/rows.csv`, "n,region\n1,M1\n2,S1\n");
    await Deno.writeTextFile(
      `${dir}/schema.json`,
      JSON.stringify({
        type: "struct",
        fields: [{ name: "n", type: "long", nullable: true, metadata: {} }],
      }),
    );
    const input = ["--input", `${dir}/rows.csv`];
    // Each command, and the keys whose values are kept as their source spells them.
    const commands: [string[], string[]][] = [
      [["write", t, ...input, "--partition-by", "region", "--json"], []],
      [["write", t, ...input, "--json"], []],
      [["describe", t, "--json"], ["schema", "protocol", "properties"]],
      [["history", t, "--json"], ["operation_parameters", "actions"]],
      [["history", t, "--timestamp", "2100-01-01", "--json"], ["operation_parameters", "actions"]],
      [["describe", t, "--timestamp", "2100-01-01", "--json"], [
        "schema",
        "protocol",
        "properties",
      ]],
      [["verify", t, "--version", "0", "--json"], []],
      [["checkpoint", t, "--json"], []],
      [["health", t, "--json"], []],
      [["verify", t, "--json"], []],
      [["optimize", t, "--json"], []],
      [["vacuum", t, "--dry-run", "--json"], []],
      [["vacuum", t, "--json"], []],
      [["scan", t, "--json"], ["rows", "columns"]],
      [["scan", t, "--output", `${dir}/out.parquet`, "--json"], ["columns"]],
      [["config", "show", t, "--json"], ["config"]],
      [["create", `${dir}/t2`, "--schema", `${dir}/schema.json`, "--json"], []],
      [["describe", `${dir}/missing`, "--json"], []],
    ];
    for (const [args, verbatim] of commands) {
      const r = await cli(args);
      const doc = JSON.parse(r.stdout);
      assertEquals(camelKeys(doc, verbatim), [], `${args.join(" ")}: ${r.stdout}`);
    }
    // The checks that this is not vacuous: documents that had camelCase keys.
    const w = JSON.parse((await cli(["write", t, ...input, "--json"])).stdout);
    assertEquals([w.files_added, w.already_committed, w.empty_input], [2, false, false]);
    const d = JSON.parse((await cli(["describe", t, "--json"])).stdout);
    assertEquals(d.partition_columns, ["region"]);
    assertEquals(d.protocol.minWriterVersion, 2, "the protocol action as the log has it");
    const h = JSON.parse((await cli(["health", t, "--json"])).stdout);
    assertEquals([h.put_if_absent.enforced, h.directory.is_directory], [true, true]);
    // A role on its own prints a JSON line per report.
    const writer = await cli(["writer", `${dir}/w`, "--duration", "1s", "--id", "w1"]);
    assertEquals(writer.code, 0, writer.stderr);
    const lines = writer.stdout.trimEnd().split("\n").map((l) => JSON.parse(l));
    assert(lines.some((l) => l.type === "recovered" && l.last_seq === -1), writer.stdout);
    for (const line of lines) assertEquals(camelKeys(line, []), [], JSON.stringify(line));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

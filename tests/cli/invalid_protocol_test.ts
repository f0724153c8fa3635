/**
 * A table whose protocol action breaks PROTOCOL.md's rules is refused by
 * every command, with an error naming the table, the version that set the
 * protocol and what is wrong, and nothing is written to it. An earlier
 * version with a valid protocol stays readable by time travel, as in
 * delta-kernel-rs, which validates the protocol of the version it loads.
 */

import { assert, assertEquals } from "../_helpers/assert.ts";
import { cli } from "../_helpers/cli.ts";

/** Every file under `dir` with its size, to tell that nothing was written. */
async function tree(dir: string, prefix = ""): Promise<string[]> {
  const out: string[] = [];
  for await (const e of Deno.readDir(`${dir}/${prefix}`)) {
    const path = `${prefix}${e.name}`;
    if (e.isDirectory) out.push(...await tree(dir, `${path}/`));
    else out.push(`${path} ${(await Deno.stat(`${dir}/${path}`)).size}`);
  }
  return out.sort();
}

const INVALID = {
  minReaderVersion: 3,
  minWriterVersion: 7,
  readerFeatures: ["deletionVectors"],
  writerFeatures: ["appendOnly"],
};

Deno.test("every command refuses a table with an invalid protocol, naming it and its version, and writes nothing", async () => {
  const dir = await Deno.makeTempDir({ prefix: "neuralake-invalid-protocol-" });
  const table = `${dir}/t`;
  const rows = `${dir}/rows.ndjson`;
  await Deno.writeTextFile(rows, '{"n": 1}\n{"n": 2}\n');
  assertEquals((await cli(["write", table, "--input", rows])).code, 0);
  assertEquals((await cli(["write", table, "--input", rows])).code, 0);
  await Deno.writeTextFile(
    `${table}/_delta_log/00000000000000000002.json`,
    JSON.stringify({ protocol: INVALID }) + "\n",
  );
  const before = await tree(table);

  const commands = [
    ["scan", table],
    ["describe", table],
    ["verify", table],
    ["write", table, "--input", rows],
    ["write", table, "--input", rows, "--mode", "overwrite"],
    ["checkpoint", table],
    ["optimize", table],
    ["vacuum", table, "--retention", "0s", "--allow-short-retention"],
  ];
  for (const args of commands) {
    const r = await cli(args);
    const what = args.slice(0, 1).concat(args.slice(2)).join(" ");
    assertEquals(r.code, 1, `${what}: ${r.stderr}`);
    // verify reports the failure as a failed check on stdout; the others on stderr.
    const said = args[0] === "verify" ? r.stdout : r.stderr;
    assert(said.includes(table), `${what} names the table: ${said}`);
    assert(
      said.includes("protocol set at version 2 (_delta_log/00000000000000000002.json)"),
      `${what} names the version: ${said}`,
    );
    assert(
      said.includes('reader feature "deletionVectors" must also be listed in writerFeatures'),
      `${what} says what is wrong: ${said}`,
    );
    assert(!r.stderr.includes("    at "), `${what} prints no stack trace: ${r.stderr}`);
  }
  assertEquals(await tree(table), before, "nothing was written");

  // Version 1 had a valid protocol: time travel reads it.
  const old = await cli(["scan", table, "--version", "1", "--format", "ndjson"]);
  assertEquals(old.code, 0, old.stderr);
  assertEquals(old.stdout.trim().split("\n").sort(), ['{"n":1}', '{"n":1}', '{"n":2}', '{"n":2}']);
});

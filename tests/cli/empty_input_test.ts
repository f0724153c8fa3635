/**
 * `write` with an input that has no rows commits nothing, says so, and exits
 * 0 with `"committed": false` in `--json`, whatever the input format.
 */

import type { Field } from "../../src/columnar/batch.ts";
import { ParquetFileBuilder } from "../../src/parquet/encode.ts";
import { assert, assertEquals } from "../_helpers/assert.ts";
import { cli, commits, NEURALAKE_RUN } from "../_helpers/cli.ts";

Deno.test("write of an input without rows commits nothing and says so", async () => {
  const dir = await Deno.makeTempDir({ prefix: "nl-empty-input-" });
  try {
    const table = `${dir}/t`;
    await Deno.writeTextFile(`${dir}/rows.ndjson`, '{"a":1,"b":"x"}\n{"a":2,"b":"y"}\n');
    const first = await cli(["write", table, "--input", `${dir}/rows.ndjson`]);
    assertEquals(first.code, 0, first.stderr);
    assertEquals(await commits(table), ["00000000000000000000.json"]);

    await Deno.writeTextFile(`${dir}/empty.ndjson`, "");
    await Deno.writeTextFile(`${dir}/blank.ndjson`, "\n\n");
    await Deno.writeTextFile(`${dir}/header.csv`, "a,b\n");
    await Deno.writeTextFile(`${dir}/empty.csv`, "");
    const fields: Field[] = [
      { name: "a", type: "long", nullable: true },
      { name: "b", type: "string", nullable: true },
    ];
    await Deno.writeFile(`${dir}/zero.parquet`, new ParquetFileBuilder(fields).finish().bytes);

    const cases: { args: string[]; stdin?: string }[] = [
      { args: ["--input", `${dir}/empty.ndjson`] },
      { args: ["--input", `${dir}/blank.ndjson`] },
      { args: ["--input", `${dir}/header.csv`] },
      { args: ["--input", `${dir}/empty.csv`] },
      { args: ["--input", `${dir}/zero.parquet`] },
      { args: ["--input", "-", "--format", "ndjson"], stdin: "" },
      { args: ["--input", "-", "--format", "csv"], stdin: "" },
      { args: ["--input", `${dir}/header.csv`, "--mode", "overwrite"] },
    ];
    for (const { args, stdin } of cases) {
      const what = args.join(" ");
      const json = await cli(
        ["write", table, ...args, "--json"],
        stdin === undefined ? {} : { stdin },
      );
      assertEquals(json.code, 0, `${what}: ${json.stderr}`);
      const result = JSON.parse(json.stdout);
      assertEquals(result.committed, false, what);
      assertEquals(result.empty_input, true, what);
      assertEquals(result.version, 0, what);
      assertEquals(result.rows, 0, what);

      const text = await cli(["write", table, ...args], stdin === undefined ? {} : { stdin });
      assertEquals(text.code, 0, `${what}: ${text.stderr}`);
      assert(text.stdout.includes("has no rows, so nothing was committed"), text.stdout);
      assertEquals(await commits(table), ["00000000000000000000.json"], what);
    }
    // The overwrite with no rows removed nothing.
    const scan = await cli(["scan", table, "--format", "ndjson"]);
    assertEquals(scan.stdout.trim().split("\n").length, 2);

    // Nor does an empty input create a new table.
    await Deno.writeTextFile(
      `${dir}/schema.json`,
      JSON.stringify({
        type: "struct",
        fields: [{ name: "a", type: "long", nullable: true, metadata: {} }],
      }),
    );
    const fresh = `${dir}/fresh`;
    const created = await cli([
      "write",
      fresh,
      "--input",
      `${dir}/header.csv`,
      "--schema",
      `${dir}/schema.json`,
      "--json",
    ]);
    // header.csv names a column the schema lacks; the empty NDJSON file does not.
    assertEquals(created.code, 1, created.stdout);
    const none = await cli([
      "write",
      fresh,
      "--input",
      `${dir}/empty.ndjson`,
      "--schema",
      `${dir}/schema.json`,
      "--json",
    ]);
    assertEquals(none.code, 0, none.stderr);
    assertEquals(JSON.parse(none.stdout).committed, false);
    assertEquals(JSON.parse(none.stdout).version, -1);
    assertEquals(await commits(fresh), []);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("write of an empty input to a new table without a schema creates nothing and exits 0", async () => {
  const dir = await Deno.makeTempDir({ prefix: "nl-empty-input-" });
  try {
    await Deno.writeTextFile(`${dir}/empty.csv`, "");
    await Deno.writeTextFile(`${dir}/blank.ndjson`, "\n\n");
    const cases: { args: string[]; stdin?: string }[] = [
      { args: ["--input", `${dir}/empty.csv`] },
      { args: ["--input", `${dir}/blank.ndjson`] },
      { args: ["--input", "-", "--format", "csv"], stdin: "" },
      { args: ["--input", "-", "--format", "ndjson"], stdin: "" },
    ];
    for (const { args, stdin } of cases) {
      const what = args.join(" ");
      const table = `${dir}/new`;
      const r = await cli(
        ["write", table, ...args, "--json"],
        stdin === undefined ? {} : { stdin },
      );
      assertEquals(r.code, 0, `${what}: ${r.stderr}`);
      const result = JSON.parse(r.stdout);
      assertEquals([result.committed, result.empty_input, result.version], [false, true, -1], what);
      assertEquals(await commits(table), [], what);
      const text = await cli(["write", table, ...args], stdin === undefined ? {} : { stdin });
      assertEquals(text.code, 0, `${what}: ${text.stderr}`);
      assert(text.stdout.includes("has no rows, so nothing was committed"), text.stdout);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("write interrupted by SIGINT commits nothing and deletes the files it uploaded", async () => {
  const dir = await Deno.makeTempDir({ prefix: "nl-interrupt-" });
  try {
    const table = `${dir}/t`;
    const child = new Deno.Command(Deno.execPath(), {
      args: [
        ...NEURALAKE_RUN,
        "write",
        table,
        "--input",
        "-",
        "--format",
        "csv",
        "--target-file-size",
        "64KiB",
      ],
      stdin: "piped",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const output = child.output();
    const stdin = child.stdin.getWriter();
    const encoder = new TextEncoder();
    await stdin.write(encoder.encode("id,name\n"));
    let next = 0;
    const chunk = () => {
      let text = "";
      for (let i = 0; i < 20_000; i++, next++) text += `${next},name-${next}\n`;
      return encoder.encode(text);
    };
    const parquetFiles = async () => {
      const names: string[] = [];
      try {
        for await (const e of Deno.readDir(table)) {
          if (e.name.endsWith(".parquet")) names.push(e.name);
        }
      } catch (error) {
        if (!(error instanceof Deno.errors.NotFound)) throw error;
      }
      return names;
    };
    // Feed rows until a data file is uploaded, then interrupt, and feed on
    // until the write notices (it reads on to the next batch).
    while ((await parquetFiles()).length === 0) await stdin.write(chunk());
    child.kill("SIGINT");
    const fed = (async () => {
      try {
        for (;;) await stdin.write(chunk());
      } catch {
        // The process closed its stdin.
      }
    })();
    const out = await output;
    await fed;
    const stderr = new TextDecoder().decode(out.stderr);
    assertEquals(out.code, 1, stderr);
    assert(stderr.includes("Interrupted by SIGINT: nothing was committed"), stderr);
    assert(!stderr.includes("    at "), stderr);
    assertEquals(await commits(table), []);
    assertEquals(await parquetFiles(), []);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

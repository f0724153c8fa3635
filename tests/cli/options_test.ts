/**
 * Flags are honoured or refused, never silently ignored or misread: numbers
 * in decimal digits only, a schema, partitioning or property given for an
 * existing table must be the table's, protocol versions are not properties,
 * a timestamp is not compared with a bare number, and a CSV delimiter is one
 * character. Each refusal names the flag and the value.
 */

import { resolveConfig } from "../../src/roles/config.ts";
import { assert, assertEquals, assertThrows } from "../_helpers/assert.ts";
import { cli, commits } from "../_helpers/cli.ts";

const SCHEMA = (type: string) =>
  JSON.stringify({
    type: "struct",
    fields: [
      { name: "ts", type: "timestamp", nullable: true, metadata: {} },
      { name: "v", type, nullable: true, metadata: {} },
    ],
  });

const ONE_ROW = '{"ts":"2026-01-01T00:00:00Z","v":1}\n';

/** Runs `fn` in a new temporary folder that holds rows.ndjson (`rows`), and removes it. */
async function withRows(fn: (dir: string) => Promise<void>, rows = ONE_ROW): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "nl-options-" });
  try {
    await Deno.writeTextFile(`${dir}/rows.ndjson`, rows);
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/** `neuralake write <table> --input <dir>/rows.ndjson <flags>`. */
function writeRows(dir: string, table: string, ...flags: string[]) {
  return cli(["write", table, "--input", `${dir}/rows.ndjson`, ...flags]);
}

Deno.test("whole-number flags take decimal digits only and name the flag", async () => {
  await withRows(async (dir) => {
    const table = `${dir}/t`;
    assertEquals((await writeRows(dir, table)).code, 0);
    const bad: string[][] = [
      ["scan", table, "--version", "0x5"],
      ["scan", table, "--version", "1e3"],
      ["scan", table, "--version", ""],
      ["scan", table, "--version", " 0"],
      ["scan", table, "--limit", "0b1"],
      ["describe", table, "--version", "1e0"],
      ["history", table, "--limit", "0x5"],
      ["optimize", table, "--min-files", "2e0"],
      ["write", table, "--input", `${dir}/rows.ndjson`, "--app-id", "a", "--app-version", "0x1"],
    ];
    for (const args of bad) {
      const r = await cli(args);
      const flag = args[args.length - 2]!;
      const value = args[args.length - 1]!;
      assertEquals(r.code, 2, `${args.join(" ")}: ${r.stderr}`);
      assert(
        r.stderr.includes(flag) && r.stderr.includes(`"${value}"`),
        `${args.join(" ")}: ${r.stderr}`,
      );
    }
    const ok = await cli(["scan", table, "--version", "0", "--limit", "1_000", "--format", "csv"]);
    assertEquals(ok.code, 0, ok.stderr);
    assertEquals(ok.stdout.trim().split("\n").length, 2);
    assertEquals(await commits(table), ["00000000000000000000.json"]);
  });
});

Deno.test("vacuum refuses a zero --every or --duration, which would spin or never stop", async () => {
  for (const flag of ["--every", "--duration"]) {
    const r = await cli(["vacuum", "/nonexistent/t", flag, "0s"]);
    assertEquals(r.code, 2, r.stderr);
    assert(r.stderr.includes(flag) && r.stderr.includes('"0s"'), r.stderr);
  }
});

Deno.test("config numbers take decimal digits only", () => {
  for (const value of ["0x5", "1e3", "", "0b11"]) {
    assertThrows(() => resolveConfig({ env: {}, flags: [["writers", value]] }), "writers");
  }
  assertThrows(() => resolveConfig({ env: {}, flags: [["rate", "1e6"]] }), "rate");
  assertEquals(resolveConfig({ env: {}, flags: [["writers", "1_0"]] }).writers, 10);
  assertEquals(resolveConfig({ env: {}, flags: [["rate", "1_000"]] }).rate, 1000);
});

Deno.test("write refuses a --schema, --partition-by or --property that an existing table lacks", async () => {
  await withRows(async (dir) => {
    const table = `${dir}/t`;
    await Deno.writeTextFile(`${dir}/long.json`, SCHEMA("long"));
    await Deno.writeTextFile(`${dir}/string.json`, SCHEMA("string"));
    const definition = ["--schema", `${dir}/long.json`, "--property", "owner=lab3"];
    const first = await writeRows(dir, table, ...definition);
    assertEquals(first.code, 0, first.stderr);
    const refused: [string[], string][] = [
      [["--schema", `${dir}/string.json`], `--schema ${dir}/string.json`],
      [["--schema", `${dir}/string.json`, "--mode", "overwrite"], `--schema ${dir}/string.json`],
      [["--partition-by", "v"], "--partition-by v"],
      [["--property", "owner=lab4"], "owner"],
      [["--property", "delta.appendOnly=true"], "delta.appendOnly"],
    ];
    for (const [flags, named] of refused) {
      const r = await writeRows(dir, table, ...flags);
      assertEquals(r.code, 1, `${flags.join(" ")}: ${r.stderr}`);
      assert(r.stderr.includes(named), `${flags.join(" ")}: ${r.stderr}`);
      assert(r.stderr.includes("Nothing was committed"), r.stderr);
      assertEquals(await commits(table), ["00000000000000000000.json"], flags.join(" "));
    }
    const string = await writeRows(dir, table, "--schema", `${dir}/string.json`);
    assert(string.stderr.includes("column 2 is v long in the table, v string"), string.stderr);
    // The table's own definition is honoured: it matches.
    const same = await writeRows(dir, table, ...definition);
    assertEquals(same.code, 0, same.stderr);
    assertEquals((await commits(table)).length, 2);
  });
});

Deno.test("protocol versions, table features and unknown delta. keys are not stored as properties", async () => {
  await withRows(async (dir) => {
    await Deno.writeTextFile(`${dir}/long.json`, SCHEMA("long"));
    for (
      const property of [
        "delta.minReaderVersion=3",
        "delta.minWriterVersion=7",
        "delta.feature.deletionVectors=supported",
        "delta.dataSkippingNumIndexedCols=2",
        "delta.enableDeletionVectors=true",
      ]
    ) {
      const key = property.split("=")[0]!;
      const created = await cli([
        "create",
        `${dir}/c`,
        "--schema",
        `${dir}/long.json`,
        "--property",
        property,
      ]);
      assertEquals(created.code, 1, created.stderr);
      assert(created.stderr.includes(key), created.stderr);
      const written = await writeRows(dir, `${dir}/w`, "--property", property);
      assertEquals(written.code, 1, written.stderr);
      assert(written.stderr.includes(key), written.stderr);
      assertEquals(await commits(`${dir}/c`), []);
      assertEquals(await commits(`${dir}/w`), []);
    }
    const fine = await cli([
      "create",
      `${dir}/c`,
      "--schema",
      `${dir}/long.json`,
      "--property",
      "delta.appendOnly=true",
      "--property",
      "lab.owner=ada",
      "--json",
    ]);
    assertEquals(fine.code, 0, fine.stderr);
  });
});

Deno.test("--where refuses a bare number against a timestamp column", async () => {
  const rows = '{"ts":"2025-06-01T00:00:00Z","v":1}\n{"ts":"2026-06-01T00:00:00Z","v":2}\n';
  await withRows(async (dir) => {
    const table = `${dir}/t`;
    assertEquals((await writeRows(dir, table)).code, 0);
    const bare = await cli(["scan", table, "--where", "ts >= 2026", "--format", "ndjson"]);
    assertEquals(bare.code, 2, bare.stdout);
    assert(bare.stderr.includes('--where "ts >= 2026"'), bare.stderr);
    assert(bare.stderr.includes("ISO-8601"), bare.stderr);
    const typed = await cli(["scan", table, "--where", "v = timestamp '2026-01-01'"]);
    assertEquals(typed.code, 2, typed.stdout);
    const quoted = await cli([
      "scan",
      table,
      "--where",
      "ts >= '2026-01-01'",
      "--format",
      "ndjson",
    ]);
    assertEquals(quoted.code, 0, quoted.stderr);
    assertEquals(quoted.stdout.trim().split("\n").map((l) => JSON.parse(l).v), [2]);
  }, rows);
});

Deno.test("--delimiter is one character, or tab", async () => {
  const dir = await Deno.makeTempDir({ prefix: "nl-options-" });
  try {
    await Deno.writeTextFile(`${dir}/rows.csv`, "a,b\n1,2\n");
    await Deno.writeTextFile(`${dir}/rows.tsv`, "a\tb\n1\t2\n");
    for (const delimiter of [",,", "", '"', "ab"]) {
      const r = await cli([
        "write",
        `${dir}/t`,
        "--input",
        `${dir}/rows.csv`,
        "--delimiter",
        delimiter,
      ]);
      assertEquals(r.code, 2, r.stderr);
      assert(
        r.stderr.includes(`--delimiter`) && r.stderr.includes(JSON.stringify(delimiter)),
        r.stderr,
      );
    }
    assertEquals(await commits(`${dir}/t`), []);
    const tab = await cli([
      "write",
      `${dir}/t`,
      "--input",
      `${dir}/rows.tsv`,
      "--delimiter",
      "tab",
    ]);
    assertEquals(tab.code, 0, tab.stderr);
    const scan = await cli(["scan", `${dir}/t`, "--format", "ndjson"]);
    assertEquals(JSON.parse(scan.stdout), { a: 1, b: 2 });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("writer and compactor refuse by name the flags that set nothing they do, and do not list them", async () => {
  for (
    const [argv, flag] of [
      [["writer", "/nonexistent/t", "--writers", "5"], "--writers"],
      [["writer", "/nonexistent/t", "--isolation", "process"], "--isolation"],
      [["writer", "/nonexistent/t", "--min-files", "4"], "--min-files"],
      [["compactor", "/nonexistent/t", "--session", "s1"], "--session"],
      [["compactor", "/nonexistent/t", "--batch-rows", "10"], "--batch-rows"],
      [["compactor", "/nonexistent/t", "--no-vacuum"], "--no-vacuum"],
    ] as const
  ) {
    const r = await cli([...argv]);
    assertEquals(r.code, 2, `${argv.join(" ")}: ${r.stderr}`);
    assert(r.stderr.includes(`${flag} does not apply to the ${argv[0]} command`), r.stderr);
    const help = await cli([argv[0], "--help"]);
    assert(!new RegExp(`^\\s+${flag}\\b`, "m").test(help.stdout), `${argv[0]} --help: ${flag}`);
  }
  const writerHelp = (await cli(["writer", "--help"])).stdout;
  for (const flag of ["--session", "--batch-rows", "--rate", "--seed", "--metrics-addr"]) {
    assert(new RegExp(`^\\s+${flag}\\b`, "m").test(writerHelp), `writer --help lacks ${flag}`);
  }
});

Deno.test("a bad value of a stream setting's flag is a usage error naming the flag as typed", async () => {
  for (
    const [argv, expected] of [
      [
        ["stream", "--duration", "5x"],
        '--duration must be a duration such as 200ms, 30s or 7d, got "5x"',
      ],
      [
        ["writer", "/nonexistent/t", "--batch-rows", "abc"],
        '--batch-rows must be a whole number >= 1, got "abc"',
      ],
      [["stream", "--profile", "bogus"], '--profile must be one of local, production, got "bogus"'],
      [["config", "show", "--writers", "-3"], "--writers must be"],
      [
        ["scan", "/nonexistent/t", "--limit", "-1"],
        '--limit must be a whole number in decimal digits, such as 5 or 1_000, got "-1"',
      ],
    ] as const
  ) {
    const r = await cli([...argv]);
    assertEquals(r.code, 2, `${argv.join(" ")}: ${r.stderr}`);
    assert(r.stderr.includes(expected), `${argv.join(" ")}: ${r.stderr}`);
  }
});

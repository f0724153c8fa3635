/**
 * The table command line as users call it: help on every command, exit
 * codes (0 success, 1 failure, 2 usage), `--json` on every command, bad input
 * named by file, line and column with nothing committed, and scan output in
 * every format with the NDJSON value conventions.
 */

import { assert, assertEquals } from "../_helpers/assert.ts";
import { cli } from "../_helpers/cli.ts";
import { pythonPath } from "../_helpers/pyarrow.ts";

const COMMANDS = [
  "stream",
  "writer",
  "compactor",
  "ingest",
  "config",
  "create",
  "write",
  "scan",
  "history",
  "describe",
  "checkpoint",
  "verify",
  "vacuum",
  "health",
];

Deno.test("every command prints its help and exits 0", async () => {
  for (const command of COMMANDS) {
    const r = await cli([command, "--help"]);
    assertEquals(r.code, 0, `${command} --help`);
    assert(
      r.stdout.includes(`Usage: neuralake ${command}`) ||
        r.stdout.includes("Usage: neuralake vacuum"),
      r.stdout,
    );
    assert(
      r.stdout.includes("--json") && r.stdout.includes("--log-level"),
      `${command} help lacks global flags`,
    );
  }
  const top = await cli(["--help"]);
  assertEquals(top.code, 0);
  for (const command of COMMANDS) {
    assert(top.stdout.includes(`  ${command}`), `top-level help lacks ${command}`);
  }
});

Deno.test("usage errors exit 2 and point at the help", async () => {
  const unknown = await cli(["frobnicate"]);
  assertEquals(unknown.code, 2);
  assert(unknown.stderr.includes('Unknown command "frobnicate"'), unknown.stderr);
  const badFlag = await cli(["scan", "/tmp/x", "--colums", "a"]);
  assertEquals(badFlag.code, 2);
  assert(
    badFlag.stderr.includes("--colums") && badFlag.stderr.includes("neuralake scan --help"),
    badFlag.stderr,
  );
  const missing = await cli(["write", "/tmp/x"]);
  assertEquals(missing.code, 2);
  assert(missing.stderr.includes("Missing --input"), missing.stderr);
  const json = await cli(["scan", "--json"]);
  assertEquals(json.code, 2);
  assertEquals(JSON.parse(json.stdout).error.usage, true);
});

Deno.test("a missing table is a clear failure with exit 1", async () => {
  const dir = await Deno.makeTempDir();
  for (const command of ["scan", "describe", "history", "verify", "checkpoint"]) {
    const r = await cli([command, `${dir}/nothing`, "--json"]);
    assertEquals(r.code, 1, command);
    assert(r.stderr.includes("No Delta table at"), `${command}: ${r.stderr}`);
    assert(JSON.parse(r.stdout).error.message.includes("No Delta table"), r.stdout);
  }
});

async function writeCsv(dir: string, name: string, text: string): Promise<string> {
  const path = `${dir}/${name}`;
  await Deno.writeTextFile(path, text);
  return path;
}

Deno.test("write, scan, describe, history, checkpoint and verify work together with --json", async () => {
  const dir = await Deno.makeTempDir();
  const table = `${dir}/t`;
  const csv = await writeCsv(
    dir,
    "data.csv",
    "timestamp_us,region,neuron_id,voltage_uv,note\n" +
      "2026-01-01T00:00:00.000001Z,M1,1,0.5,a\n" +
      "2026-01-01T00:00:00.000002Z,S1,2,-1.25,\n" +
      "2026-01-01T00:00:01Z,M1,3,3e2,c\n",
  );
  const write = await cli(["write", table, "--input", csv, "--partition-by", "region", "--json"]);
  assertEquals(write.code, 0, write.stderr);
  const w = JSON.parse(write.stdout);
  assertEquals([w.version, w.rows, w.created, w.partitions], [0, 3, true, 2]);

  const scan = await cli([
    "scan",
    table,
    "--where",
    "timestamp_us >= '2026-01-01T00:00:00.000002Z' and region = 'M1'",
    "--json",
  ]);
  assertEquals(scan.code, 0, scan.stderr);
  const s = JSON.parse(scan.stdout);
  assertEquals(s.rows, [{
    timestamp_us: "2026-01-01T00:00:01.000000Z",
    region: "M1",
    neuron_id: 3,
    voltage_uv: 300,
    note: "c",
  }]);
  assertEquals(s.stats.files_total, 2);
  assertEquals(s.stats.files_skipped, 1, "the S1 partition is pruned");

  const describe = JSON.parse((await cli(["describe", table, "--json"])).stdout);
  assertEquals([describe.version, describe.files, describe.rows, describe.partition_columns], [
    0,
    2,
    3,
    ["region"],
  ]);
  assertEquals(describe.protocol, { minReaderVersion: 1, minWriterVersion: 2 });
  const history = JSON.parse((await cli(["history", table, "--json"])).stdout);
  assertEquals(history.commits[0].operation, "CREATE TABLE AS SELECT");
  const checkpoint = JSON.parse((await cli(["checkpoint", table, "--json"])).stdout);
  assertEquals(checkpoint.version, 0);
  const verify = await cli(["verify", table, "--json"]);
  assertEquals(verify.code, 0);
  assert(JSON.parse(verify.stdout).passed);
});

Deno.test("a bad record names file, line and column, and nothing is committed", async () => {
  const dir = await Deno.makeTempDir();
  const table = `${dir}/t`;
  const good = await writeCsv(dir, "good.csv", "n,label\n1,a\n2,b\n");
  assertEquals((await cli(["write", table, "--input", good])).code, 0);
  // Many good rows (so files may be uploaded) then one bad value.
  const rows = Array.from({ length: 5000 }, (_, i) => `${i},x`).join("\n");
  const bad = await writeCsv(dir, "bad.csv", `n,label\n${rows}\n12x,y\n`);
  const r = await cli(["write", table, "--input", bad, "--json"]);
  assertEquals(r.code, 1);
  assert(r.stderr.includes("bad.csv:5002") && r.stderr.includes('"n"'), r.stderr);
  const error = JSON.parse(r.stdout).error;
  assertEquals([error.line, error.column], [5002, "n"]);
  const d = JSON.parse((await cli(["describe", table, "--json"])).stdout);
  assertEquals([d.version, d.rows], [0, 2], "the failed write committed nothing");

  const unknown = await writeCsv(dir, "unknown.csv", "n,label,extra\n3,c,z\n");
  const u = await cli(["write", table, "--input", unknown]);
  assertEquals(u.code, 1);
  assert(u.stderr.includes('"extra"') && u.stderr.includes("unknown.csv"), u.stderr);

  const ndjson = await writeCsv(dir, "bad.ndjson", '{"n":1,"label":"a"}\n{"n":2,"label":\n');
  const j = await cli(["write", table, "--input", ndjson]);
  assertEquals(j.code, 1);
  assert(j.stderr.includes("bad.ndjson:2"), j.stderr);
  assertEquals(JSON.parse((await cli(["describe", table, "--json"])).stdout).version, 0);
});

Deno.test("write reads stdin and scan writes csv, ndjson and parquet", async () => {
  const dir = await Deno.makeTempDir();
  const table = `${dir}/t`;
  const input = [
    '{"id":9007199254740993,"when":"2026-03-04T05:06:07.123456Z","day":"2026-03-04","ok":true,"price":"12.50","v":1.5}',
    '{"id":1,"when":null,"day":null,"ok":false,"price":null,"v":null}',
  ].join("\n");
  const schema = `${dir}/schema.json`;
  await Deno.writeTextFile(
    schema,
    JSON.stringify({
      type: "struct",
      fields: [
        { name: "id", type: "long", nullable: false, metadata: {} },
        { name: "when", type: "timestamp", nullable: true, metadata: {} },
        { name: "day", type: "date", nullable: true, metadata: {} },
        { name: "ok", type: "boolean", nullable: true, metadata: {} },
        { name: "price", type: "decimal(10,2)", nullable: true, metadata: {} },
        { name: "v", type: "double", nullable: true, metadata: {} },
      ],
    }),
  );
  const w = await cli(["write", table, "--input", "-", "--format", "ndjson", "--schema", schema], {
    stdin: input,
  });
  assertEquals(w.code, 0, w.stderr);
  const nd = await cli(["scan", table, "--format", "ndjson", "--where", "id > 1"]);
  assertEquals(
    nd.stdout.trim(),
    '{"id":"9007199254740993","when":"2026-03-04T05:06:07.123456Z","day":"2026-03-04","ok":true,"price":"12.50","v":1.5}',
  );
  const csv = await cli([
    "scan",
    table,
    "--format",
    "csv",
    "--columns",
    "price,id",
    "--where",
    "id = 1 or id > 5",
  ]);
  assertEquals(csv.stdout, "price,id\n12.50,9007199254740993\n,1\n");
  const out = `${dir}/out.parquet`;
  const pq = await cli(["scan", table, "--format", "parquet", "--output", out]);
  assertEquals(pq.code, 0, pq.stderr);
  const check = await new Deno.Command(await pythonPath(), {
    args: [
      "-c",
      `import pyarrow.parquet as pq; t = pq.read_table("${out}"); print(t.num_rows, t.schema.field("price").type)`,
    ],
    stdout: "piped",
  }).output();
  assertEquals(new TextDecoder().decode(check.stdout).trim(), "2 decimal128(10, 2)");
});

Deno.test("--version prints the version", async () => {
  const r = await cli(["--version"]);
  assertEquals(r.code, 0);
  const config = JSON.parse(await Deno.readTextFile(new URL("../../deno.json", import.meta.url)));
  assertEquals(r.stdout.trim(), `neuralake ${config.version}`);
});

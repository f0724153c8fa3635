/**
 * What a newcomer reads is in human terms: durations in human units, an
 * unknown flag answered with the closest real one, a cut list that says it
 * is cut.
 */

import { cellJson, cellText } from "../../src/cli/cells.ts";
import { toJson } from "../../src/cli/output.ts";
import { verifyTable } from "../../src/ops/verify.ts";
import { openTable } from "../../src/ops/table.ts";
import { closestName, parseCommandArgs, UsageError } from "../../src/cli/args.ts";
import { configValues, resolveConfig } from "../../src/roles/config.ts";
import { KEYS } from "../../src/roles/config_keys.ts";
import { CONFIG_FLAGS, CONFIG_HELP } from "../../src/cli/stream_config.ts";
import { vacuumRetention } from "../../src/ops/vacuum.ts";
import { formatDuration } from "../../src/util/units.ts";
import { assert, assertEquals, assertThrows } from "../_helpers/assert.ts";
import { cli, commits, NEURALAKE_RUN } from "../_helpers/cli.ts";

Deno.test("durations print in human units, whole ones in words", () => {
  assertEquals(formatDuration(850), "850 ms");
  assertEquals(formatDuration(12_300), "12.3 s");
  assertEquals(formatDuration(15_000), "15 s");
  assertEquals(formatDuration(60_000), "1 min");
  assertEquals(formatDuration(600_000), "10 min");
  assertEquals(formatDuration(245_000), "4m 05s");
  assertEquals(formatDuration(3_600_000), "1 hour");
  assertEquals(formatDuration(7_500_000), "2h 05m");
  assertEquals(formatDuration(604_800_000), "7 days");
  assertEquals(formatDuration(86_400_000), "1 day");
  assertEquals(formatDuration(97_200_000), "1d 03h");
});

Deno.test("a refused vacuum retention is said in human units, not milliseconds", () => {
  const error = assertThrows(
    () => vacuumRetention({}, { retentionMs: 60_000 }),
  );
  assert(error instanceof RangeError);
  assert(error.message.includes("retention of 1 min"), error.message);
  assert(error.message.includes("the table's 7 days"), error.message);
  assert(!/\d ms\b/.test(error.message), error.message);
});

Deno.test("an unknown option names the closest real one", () => {
  const options = { limit: { type: "string" }, where: { type: "string" } } as const;
  const error = assertThrows(
    () => parseCommandArgs("scan", ["t", "--limt", "5"], options),
  );
  assert(error instanceof UsageError);
  assertEquals(error.message, "Unknown option --limt; did you mean --limit?");
  assertEquals(error.command, "scan");
  const far = assertThrows(
    () => parseCommandArgs("scan", ["t", "--zzzzzzzz"], options),
  );
  assertEquals(far.message, "Unknown option --zzzzzzzz");
  assertEquals(closestName("dryrun", ["dry-run", "json"]), "dry-run");
});

Deno.test("every command answers a misspelt flag with a suggestion and exit status 2", async () => {
  for (
    const [argv, hint] of [
      [["scan", "t", "--limt", "5"], "--limit"],
      [["vacuum", "t", "--dryrun"], "--dry-run"],
      [["history", "t", "--lmit", "2"], "--limit"],
      [["stream", "--durration", "1s"], "--duration"],
    ] as const
  ) {
    const r = await cli([...argv]);
    assertEquals(r.code, 2, r.stderr);
    assert(r.stderr.includes(`did you mean ${hint}?`), r.stderr);
    assert(!r.stderr.includes("place it at the end"), r.stderr);
  }
});

Deno.test("vacuum --dry-run says when its list of files is cut", async () => {
  const dir = await Deno.makeTempDir({ prefix: "nl-frictions-" });
  try {
    const table = `${dir}/t`;
    await Deno.writeTextFile(`${dir}/rows.ndjson`, '{"v":1}\n');
    assertEquals((await cli(["write", table, "--input", `${dir}/rows.ndjson`])).code, 0);
    // 53 orphan files, old enough for any retention floor.
    const old = new Date(Date.now() - 30 * 86_400_000);
    for (let i = 0; i < 53; i++) {
      const path = `${table}/orphan-${String(i).padStart(2, "0")}.parquet`;
      await Deno.writeFile(path, new Uint8Array([1]));
      await Deno.utime(path, old, old);
    }
    const r = await cli(["vacuum", table, "--dry-run"]);
    assertEquals(r.code, 0, r.stderr);
    assert(r.stdout.includes("would delete"), r.stdout);
    const listed = r.stdout.split("\n").filter((l) => l.includes("orphan-"));
    assertEquals(listed.length, 50, r.stdout);
    assert(r.stdout.includes("… and 3 more (use --json for all)"), r.stdout);
    assert(/retention:\s+7 days\n/.test(r.stdout), r.stdout);
    const json = await cli(["vacuum", table, "--dry-run", "--json"]);
    assertEquals(JSON.parse(json.stdout).would_delete.length, 53);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("float32 values print with float32 precision", () => {
  const x = Math.fround(-0.0172289);
  assertEquals(String(x), "-0.017228899523615837");
  assertEquals(cellText(x, "float"), "-0.0172289");
  assertEquals(cellJson(x, "float"), -0.0172289);
  assertEquals(cellText(Math.fround(0.1), "float"), "0.1");
  assertEquals(cellText(Math.fround(16777217), "float"), "16777216");
  // Every printed value reads back as the same float32.
  for (const v of [1e-45, 3.4028234663852886e38, 1 / 3, -2.5, 123456.789]) {
    const f = Math.fround(v);
    assertEquals(Math.fround(Number(cellText(f, "float"))), f);
  }
  // Doubles keep double precision.
  assertEquals(cellText(0.1 + 0.2, "double"), "0.30000000000000004");
});

Deno.test("stream --help lists --out", async () => {
  const r = await cli(["stream", "--help"]);
  assertEquals(r.code, 0);
  assert(/--out <dir>/.test(r.stdout), r.stdout);
});

Deno.test("streaming_results.json keeps each setting in the unit its key names", () => {
  const values = configValues(resolveConfig({ profile: "local", env: {} }));
  assertEquals(values.durationMs, 30_000);
  assertEquals(values.batchIntervalMs, 200);
  assertEquals(typeof values["vacuum.retentionMs"], "number");
  assertEquals(typeof values["compaction.intervalMs"], "number");
  for (const [key, value] of Object.entries(values)) {
    if (key.endsWith("Ms")) assertEquals(typeof value, "number", key);
  }
  assertEquals(values.rate, "max");
});

Deno.test("every configuration flag is in the help and maps onto a configuration key", () => {
  for (const flag of Object.keys(CONFIG_FLAGS)) {
    assert(new RegExp(`--${flag}\\b`).test(CONFIG_HELP), `--${flag} is missing from the help`);
  }
  const keyFlags = KEYS.flatMap((k) => k.flag ? [k.flag.name] : []);
  assertEquals(new Set(keyFlags).size, keyFlags.length, "two keys share a flag");
  assertEquals(
    Object.keys(CONFIG_FLAGS).filter((flag) => !keyFlags.includes(flag)),
    ["config", "metrics-addr"],
    "a configuration flag that sets no key",
  );
});

Deno.test("a --metrics-addr already in use is an error naming the flag and the address, before any work", async () => {
  const dir = await Deno.makeTempDir({ prefix: "nl-frictions-" });
  const busy = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  try {
    const address = `127.0.0.1:${(busy.addr as Deno.NetAddr).port}`;
    for (
      const argv of [
        ["writer", `${dir}/t`, "--duration", "1s"],
        ["compactor", `${dir}/t`, "--duration", "1s"],
        ["vacuum", `${dir}/t`, "--every", "1s", "--duration", "1s"],
        ["stream", `${dir}/t`, "--duration", "1s", "--out", `${dir}/runs`],
      ]
    ) {
      const r = await cli([...argv, "--metrics-addr", address]);
      assertEquals(r.code, 1, `${argv[0]}: ${r.stderr}`);
      assert(
        r.stderr.includes(`Cannot serve /metrics on ${address} (--metrics-addr)`) &&
          r.stderr.includes("already in use"),
        `${argv[0]}: ${r.stderr}`,
      );
      assert(!r.stderr.includes("    at "), r.stderr);
    }
    assertEquals(await commits(`${dir}/t`), []);
  } finally {
    busy.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("counts in human output have thousands separators", async () => {
  const dir = await Deno.makeTempDir({ prefix: "nl-frictions-" });
  try {
    const table = `${dir}/t`;
    let rows = "";
    for (let i = 0; i < 1234; i++) rows += `{"v":${i}}\n`;
    await Deno.writeTextFile(`${dir}/rows.ndjson`, rows);
    const written = await cli(["write", table, "--input", `${dir}/rows.ndjson`]);
    assertEquals(written.code, 0, written.stderr);
    assert(/rows:\s+1,234\n/.test(written.stdout), written.stdout);
    const described = await cli(["describe", table]);
    assert(/rows:\s+1,234\n/.test(described.stdout), described.stdout);
    const scanned = await cli(["scan", table, "--format", "csv"]);
    assert(scanned.stderr.includes("1,234 rows from version 0"), scanned.stderr);
    const verified = await cli(["verify", table]);
    assert(verified.stdout.includes("1,234 live rows"), verified.stdout);
    const checkpointed = await cli(["checkpoint", table]);
    assert(/bytes:\s+\d{1,3}(,\d{3})+ \(\d/.test(checkpointed.stdout), checkpointed.stdout);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("JSON output gives milliseconds to the microsecond and the table as a URI", async () => {
  assertEquals(
    toJson({ latencyMs: 18.63508200000001, total_ms: 0.1 + 0.2, count: 0.1 + 0.2, ms: 7 }, 0),
    '{"latencyMs":18.635,"total_ms":0.3,"count":0.30000000000000004,"ms":7}',
  );
  const dir = await Deno.makeTempDir({ prefix: "nl-frictions-" });
  try {
    await Deno.writeTextFile(`${dir}/rows.ndjson`, '{"v":1}\n');
    assertEquals((await cli(["write", `${dir}/t`, "--input", `${dir}/rows.ndjson`])).code, 0);
    const history = JSON.parse((await cli(["history", `${dir}/t`, "--json"])).stdout);
    assert(history.table.startsWith("file:///"), history.table);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("scan piped into a reader that stops early (| head) exits 0 without a message", async () => {
  const dir = await Deno.makeTempDir({ prefix: "nl-frictions-" });
  try {
    let rows = "";
    for (let i = 0; i < 50_000; i++) rows += `{"v":${i},"s":"row number ${i}"}\n`;
    await Deno.writeTextFile(`${dir}/rows.ndjson`, rows);
    assertEquals((await cli(["write", `${dir}/t`, "--input", `${dir}/rows.ndjson`])).code, 0);
    const child = new Deno.Command(Deno.execPath(), {
      args: [...NEURALAKE_RUN, "scan", `${dir}/t`, "--format", "ndjson"],
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const reader = child.stdout.getReader();
    const first = await reader.read();
    assert(!first.done);
    await reader.cancel();
    const stderr = new Response(child.stderr).text();
    const status = await child.status;
    assertEquals(status.code, 0, await stderr);
    assert(!(await stderr).includes("Broken pipe"), await stderr);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a table given as a file's path is an error that says to check the table path", async () => {
  const dir = await Deno.makeTempDir({ prefix: "nl-frictions-" });
  try {
    await Deno.writeTextFile(`${dir}/data.csv`, "a\n1\n");
    for (const argv of [["scan", `${dir}/data.csv`], ["history", `${dir}/data.csv`]]) {
      const r = await cli(argv);
      assertEquals(r.code, 1, r.stderr);
      assert(r.stderr.includes("a table is a directory, so check the table path"), r.stderr);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("verify reports its progress over the data files it reads", async () => {
  const dir = await Deno.makeTempDir({ prefix: "nl-frictions-" });
  try {
    await Deno.writeTextFile(`${dir}/rows.ndjson`, '{"v":1}\n');
    for (let i = 0; i < 3; i++) {
      assertEquals((await cli(["write", `${dir}/t`, "--input", `${dir}/rows.ndjson`])).code, 0);
    }
    const calls: [number, number][] = [];
    const report = await verifyTable(await openTable(`${dir}/t`), {
      onFile: (done, total) => calls.push([done, total]),
    });
    assert(report.passed);
    assertEquals(calls, [[1, 3], [2, 3], [3, 3]]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a directory given as a file is an error naming the flag or the path", async () => {
  const dir = await Deno.makeTempDir({ prefix: "nl-frictions-" });
  try {
    await Deno.writeTextFile(`${dir}/rows.ndjson`, '{"v":1}\n');
    assertEquals((await cli(["write", `${dir}/t`, "--input", `${dir}/rows.ndjson`])).code, 0);
    await Deno.mkdir(`${dir}/sub`);
    const input = await cli(["write", `${dir}/t`, "--input", `${dir}/sub`, "--format", "csv"]);
    assertEquals(input.code, 1, input.stderr);
    assert(input.stderr.includes(`Cannot open ${dir}/sub: it is a directory`), input.stderr);
    const output = await cli(["scan", `${dir}/t`, "--output", `${dir}/sub`, "--format", "csv"]);
    assertEquals(output.code, 1, output.stderr);
    assert(output.stderr.includes(`Cannot write --output ${dir}/sub:`), output.stderr);
    assertEquals(await commits(`${dir}/t`), ["00000000000000000000.json"]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

/**
 * `history` and `verify` as of a version (`--version N`) or a time
 * (`--timestamp T`), as `scan` and `describe` take them: the commits up to
 * that version, the table checked as a reader of that version finds it, and
 * errors that name the flag and its value for a version the log cannot give,
 * a time before the first commit, or both flags; nothing is written.
 */

import type { Field } from "../../src/columnar/batch.ts";
import { commitKey } from "../../src/delta/log_path.ts";
import { checkpointTable } from "../../src/ops/checkpoint.ts";
import { openTable, snapshotOf } from "../../src/ops/table.ts";
import { writeTable } from "../../src/ops/write.ts";
import { assert, assertEquals } from "../_helpers/assert.ts";
import { batchOf, sourceOf } from "../_helpers/batches.ts";
import { cli } from "../_helpers/cli.ts";

const FIELDS: Field[] = [{ name: "n", type: "long", nullable: true }];
const HOUR = 3_600_000;
const T0 = Date.UTC(2026, 0, 1, 12);

/** Every file under `dir` with its size and modification time, to show nothing was written. */
async function tree(dir: string, prefix = ""): Promise<string[]> {
  const out: string[] = [];
  for await (const e of Deno.readDir(`${dir}/${prefix}`)) {
    const path = `${prefix}${e.name}`;
    if (e.isDirectory) out.push(...await tree(dir, `${path}/`));
    else {
      const info = await Deno.stat(`${dir}/${path}`);
      out.push(`${path} ${info.size} ${info.mtime?.getTime()}`);
    }
  }
  return out.sort();
}

/**
 * Version 0 appends n=0, 1 appends n=1, 2 overwrites with n=2; commit v at
 * T0 + v hours. Version 0's file is then deleted, as vacuum deletes a file
 * no live version references: versions 0 and 1 can no longer be read whole.
 */
async function threeVersions(dir: string): Promise<{ table: string; gone: string }> {
  const uri = `${dir}/t`;
  const table = await openTable(uri);
  for (let v = 0; v < 3; v++) {
    await writeTable(table, sourceOf(batchOf(FIELDS, [{ n: BigInt(v) }])), {
      mode: v === 2 ? "overwrite" : "append",
    });
    const at = new Date(T0 + v * HOUR);
    await Deno.utime(`${uri}/${commitKey(v)}`, at, at);
  }
  const first = [...(await snapshotOf(table, { version: 0 })).files.keys()][0]!;
  await Deno.remove(`${uri}/${first}`);
  return { table: uri, gone: first };
}

Deno.test("history --version and --timestamp show the commits up to that version, newest first", async () => {
  const dir = await Deno.makeTempDir({ prefix: "nl-as-of-history-" });
  try {
    const { table } = await threeVersions(dir);
    const versions = async (...flags: string[]) => {
      const r = await cli(["history", table, ...flags, "--json"]);
      assertEquals(r.code, 0, r.stderr);
      return JSON.parse(r.stdout);
    };
    assertEquals((await versions()).commits.map((c: { version: number }) => c.version), [2, 1, 0]);
    const one = await versions("--version", "1");
    assertEquals([one.version, one.commits.map((c: { version: number }) => c.version)], [1, [
      1,
      0,
    ]]);
    const limited = await versions("--version", "1", "--limit", "1");
    assertEquals(limited.commits.map((c: { version: number }) => c.version), [1]);
    const at = await versions("--timestamp", "2026-01-01T13:30:00Z");
    assertEquals(
      [at.version, at.commit_timestamp, at.commit_timestamp_source],
      [1, T0 + HOUR, "fileModificationTime"],
    );
    assertEquals(at.commits.map((c: { version: number }) => c.version), [1, 0]);
    // A time after the latest commit is the latest version, as scan reads it.
    assertEquals((await versions("--timestamp", "2030-01-01")).version, 2);

    const text = await cli(["history", table, "--version", "0"]);
    assertEquals(text.code, 0, text.stderr);
    const rows = text.stdout.trim().split("\n").slice(1).filter((l) => /^\s*\d/.test(l));
    assertEquals(rows.map((l) => l.trim().split(/\s+/)[0]), ["0"], text.stdout);
    // Which version the flags chose, as verify and describe say it.
    assertEquals(text.stdout.split("\n")[0], `file://${table} up to version 0`);
    const atText = await cli(["history", table, "--timestamp", "2026-01-01T13:30:00Z"]);
    assertEquals(atText.code, 0, atText.stderr);
    assertEquals(
      atText.stdout.split("\n")[0],
      `file://${table} up to version 1, committed at 2026-01-01T13:00:00.000Z (commit file time)`,
    );
    // Without either flag, the table as before: its header first.
    const all = await cli(["history", table]);
    assert(all.stdout.startsWith("version"), all.stdout);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("verify --version and --timestamp check the table as a reader of that version finds it", async () => {
  const dir = await Deno.makeTempDir({ prefix: "nl-as-of-verify-" });
  try {
    const { table, gone } = await threeVersions(dir);
    const latest = await cli(["verify", table, "--json"]);
    assertEquals(latest.code, 0, latest.stdout);
    assertEquals(JSON.parse(latest.stdout).version, 2);

    // Version 0 references the file vacuum deleted.
    const old = await cli(["verify", table, "--version", "0", "--json"]);
    assertEquals(old.code, 1, old.stderr);
    const report = JSON.parse(old.stdout);
    assertEquals([report.version, report.files, report.passed], [0, 1, false]);
    const exist = report.checks.find((c: { name: string }) => c.name === "files_exist");
    assertEquals(exist.problems, [`missing: ${gone}`]);
    const log = report.checks.find((c: { name: string }) => c.name === "log_has_no_gaps");
    assertEquals(log.detail, "commits 0 to 0 are present");

    const at = await cli(["verify", table, "--timestamp", String(T0 + HOUR + 1), "--json"]);
    assertEquals(at.code, 1, at.stderr);
    const atReport = JSON.parse(at.stdout);
    assertEquals(
      [atReport.version, atReport.files, atReport.commit_timestamp],
      [1, 2, T0 + HOUR],
    );
    const now = await cli(["verify", table, "--timestamp", "2026-01-01T14:00:00Z"]);
    assertEquals(now.code, 0, now.stdout);
    assert(
      now.stdout.includes("at version 2, committed at 2026-01-01T14:00:00.000Z (commit file time)"),
      now.stdout,
    );
    const text = await cli(["verify", table, "--version", "1"]);
    assertEquals(text.code, 1);
    assert(text.stdout.includes(`missing: ${gone}`), text.stdout);
    assert(text.stdout.includes("verify: FAILED"), text.stdout);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("history and verify (and scan and describe) name the flag and value for a version or time the log cannot give, and write nothing", async () => {
  const dir = await Deno.makeTempDir({ prefix: "nl-as-of-errors-" });
  try {
    const { table } = await threeVersions(dir);
    // A checkpoint at version 2, and the commits before it cleaned up: 2 is the earliest.
    await checkpointTable(await openTable(table));
    await Deno.remove(`${table}/${commitKey(0)}`);
    await Deno.remove(`${table}/${commitKey(1)}`);
    const before = await tree(table);

    // As scan and describe name them.
    for (const command of ["history", "verify", "scan", "describe"]) {
      const early = await cli([command, table, "--version", "1"]);
      assertEquals(early.code, 1, early.stderr);
      assert(
        early.stderr.includes(
          `--version 1: Cannot reconstruct version 1 of file://${table}: the earliest version that can be is 2`,
        ),
        early.stderr,
      );
      const late = await cli([command, table, "--version", "7", "--json"]);
      assertEquals(late.code, 1, late.stderr);
      const error = JSON.parse(late.stdout).error;
      assertEquals(
        error.message,
        `--version 7: Version 7 of file://${table} does not exist: the latest version is 2`,
      );
      assertEquals(error.usage, false);
      const time = await cli([command, table, "--timestamp", "2026-01-01T12:30:00Z"]);
      assertEquals(time.code, 1, time.stderr);
      assert(
        time.stderr.includes(
          "--timestamp 2026-01-01T12:30:00Z: Cannot time travel table",
        ) &&
          time.stderr.includes(
            "before its earliest available version, 2, committed at 2026-01-01T14:00:00.000Z",
          ),
        time.stderr,
      );
    }
    for (const command of ["history", "verify"]) {
      const both = await cli([command, table, "--version", "2", "--timestamp", "2026-01-01"]);
      assertEquals(both.code, 2);
      assert(both.stderr.includes("--version and --timestamp cannot be used together"));
      const bad = await cli([command, table, "--timestamp", "noon"]);
      assertEquals(bad.code, 2);
      assert(bad.stderr.includes("--timestamp must be an ISO-8601 date"), bad.stderr);
      const help = await cli([command, "--help"]);
      assert(help.stdout.includes("--timestamp <time>"), help.stdout);
    }
    // The earliest version itself reads: its checkpoint, no commit before it.
    const history = JSON.parse((await cli(["history", table, "--version", "2", "--json"])).stdout);
    assertEquals(history.commits.map((c: { version: number }) => c.version), [2]);
    const verify = await cli(["verify", table, "--version", "2", "--json"]);
    assertEquals(verify.code, 0, verify.stdout);
    assertEquals(await tree(table), before, "the commands wrote nothing");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

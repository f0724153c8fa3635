/**
 * A stream's vacuum role deletes removed files only past the longer of the
 * run's retention and the table's `delta.deletedFileRetentionDuration`
 * (Delta's week where the table declares none), unless the run explicitly
 * allows a shorter one: a table made elsewhere keeps the files its other
 * readers may still time-travel to, while a table the run creates declares
 * the run's retention and is vacuumed as soon as before.
 */

import { assert, assertEquals } from "../_helpers/assert.ts";
import { addAction, removeAction, writeCommit } from "../_helpers/log.ts";
import { createTable } from "../../src/ops/create.ts";
import { serializeActions } from "../../src/delta/actions.ts";
import { commitKey } from "../../src/delta/log_path.ts";
import { openTable, schemaFromFields, snapshotOf } from "../../src/ops/table.ts";
import { chooseVacuumRetention } from "../../src/ops/vacuum.ts";
import { NEURAL_FIELDS } from "../../src/sources/neural.ts";
import { ChannelState } from "../../src/roles/run_role.ts";
import { resolveConfig } from "../../src/roles/config.ts";
import type { StreamConfig } from "../../src/roles/config_keys.ts";
import type { Report, RoleSpec } from "../../src/roles/messages.ts";
import { runVacuumer } from "../../src/roles/vacuumer.ts";
import {
  describeVacuumRetention,
  ensureStreamTable,
  vacuumRetentionOptions,
} from "../../src/roles/table_setup.ts";

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

/** The data files of the table, by how long ago the log removed them. */
const FILES = ["live", "minute", "hours", "days", "orphan"].map((f) => `${f}.parquet`);

/**
 * A neural table (made by the run's own `ensureStreamTable` when
 * `properties` is "run", else by another writer with `properties`) holding
 * a live file, files the log removed a minute, 3 hours and 8 days ago, and
 * an orphan written a minute ago, each of them written 10 days ago but the
 * orphan; then one pass of the vacuum role of a local-profile run (a 15 s
 * retention) with `vacuum` settings. Returns the files left.
 */
async function vacuumPass(
  properties: Record<string, string> | "run",
  vacuum: Partial<StreamConfig["vacuum"]> = {},
  /** Properties a later commit sets, after the role has started. */
  alter?: Record<string, string>,
): Promise<string[]> {
  const dir = await Deno.makeTempDir({ prefix: "neuralake-vacuumer-retention-" });
  try {
    const base = { ...resolveConfig({}), table: `${dir}/t` };
    const config = { ...base, vacuum: { ...base.vacuum, intervalMs: 1, ...vacuum } };
    // The run itself would delete removed files after seconds.
    assertEquals(config.vacuum.retentionMs < MINUTE, true);
    const table = await openTable(config.table);
    if (properties === "run") await ensureStreamTable(table, config);
    else await createTable(table, { schema: schemaFromFields(NEURAL_FIELDS), properties });
    const now = Date.now();
    await writeCommit(table.store, 1, FILES.slice(0, 4).map((f) => addAction(f)));
    await writeCommit(table.store, 2, [
      removeAction("minute.parquet", now - MINUTE),
      removeAction("hours.parquet", now - 3 * HOUR),
      removeAction("days.parquet", now - 8 * DAY),
    ]);
    for (const f of FILES) {
      await Deno.writeFile(`${dir}/t/${f}`, new Uint8Array(100));
      const at = new Date(f === "orphan.parquet" ? now - MINUTE : now - 10 * DAY);
      await Deno.utime(`${dir}/t/${f}`, at, at);
    }
    const spec: RoleSpec = {
      kind: "vacuum",
      id: "vacuum-0",
      config,
      sessionId: "s",
      runStartMs: now,
    };
    const state = new ChannelState();
    let passes = 0;
    // Another writer's commit of new properties, put (synchronously) once
    // the role has read the table and before its first pass.
    const alteration = alter && serializeActions([{
      metaData: (({ metadata }) => ({
        ...metadata,
        configuration: { ...metadata.configuration, ...alter },
      }))(await snapshotOf(table)),
    }]);
    const channel = state.channel((report: Report) => {
      if (report.type === "ready" && alteration) {
        Deno.writeTextFileSync(`${dir}/t/${commitKey(3)}`, alteration, { createNew: true });
      }
      if (report.type === "event" && report.event.event === "vacuum" && ++passes === 1) {
        state.requestStop();
      }
    }, () => {
      throw new Error("died");
    });
    await runVacuumer(spec, channel);
    assertEquals(passes, 1);
    const left: string[] = [];
    for await (const e of Deno.readDir(`${dir}/t`)) if (e.isFile) left.push(e.name);
    return left.sort();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("a stream's vacuum keeps files removed within a table's declared retention of 7 days", async () => {
  const left = await vacuumPass({ "delta.deletedFileRetentionDuration": "interval 7 days" });
  // Only the file removed 8 days ago is past the table's week.
  assertEquals(left, ["hours.parquet", "live.parquet", "minute.parquet", "orphan.parquet"]);
});

Deno.test("a stream's vacuum keeps files for Delta's week on a table that declares no deletedFileRetentionDuration", async () => {
  const left = await vacuumPass({});
  assertEquals(left, ["hours.parquet", "live.parquet", "minute.parquet", "orphan.parquet"]);
});

Deno.test("a stream's vacuum honours a table's retention of 2 hours, between the run's and Delta's week", async () => {
  const left = await vacuumPass({ "delta.deletedFileRetentionDuration": "interval 2 hours" });
  assertEquals(left, ["live.parquet", "minute.parquet", "orphan.parquet"]);
});

Deno.test("a stream's vacuum deletes past the run's retention on a table the run created", async () => {
  const left = await vacuumPass("run");
  assertEquals(left, ["live.parquet"]);
});

Deno.test("a stream's vacuum follows a retention the table declares after the run started", async () => {
  const left = await vacuumPass("run", {}, {
    "delta.deletedFileRetentionDuration": "interval 7 days",
  });
  assertEquals(left, ["hours.parquet", "live.parquet", "minute.parquet", "orphan.parquet"]);
});

Deno.test("a stream's vacuum uses a retention shorter than the table's only when the run allows it explicitly", async () => {
  const left = await vacuumPass({ "delta.deletedFileRetentionDuration": "interval 7 days" }, {
    allowShortRetention: true,
  });
  assertEquals(left, ["live.parquet"]);
});

Deno.test("the local profile does not allow a retention shorter than the table's", () => {
  assertEquals(resolveConfig({ env: {} }).vacuum.allowShortRetention, false);
});

Deno.test("describeVacuumRetention() says whose retention the vacuum role uses and why", () => {
  const config = resolveConfig({ env: {} });
  const why = (table: Record<string, string>, allow = false) => {
    const run = { ...config, vacuum: { ...config.vacuum, allowShortRetention: allow } };
    return describeVacuumRetention(
      run,
      chooseVacuumRetention(table, vacuumRetentionOptions(run)),
    );
  };
  const week = { "delta.deletedFileRetentionDuration": "interval 7 days" };
  assertEquals(
    why(week),
    "the table's delta.deletedFileRetentionDuration (7 days), longer than the run's 15 s",
  );
  assertEquals(
    why({}),
    "Delta's default of 7 days (the table declares no delta.deletedFileRetentionDuration), " +
      "longer than the run's 15 s",
  );
  assert(why(week, true).startsWith("the run's 15 s, shorter than the table's"), why(week, true));
  assertEquals(
    why({ "delta.deletedFileRetentionDuration": "interval 15 seconds" }),
    "the run's 15 s, at least the table's delta.deletedFileRetentionDuration (15 s)",
  );
});

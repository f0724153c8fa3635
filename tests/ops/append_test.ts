/**
 * The one append path (ops/append.ts) and the `write` command on top of it:
 * held files are committed within their budget and only while they exist,
 * nothing a failed append uploaded is left behind, and writers that create
 * the same new table at once all land their rows.
 */

import type { Field } from "../../src/columnar/batch.ts";
import {
  appendBatch,
  appendTarget,
  commitFiles,
  HeldFiles,
  rowIdMarkOf,
} from "../../src/ops/append.ts";
import { commitKey } from "../../src/delta/log_path.ts";
import { copyFixture } from "../_helpers/fixture_copy.ts";
import { encodeParquet } from "../../src/parquet/encode.ts";
import { createTable } from "../../src/ops/create.ts";
import {
  openTable,
  schemaFromFields,
  snapshotOf,
  type Table,
  tableOfStore,
} from "../../src/ops/table.ts";
import {
  LocalStore,
  syncDirectory,
  syncDirectorySync,
  synchronousFlushesForTesting,
  TEMP_MARKER,
} from "../../src/storage/local.ts";
import { interceptStore } from "../../src/storage/intercept.ts";
import { writeTable } from "../../src/ops/write.ts";
import { scanTable } from "../../src/ops/scan.ts";
import { vacuum } from "../../src/ops/vacuum.ts";
import { InputError } from "../../src/util/errors.ts";
import type { ObjectStore } from "../../src/storage/object_store.ts";
import { assert, assertEquals, assertRejects } from "../_helpers/assert.ts";
import { batchOf, sourceOf } from "../_helpers/batches.ts";
import { cli } from "../_helpers/cli.ts";
import { BACKENDS } from "../_helpers/backends.ts";

const FIELDS: Field[] = [
  { name: "n", type: "long", nullable: true },
  { name: "region", type: "string", nullable: true },
];

async function withTable(test: (table: Table, dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "neuralake-append-" });
  try {
    await test(await openTable(dir), dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/** The data files on disk under `dir`, as keys. */
function dataFiles(dir: string, prefix = ""): string[] {
  const out: string[] = [];
  for (const entry of Deno.readDirSync(`${dir}/${prefix}`)) {
    const key = `${prefix}${entry.name}`;
    if (entry.isDirectory && entry.name !== "_delta_log") out.push(...dataFiles(dir, `${key}/`));
    else if (entry.isFile && entry.name.endsWith(".parquet")) out.push(key);
  }
  return out.sort();
}

async function rowsOf(table: Table): Promise<bigint[]> {
  const out: bigint[] = [];
  for await (const batch of (await scanTable(table, { columns: ["n"] })).batches) {
    out.push(...(batch.columns[0]!.values as BigInt64Array).subarray(0, batch.length));
  }
  return out.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

const rows = (from: number, count: number, region = "M1") =>
  Array.from({ length: count }, (_, i) => ({ n: BigInt(from + i), region }));

Deno.test("appendBatch commits one file per partition with its txn, and reports timings", async () => {
  await withTable(async (table, dir) => {
    await createTable(table, { schema: schemaFromFields(FIELDS), partitionColumns: ["region"] });
    const target = appendTarget(table.store, FIELDS, ["region"]);
    const batch = batchOf(FIELDS, [...rows(0, 3, "M1"), ...rows(3, 2, "S1")]);
    const result = await appendBatch(target, batch, {
      readVersion: 0,
      txn: { appId: "w1", version: 7 },
      description: { operation: "WRITE", isBlindAppend: true },
    });
    assertEquals(result.outcome.kind, "committed");
    assertEquals([result.files, result.rows], [2, 5]);
    assert(result.timings.encodeMs >= 0 && result.timings.commitMs > 0);
    const snapshot = await snapshotOf(table);
    assertEquals(snapshot.txns.get("w1")?.version, 7);
    assertEquals(dataFiles(dir).map((k) => k.split("/")[0]), ["region=M1", "region=S1"]);
    assertEquals(await rowsOf(table), [0n, 1n, 2n, 3n, 4n]);
  });
});

for (const synchronousFlushes of [false, true]) {
  Deno.test(`appendBatch on local disk flushes the data file's directory before the commit exists, and the commit's before it returns (synchronousFlushes: ${synchronousFlushes})`, async () => {
    const dir = await Deno.makeTempDir({ prefix: "neuralake-append-" });
    try {
      const flushes: { dir: string; commitOne: boolean; parquet: number }[] = [];
      const record = (path: string) =>
        flushes.push({
          dir: path.slice(dir.length),
          commitOne: [...Deno.readDirSync(`${dir}/_delta_log`)]
            .some((e) => e.name === "00000000000000000001.json"),
          parquet: [...Deno.readDirSync(path)].filter((e) => e.name.endsWith(".parquet")).length,
        });
      const previous = synchronousFlushesForTesting(synchronousFlushes);
      const store = new LocalStore(dir, {
        syncDirectory: synchronousFlushes
          ? (path) => (record(path), syncDirectorySync(path))
          : async (path) => (record(path), await syncDirectory(path)),
      });
      synchronousFlushesForTesting(previous);
      const table = tableOfStore(store);
      await createTable(table, { schema: schemaFromFields(FIELDS), partitionColumns: ["region"] });
      flushes.length = 0;
      const result = await appendBatch(
        appendTarget(store, FIELDS, ["region"]),
        batchOf(FIELDS, rows(0, 3, "M1")),
        { readVersion: 0, description: { operation: "WRITE", isBlindAppend: true } },
      );
      assertEquals(result.outcome.kind, "committed");
      assertEquals(flushes, [
        { dir: "", commitOne: false, parquet: 0 }, // region=M1 made
        { dir: "/region=M1", commitOne: false, parquet: 1 }, // the data file
        { dir: "/_delta_log", commitOne: true, parquet: 0 }, // the commit
      ]);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  });
}

/** A store whose data file puts wait for `release`, recording its requests in order. */
function heldPuts(store: ObjectStore, fail?: Error) {
  const steps: string[] = [];
  let release!: () => void;
  const released = new Promise<void>((resolve) => (release = resolve));
  const wrapped = interceptStore(store, async (op, key, run) => {
    const name = `${op} ${key.startsWith("_delta_log/") ? key.slice(11) : "data"}`;
    steps.push(`${name} started`);
    if (op === "put" && key.endsWith(".parquet")) {
      await released;
      if (fail) {
        steps.push(`${name} failed`);
        throw fail;
      }
    }
    const result = await run();
    steps.push(`${name} ended`);
    return result;
  });
  return { store: wrapped, steps, release };
}

Deno.test("appendBatch on local disk stages its commit while its data file uploads, and links it only after the upload", async () => {
  await withTable(async (table, dir) => {
    await createTable(table, { schema: schemaFromFields(FIELDS) });
    const held = heldPuts(table.store);
    const appending = appendBatch(
      appendTarget(held.store, FIELDS, []),
      batchOf(FIELDS, rows(0, 2)),
      {
        readVersion: 0,
        checkFiles: "never",
        description: { operation: "WRITE", isBlindAppend: true },
      },
    );
    // The commit file is written and flushed while the data file's put waits.
    for (let i = 0; i < 200 && !held.steps.includes("stage 00000000000000000001.json ended"); i++) {
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    assertEquals(held.steps, [
      "put data started",
      "stage 00000000000000000001.json started",
      "stage 00000000000000000001.json ended",
    ]);
    assertEquals((await snapshotOf(table)).version, 0, "nothing is linked before the upload ends");
    held.release();
    const result = await appending;
    assertEquals(result.outcome, { kind: "committed", version: 1, attempts: 1, lostRaces: 0 });
    assertEquals(held.steps.slice(3), [
      "put data ended",
      "claim 00000000000000000001.json started",
      "claim 00000000000000000001.json ended",
      "discard 00000000000000000001.json started",
      "discard 00000000000000000001.json ended",
    ]);
    assertEquals(await rowsOf(table), [0n, 1n]);
    assertEquals(temporaries(`${dir}/_delta_log`), []);
  });
});

Deno.test("an upload that fails after its commit was staged puts no commit and leaves no files", async () => {
  await withTable(async (table, dir) => {
    await createTable(table, { schema: schemaFromFields(FIELDS) });
    const held = heldPuts(table.store, new Error("No space left on device"));
    const appending = appendBatch(
      appendTarget(held.store, FIELDS, []),
      batchOf(FIELDS, rows(0, 2)),
      {
        readVersion: 0,
        description: { operation: "WRITE", isBlindAppend: true },
      },
    );
    for (let i = 0; i < 200 && !held.steps.includes("stage 00000000000000000001.json ended"); i++) {
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    held.release();
    await assertRejects(() => appending, "No space left on device");
    assert(!held.steps.some((s) => s.startsWith("claim")), `a commit was put: ${held.steps}`);
    assert(held.steps.includes("discard 00000000000000000001.json ended"));
    assertEquals((await snapshotOf(table)).version, 0);
    assertEquals(dataFiles(dir), []);
    assertEquals(temporaries(`${dir}/_delta_log`), []);
  });
});

/** The temporary (staged) files in a directory. */
function temporaries(path: string): string[] {
  return [...Deno.readDirSync(path)].map((e) => e.name).filter((n) => n.startsWith(TEMP_MARKER));
}

Deno.test("appendBatch reads the commits made since its read version while it uploads, and lands at the head at once", async () => {
  await withTable(async (table) => {
    await createTable(table, { schema: schemaFromFields(FIELDS) });
    const target = appendTarget(table.store, FIELDS, []);
    // Other writers commit versions 1 and 2 after this one read version 0.
    for (const [readVersion, n] of [[0, 100], [1, 200]] as const) {
      const other = await appendBatch(target, batchOf(FIELDS, rows(n, 1)), {
        readVersion,
        description: { operation: "WRITE", isBlindAppend: true },
      });
      assertEquals(other.outcome.kind, "committed");
    }
    // An upload takes a moment, as a real one does.
    const put = async (key: string, bytes: Uint8Array) => {
      await new Promise((r) => setTimeout(r, 20));
      await table.store.put(key, bytes);
    };
    const slow = new Proxy(table.store, {
      get: (store, name) => {
        if (name === "put") return put;
        const value = Reflect.get(store, name);
        return typeof value === "function" ? value.bind(store) : value;
      },
    });
    const append = (readAhead: boolean) =>
      appendBatch(appendTarget(slow, FIELDS, []), batchOf(FIELDS, rows(0, 2)), {
        readVersion: 0,
        readAhead,
        description: { operation: "WRITE", isBlindAppend: true },
      });
    const ahead = await append(true);
    assertEquals(ahead.outcome, { kind: "committed", version: 3, attempts: 1, lostRaces: 0 });
    // Without reading ahead, the first attempt loses to version 1.
    const behind = await append(false);
    assertEquals(behind.outcome, { kind: "committed", version: 4, attempts: 2, lostRaces: 1 });
    assertEquals(await rowsOf(table), [0n, 0n, 1n, 1n, 100n, 200n]);
  });
});

Deno.test("an append whose file vanished before its commit is abandoned, not committed", async () => {
  await withTable(async (table, dir) => {
    await createTable(table, { schema: schemaFromFields(FIELDS) });
    const held = new HeldFiles(appendTarget(table.store, FIELDS, []));
    const file = encodeParquet(batchOf([FIELDS[0]!], [{ n: 1n }]));
    await held.upload({ directory: "", values: {} }, file, 0);
    await held.upload({ directory: "", values: {} }, file, 1);
    // A vacuum (of any engine) deletes one of them.
    await table.store.delete([held.keys[0]!]);
    const result = await commitFiles(held, {
      readVersion: 0,
      description: { operation: "WRITE", isBlindAppend: true },
    });
    assertEquals(result.outcome.kind, "abandoned");
    assert(result.outcome.kind === "abandoned" && result.outcome.reason.includes("is gone"));
    assertEquals((await snapshotOf(table)).version, 0, "nothing was committed");
    assertEquals(dataFiles(dir), [held.keys[1]!], "the held file is the caller's to discard");
  });
});

Deno.test("an append held past its budget is abandoned and its files deleted", async () => {
  await withTable(async (table, dir) => {
    await createTable(table, { schema: schemaFromFields(FIELDS) });
    const target = appendTarget(table.store, FIELDS, []);
    const result = await appendBatch(target, batchOf(FIELDS, rows(0, 2)), {
      readVersion: 0,
      description: { operation: "WRITE", isBlindAppend: true },
      holdBudgetMs: 0,
    });
    assertEquals(result.outcome.kind, "abandoned");
    assertEquals((await snapshotOf(table)).version, 0);
    assertEquals(dataFiles(dir), []);
  });
});

Deno.test("a write that fails on bad input leaves none of the files it uploaded", async () => {
  await withTable(async (table, dir) => {
    const source = {
      fields: FIELDS,
      async *batches() {
        yield batchOf(FIELDS, rows(0, 100));
        yield batchOf(FIELDS, rows(100, 100, "S1"));
        throw new InputError("Not a number", { file: "in.ndjson", line: 201, column: "n" });
      },
    };
    // A tiny target size uploads a file per batch before the input fails.
    const uploaded: string[] = [];
    await assertRejects(
      () =>
        writeTable(table, source, {
          targetFileSize: 1,
          partitionBy: ["region"],
          onFile: ({ key }) => uploaded.push(key),
        }),
      "Not a number",
    );
    assertEquals(uploaded.length, 2);
    assertEquals(dataFiles(dir), []);
  });
});

/** A source whose second batch fails, after a file per batch was uploaded. */
function failingSource() {
  return {
    fields: FIELDS,
    async *batches() {
      yield batchOf(FIELDS, rows(0, 100));
      yield batchOf(FIELDS, rows(100, 100, "S1"));
      throw new InputError("Not a number", { file: "in.ndjson", line: 201, column: "n" });
    },
  };
}

Deno.test("a failed write to a new local table leaves no table directory behind", async () => {
  const dir = await Deno.makeTempDir({ prefix: "neuralake-failed-create-" });
  try {
    // Two levels that do not exist yet: the write makes both.
    const table = await openTable(`${dir}/lab/t`);
    const uploaded: string[] = [];
    await assertRejects(
      () =>
        writeTable(table, failingSource(), {
          targetFileSize: 1,
          partitionBy: ["region"],
          onFile: ({ key }) => uploaded.push(key),
        }),
      "Not a number",
    );
    assertEquals(uploaded.length, 2, "files were uploaded before the input failed");
    assertEquals([...Deno.readDirSync(dir)].map((e) => e.name), []);
    await assertRejects(() => snapshotOf(table), "No Delta table");
    // The same handle creates the table afterwards.
    await writeTable(table, sourceOf(batchOf(FIELDS, rows(0, 3))), { partitionBy: ["region"] });
    assertEquals((await snapshotOf(table)).version, 0);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a failed write to a new table in an empty directory that exists leaves the directory as it was", async () => {
  await withTable(async (table, dir) => {
    await assertRejects(
      () => writeTable(table, failingSource(), { targetFileSize: 1, partitionBy: ["region"] }),
      "Not a number",
    );
    // The directory the user made stays; the partition directories go.
    assertEquals([...Deno.readDirSync(dir)].map((e) => e.name), []);
  });
});

for (const backend of BACKENDS) {
  Deno.test(`${backend.name}: writers that create the same new table at once append when its schema matches`, async () => {
    const { table } = await backend.newTable("create-race");
    // The other writer wins version 0 after this write found no table.
    const result = await writeTable(table, async () => {
      await writeTable(table, sourceOf(batchOf(FIELDS, rows(0, 3))));
      return sourceOf(batchOf(FIELDS, rows(10, 2)));
    });
    assertEquals([result.version, result.created, result.rows], [1, false, 2]);
    assertEquals(await rowsOf(table), [0n, 1n, 2n, 10n, 11n]);
    assertEquals((await snapshotOf(table)).files.size, 2);
  });
}

Deno.test("a writer that loses the creation of a table with another schema names the difference", async () => {
  await withTable(async (table, dir) => {
    const theirs: Field[] = [FIELDS[0]!, { name: "region", type: "integer", nullable: true }];
    const error = await assertRejects(() =>
      writeTable(table, async () => {
        await writeTable(
          await openTable(table.uri),
          sourceOf(batchOf(theirs, [{ n: 1n, region: 1 }])),
        );
        return sourceOf(batchOf(FIELDS, rows(10, 2)));
      })
    );
    assert(
      error.message.includes("column 2 is region integer in the table, region string"),
      error.message,
    );
    assert(error.message.includes("Nothing was committed"), error.message);
    assertEquals((await snapshotOf(table)).version, 0);
    assertEquals(dataFiles(dir).length, 1, "only the winner's file is left");
    const partitioned = await assertRejects(async () =>
      writeTable(await openTable(`${dir}/p`), async () => {
        await writeTable(await openTable(`${dir}/p`), sourceOf(batchOf(FIELDS, rows(0, 1))));
        return sourceOf(batchOf(FIELDS, rows(10, 2)));
      }, { partitionBy: ["region"] })
    );
    assert(
      partitioned.message.includes("partitioned by [], this write by [region]"),
      partitioned.message,
    );
  });
});

Deno.test("4 processes writing to a table that does not exist yet all land their rows", async () => {
  await withTable(async (table, dir) => {
    const uri = `${dir}/t`;
    const inputs = await Promise.all([0, 1, 2, 3].map(async (p) => {
      const path = `${dir}/in-${p}.ndjson`;
      // Enough rows that reading them outlasts the processes' staggered starts,
      // so each finds no table and tries to create it.
      const lines = rows(p * 100_000, 30_000, "M1").map((r) =>
        JSON.stringify({ n: Number(r.n), region: r.region })
      );
      await Deno.writeTextFile(path, lines.join("\n") + "\n");
      return path;
    }));
    const results = await Promise.all(inputs.map((input) => cli(["write", uri, "--input", input])));
    for (const r of results) assertEquals(r.code, 0, r.stderr);
    const written = await rowsOf(await openTable(uri));
    assertEquals(written.length, 120_000);
    assertEquals(written, [0, 1, 2, 3].flatMap((p) => rows(p * 100_000, 30_000).map((r) => r.n)));
    assertEquals((await snapshotOf(await openTable(uri))).version, 3);
    void table;
  });
});

Deno.test("a commit that cannot be staged (a full disk) says nothing was committed and leaves no files", async () => {
  await withTable(async (table, dir) => {
    await createTable(table, { schema: schemaFromFields(FIELDS) });
    const store = table.store;
    const full: ObjectStore = {
      uri: store.uri,
      headIsCheap: true,
      get: (key, range) => store.get(key, range),
      head: (key) => store.head(key),
      put: (key, bytes) => store.put(key, bytes),
      putIfAbsent: (key, bytes) => store.putIfAbsent(key, bytes),
      list: (prefix, startAfter) => store.list(prefix, startAfter),
      delete: (keys) => store.delete(keys),
      stage: (_bytes, near) => Promise.reject(new Error(`Cannot write ${dir}/${near}`)),
    };
    const error = await assertRejects(
      () =>
        appendBatch(appendTarget(full, FIELDS, []), batchOf(FIELDS, rows(0, 2)), {
          readVersion: 0,
          description: { operation: "WRITE", isBlindAppend: true },
        }),
      "Nothing was committed",
    );
    assertEquals(
      (error.cause as Error).message,
      `Cannot write ${dir}/_delta_log/00000000000000000001.json`,
    );
    assertEquals(dataFiles(dir), []);
    assertEquals((await snapshotOf(table)).version, 0);
  });
});

Deno.test("a partition directory swapped for a link mid-run: writes and vacuum touch nothing outside", async () => {
  await withTable(async (_, dir) => {
    const outside = await Deno.makeTempDir({ prefix: "neuralake-outside-" });
    try {
      // One long-running handle, as a role holds: it has used region=M1 already.
      const table = await openTable(`${dir}/t`);
      await writeTable(table, sourceOf(batchOf(FIELDS, rows(0, 2, "M1"))), {
        partitionBy: ["region"],
      });
      await writeTable(table, sourceOf(batchOf(FIELDS, rows(10, 2, "S1"))), { mode: "overwrite" });
      // The removed M1 file moves out with its directory, which becomes a link.
      await Deno.rename(`${dir}/t/region=M1`, `${outside}/M1`);
      await Deno.symlink(`${outside}/M1`, `${dir}/t/region=M1`);
      const before = [...Deno.readDirSync(`${outside}/M1`)].map((e) => e.name).sort();
      assertEquals(before.length, 1);
      // The writer's next batch for M1 is refused, not written outside.
      await assertRejects(
        () => writeTable(table, sourceOf(batchOf(FIELDS, rows(20, 2, "M1")))),
        "outside the table root",
      );
      // Vacuum, a week later, finds the removed M1 file through the log.
      const later = () => Date.now() + 8 * 86_400_000;
      for (const mode of ["log-only", "full"] as const) {
        const result = await vacuum(table.store, () => snapshotOf(table), { now: later, mode });
        assertEquals(result.filesDeleted, 0, mode);
      }
      assertEquals([...Deno.readDirSync(`${outside}/M1`)].map((e) => e.name).sort(), before);
      assertEquals(await rowsOf(table), [10n, 11n]);
    } finally {
      await Deno.remove(outside, { recursive: true });
    }
  });
});

Deno.test("an append whose row ids cannot be brought up to date says nothing was committed and leaves no files", async () => {
  // A stream writer's mark is behind the version it read: the commits in
  // between are read before the commit, and a failed read is a failed append.
  const dir = await copyFixture("spark_feature_row_tracking");
  try {
    const fields: Field[] = [
      { name: "id", type: "long", nullable: true },
      { name: "name", type: "string", nullable: true },
    ];
    const table = await openTable(dir);
    const start = await snapshotOf(table);
    const stale = rowIdMarkOf(start)!;
    const description = { operation: "STREAMING UPDATE", isBlindAppend: true };
    const other = await appendBatch(
      appendTarget(table.store, fields, []),
      batchOf(fields, [{ id: 1n, name: "other" }]),
      { readVersion: start.version, rowIds: rowIdMarkOf(start)!, description },
    );
    assertEquals(other.outcome.kind, "committed");
    const before = dataFiles(dir);
    const store = table.store;
    const unreadable = commitKey(start.version + 1);
    const failing: ObjectStore = {
      uri: store.uri,
      headIsCheap: true,
      get: (key, range) =>
        key === unreadable
          ? Promise.reject(new Error(`Cannot read ${dir}/${key}`))
          : store.get(key, range),
      head: (key) => store.head(key),
      put: (key, bytes) => store.put(key, bytes),
      putIfAbsent: (key, bytes) => store.putIfAbsent(key, bytes),
      list: (prefix, startAfter) => store.list(prefix, startAfter),
      delete: (keys) => store.delete(keys),
    };
    const error = await assertRejects(
      () =>
        appendBatch(appendTarget(failing, fields, []), batchOf(fields, [{ id: 2n, name: "w" }]), {
          readVersion: start.version + 1,
          rowIds: stale,
          description,
        }),
      "Nothing was committed",
    );
    assertEquals((error.cause as Error).message, `Cannot read ${dir}/${unreadable}`);
    assertEquals(dataFiles(dir), before, "the uploaded file is removed");
    assertEquals((await snapshotOf(table)).version, start.version + 1);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

/**
 * The local file-system store against the shared conformance suite, plus the
 * local-only rules: a symbolic link out of the root is refused, and a stray
 * temporary file (from a crash mid-write) is never listed.
 */

import process from "node:process";
import {
  busyDeletesForTesting,
  BusyWatch,
  LocalStore,
  syncDirectory,
  syncDirectorySync,
  synchronousFlushesForTesting,
  TEMP_MARKER,
} from "../../src/storage/local.ts";
import { listAll } from "../../src/storage/object_store.ts";
import { libcUnlinkOffForTesting } from "../../src/storage/unlink.ts";
import { assert, assertEquals, assertRejects, assertThrows } from "../_helpers/assert.ts";
import { runStoreConformance } from "./conformance.ts";

runStoreConformance("LocalStore", async () => {
  const root = await Deno.makeTempDir({ prefix: "neuralake-local-store-" });
  return {
    store: new LocalStore(root, { fsync: false }),
    cleanup: () => Deno.remove(root, { recursive: true }),
  };
});

Deno.test("LocalStore refuses a key that goes through a symbolic link out of the root", async () => {
  const root = await Deno.makeTempDir({ prefix: "neuralake-local-root-" });
  const outside = await Deno.makeTempDir({ prefix: "neuralake-local-outside-" });
  try {
    await Deno.writeTextFile(`${outside}/secret.txt`, "outside the table");
    await Deno.symlink(outside, `${root}/link`);
    const store = new LocalStore(root, { fsync: false });
    const error = await assertRejects(() => store.get("link/secret.txt"), "outside the table root");
    assert(error instanceof RangeError, `expected a RangeError, got ${error.name}`);
    await assertRejects(() => store.put("link/new.txt", new Uint8Array([1])), "outside");
    assertEquals(await listAll(store, ""), [], "the link is not followed by a listing");
    assertEquals(
      [...Deno.readDirSync(outside)].map((e) => e.name),
      ["secret.txt"],
      "nothing was written outside the root",
    );
  } finally {
    await Deno.remove(root, { recursive: true });
    await Deno.remove(outside, { recursive: true });
  }
});

Deno.test("LocalStore does not list a stray temporary file", async () => {
  const root = await Deno.makeTempDir({ prefix: "neuralake-local-temp-" });
  try {
    const store = new LocalStore(root, { fsync: false });
    await store.put("_delta_log/00000000000000000000.json", new TextEncoder().encode("{}"));
    await Deno.writeTextFile(`${root}/_delta_log/${TEMP_MARKER}left-by-a-crash`, "partial");
    assertEquals(
      (await listAll(store, "")).map((m) => m.key),
      ["_delta_log/00000000000000000000.json"],
    );
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("LocalStore checks a directory on every operation, so a swap for a link mid-run cannot escape", async () => {
  const root = await Deno.makeTempDir({ prefix: "neuralake-local-root-" });
  const outside = await Deno.makeTempDir({ prefix: "neuralake-local-outside-" });
  try {
    const store = new LocalStore(root, { fsync: false });
    // A long-running role has used the partition directory already.
    await store.put("region=M1/a.parquet", new Uint8Array([1]));
    assertEquals((await store.get("region=M1/a.parquet"))?.length, 1);
    await store.delete(["region=M1/a.parquet"]);
    // Someone swaps the directory for a link out of the table.
    await Deno.writeTextFile(`${outside}/victim.parquet`, "outside the table");
    await Deno.remove(`${root}/region=M1`, { recursive: true });
    await Deno.symlink(outside, `${root}/region=M1`);
    // The writer's next upload and the vacuum's next delete are refused.
    await assertRejects(
      () => store.put("region=M1/b.parquet", new Uint8Array([2])),
      "outside the table root",
    );
    const outcome = await store.delete(["region=M1/victim.parquet"]);
    assertEquals(outcome.deleted, []);
    assertEquals(outcome.failed.length, 1);
    assertEquals(await Deno.readTextFile(`${outside}/victim.parquet`), "outside the table");
    assertEquals([...Deno.readDirSync(outside)].map((e) => e.name), ["victim.parquet"]);
    await assertRejects(() => store.get("region=M1/victim.parquet"), "outside the table root");
  } finally {
    await Deno.remove(root, { recursive: true });
    await Deno.remove(outside, { recursive: true });
  }
});

Deno.test("LocalStore makes missing directories one level at a time, never through a link out", async () => {
  const root = await Deno.makeTempDir({ prefix: "neuralake-local-root-" });
  const outside = await Deno.makeTempDir({ prefix: "neuralake-local-outside-" });
  try {
    const store = new LocalStore(root, { fsync: false });
    await store.put("a=1/x.parquet", new Uint8Array([1]));
    await Deno.remove(`${root}/a=1`, { recursive: true });
    await Deno.symlink(outside, `${root}/a=1`);
    await assertRejects(() => store.put("a=1/b=2/y.parquet", new Uint8Array([2])), "outside");
    assertEquals([...Deno.readDirSync(outside)], [], "nothing was made outside");
  } finally {
    await Deno.remove(root, { recursive: true });
    await Deno.remove(outside, { recursive: true });
  }
});

Deno.test("a failed local commit names the commit file, not a placeholder", async () => {
  const root = await Deno.makeTempDir({ prefix: "neuralake-local-root-" });
  try {
    const store = new LocalStore(root, { fsync: false });
    // The log "directory" is a file, so the staged commit cannot be written.
    await Deno.writeTextFile(`${root}/_delta_log`, "not a directory");
    const key = "_delta_log/00000000000000000007.json";
    const error = await assertRejects(() => store.putIfAbsent(key, new Uint8Array([1])));
    assert(error.message.includes(`${root}/${key}`), error.message);
    const staged = await assertRejects(() => store.stage(new Uint8Array([1]), key));
    assert(staged.message.includes(`${root}/${key}`), staged.message);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("LocalStore removes only temporary files older than the given time", async () => {
  const root = await Deno.makeTempDir({ prefix: "neuralake-local-root-" });
  try {
    const store = new LocalStore(root, { fsync: false });
    await store.put("_delta_log/00000000000000000000.json", new Uint8Array([1]));
    const old = `${root}/_delta_log/${TEMP_MARKER}killed-checkpoint`;
    const young = `${root}/p=1/${TEMP_MARKER}in-flight`;
    await Deno.mkdir(`${root}/p=1`);
    await Deno.writeTextFile(old, "x");
    await Deno.writeTextFile(young, "y");
    const dayAgo = new Date(Date.now() - 86_400_000);
    await Deno.utime(old, dayAgo, dayAgo);
    assertEquals(await store.removeStaleTemporaries(Date.now() - 3_600_000), 1);
    await assertRejects(() => Deno.stat(old));
    assert((await Deno.stat(young)).isFile);
    assert((await Deno.stat(`${root}/_delta_log/00000000000000000000.json`)).isFile);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("LocalStore sweeps the temporary files its last full key listing passed, without a walk of its own", async () => {
  const root = await Deno.makeTempDir({ prefix: "neuralake-local-root-" });
  try {
    const store = new LocalStore(root, { fsync: false });
    await store.put("_delta_log/00000000000000000000.json", new Uint8Array([1]));
    await Deno.mkdir(`${root}/p=1/${TEMP_MARKER}dir`, { recursive: true });
    const dayAgo = new Date(Date.now() - 86_400_000);
    const stale = [
      `${root}/_delta_log/${TEMP_MARKER}killed-checkpoint`,
      `${root}/p=1/${TEMP_MARKER}killed-put`,
      `${root}/p=1/${TEMP_MARKER}dir/${TEMP_MARKER}nested`,
    ];
    const young = `${root}/p=1/${TEMP_MARKER}in-flight`;
    for (const path of [...stale, young]) await Deno.writeTextFile(path, "x");
    for (const path of stale) await Deno.utime(path, dayAgo, dayAgo);
    assertEquals(await store.listKeys(""), ["_delta_log/00000000000000000000.json"]);
    // Made after the listing with an old time set by hand, which no put does:
    // the sweep after the listing sweeps only what the listing passed...
    const late = `${root}/${TEMP_MARKER}late`;
    await Deno.writeTextFile(late, "x");
    await Deno.utime(late, dayAgo, dayAgo);
    assertEquals(await store.removeStaleTemporaries(Date.now() - 3_600_000), 3);
    for (const path of stale) await assertRejects(() => Deno.stat(path));
    assert((await Deno.stat(young)).isFile && (await Deno.stat(late)).isFile);
    // ...and the next sweep, with no listing before it, walks the tree.
    assertEquals(await store.removeStaleTemporaries(Date.now() - 3_600_000), 1);
    await assertRejects(() => Deno.stat(late));
    assert((await Deno.stat(young)).isFile);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

for (const [busy, libc] of [[false, true], [true, true], [false, false], [true, false]]) {
  Deno.test(
    `LocalStore deletes many keys at once and reports each: deleted, absent, or refused${
      busy ? " (with removals on the blocking pool, as on a busy machine)" : ""
    }${libc ? "" : " (removing with Deno.removeSync, as where the C library is not used)"}`,
    async () => {
      const root = await Deno.makeTempDir({ prefix: "neuralake-local-many-" });
      const outside = await Deno.makeTempDir({ prefix: "neuralake-local-outside-" });
      const wasBusy = busyDeletesForTesting(busy!);
      const wasOff = libcUnlinkOffForTesting(!libc);
      try {
        const store = new LocalStore(root, { fsync: false });
        const keys = Array.from({ length: 100 }, (_, i) => `p=${i % 3}/f${i}.parquet`);
        for (const key of keys.slice(0, 90)) await store.put(key, new Uint8Array([1]));
        await Deno.writeTextFile(`${outside}/victim.parquet`, "outside the table");
        await Deno.symlink(outside, `${root}/escape`);
        // A link to a file outside goes as a link; its target stays.
        await Deno.symlink(`${outside}/victim.parquet`, `${root}/p=0/link.parquet`);
        await store.put("full/inside.parquet", new Uint8Array([1]));
        const outcome = await store.delete([
          ...keys,
          "p=0/link.parquet",
          "escape/victim.parquet",
          "full",
        ]);
        assertEquals(
          [...outcome.deleted].sort(),
          [...keys, "p=0/link.parquet"].sort(),
          "absent keys count as deleted",
        );
        assertEquals(outcome.failed.map((f) => f.key).sort(), ["escape/victim.parquet", "full"]);
        assert(
          outcome.failed.find((f) => f.key === "full")?.reason.includes("not empty"),
          JSON.stringify(outcome.failed),
        );
        assertEquals((await listAll(store, "")).map((m) => m.key), ["full/inside.parquet"]);
        assertEquals(await Deno.readTextFile(`${outside}/victim.parquet`), "outside the table");
      } finally {
        busyDeletesForTesting(wasBusy);
        libcUnlinkOffForTesting(wasOff);
        await Deno.remove(root, { recursive: true });
        await Deno.remove(outside, { recursive: true });
      }
    },
  );
}

Deno.test("a big delete's busy watch counts its own thread's CPU time, not the other threads' of the process", async () => {
  // A worker of the same process spins, as a stream job's writers do beside
  // its vacuum. Before, the watch compared wall time with the whole
  // process's CPU time, so beside busy workers it never called the machine
  // busy, however long its own thread waited.
  const spin = URL.createObjectURL(
    new Blob(["for (;;) {}"], { type: "application/javascript" }),
  );
  const processCpuMs = (since: NodeJS.CpuUsage) => {
    const used = process.cpuUsage(since);
    return (used.user + used.system) / 1000;
  };
  const watch = new BusyWatch();
  const started = process.cpuUsage();
  const worker = new Worker(spin, { type: "module" });
  try {
    await until(() => processCpuMs(started) >= 300, "the worker has spun for 300 ms of CPU");
  } finally {
    worker.terminate();
    URL.revokeObjectURL(spin);
  }
  const processMs = processCpuMs(started);
  assert(
    watch.cpuMs() < processMs / 2,
    `this thread's ${watch.cpuMs()} ms against the process's ${processMs} ms`,
  );
  assert(watch.busy(), "a thread that ran for a fraction of its wall time looks busy");
});

Deno.test("LocalStore gives its event loop turns while it deletes many keys, so a stop request is served", async () => {
  const root = await Deno.makeTempDir({ prefix: "neuralake-local-turns-" });
  try {
    const store = new LocalStore(root, { fsync: false });
    const keys = Array.from({ length: 2_000 }, (_, i) => `f${i}.parquet`);
    for (const key of keys) await store.put(key, new Uint8Array([1]));
    let finished = false;
    let deletedWhenTimerFired: number | undefined;
    const deleting = store.delete(keys).then((outcome) => {
      finished = true;
      return outcome;
    });
    setTimeout(() => {
      if (!finished) deletedWhenTimerFired = keys.length - [...Deno.readDirSync(root)].length;
    }, 0);
    const outcome = await deleting;
    assert(deletedWhenTimerFired !== undefined, "a timer waited for the whole delete");
    assert(deletedWhenTimerFired < keys.length);
    assertEquals(outcome.deleted.length, keys.length);
    assertEquals(outcome.failed, []);
    assertEquals([...Deno.readDirSync(root)], []);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

/** A store whose directory flushes are recorded, with what each directory held at the time. */
function observedStore(
  root: string,
  options: { fsync?: boolean; gate?: Promise<void>; synchronousFlushes?: boolean } = {},
) {
  const flushes: { dir: string; entries: string[] }[] = [];
  const record = (dir: string) => {
    const entries = [...Deno.readDirSync(dir)].map((e) => e.name)
      .filter((name) => !name.startsWith(TEMP_MARKER)).sort();
    flushes.push({ dir, entries });
  };
  const synchronous = options.synchronousFlushes ?? false;
  const previous = synchronousFlushesForTesting(synchronous);
  const store = new LocalStore(root, {
    fsync: options.fsync ?? true,
    // As the store's own: blocking where its flushes are synchronous.
    syncDirectory: synchronous ? (dir) => (record(dir), syncDirectorySync(dir)) : async (dir) => {
      record(dir);
      await options.gate;
      await syncDirectory(dir);
    },
  });
  synchronousFlushesForTesting(previous);
  return { store, flushes };
}

/** Resolves once pending callbacks and timers queued now have run. */
const settle = () => new Promise((resolve) => setTimeout(resolve, 20));

/**
 * Resolves once `done()` holds, looked at every few ms: a flush waits for
 * the file's own flush through the blocking pool first, which on a loaded
 * machine takes longer than any fixed pause. Fails after 10 s.
 */
async function until(done: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!done()) {
    if (Date.now() > deadline) throw new Error(`Gave up waiting until ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

Deno.test("LocalStore put resolves only after the file's directory is flushed with the new name in it", async () => {
  const root = await Deno.makeTempDir({ prefix: "neuralake-local-dirsync-" });
  try {
    let open!: () => void;
    const gate = new Promise<void>((resolve) => open = resolve);
    const { store, flushes } = observedStore(root, { gate });
    Deno.mkdirSync(`${root}/p`);
    let resolved = false;
    const put = store.put("p/a.parquet", new Uint8Array([1])).then(() => resolved = true);
    await until(() => flushes.length > 0, "the directory flush starts");
    await settle();
    assertEquals(flushes, [{ dir: `${root}/p`, entries: ["a.parquet"] }]);
    assertEquals(resolved, false, "put must wait for the directory flush");
    open();
    await put;
    assertEquals(flushes.length, 1);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("LocalStore putIfAbsent says created only after the commit's directory is flushed", async () => {
  const root = await Deno.makeTempDir({ prefix: "neuralake-local-dirsync-" });
  try {
    Deno.mkdirSync(`${root}/_delta_log`);
    let open!: () => void;
    const gate = new Promise<void>((resolve) => open = resolve);
    const { store, flushes } = observedStore(root, { gate });
    const key = "_delta_log/00000000000000000000.json";
    let outcome: string | undefined;
    const commit = store.putIfAbsent(key, new Uint8Array([1])).then((o) => outcome = o);
    await until(() => flushes.length > 0, "the directory flush starts");
    await settle();
    assertEquals(flushes, [{
      dir: `${root}/_delta_log`,
      entries: ["00000000000000000000.json"],
    }]);
    assertEquals(outcome, undefined, "the commit must not be acknowledged before the flush");
    open();
    assertEquals(await commit, "created");
    // A staged commit, as the transaction makes it: each win is flushed, a loss is not.
    flushes.length = 0;
    const staged = await store.stage(new Uint8Array([2]), key);
    assertEquals(await staged.putIfAbsent(key), "exists");
    assertEquals(flushes, []);
    assertEquals(await staged.putIfAbsent("_delta_log/00000000000000000001.json"), "created");
    await staged.discard();
    assertEquals(flushes.map((f) => f.dir), [`${root}/_delta_log`]);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

for (const synchronousFlushes of [false, true]) {
  Deno.test(`LocalStore flushes each directory it makes into its parent, parents first, before writing in it (synchronousFlushes: ${synchronousFlushes})`, async () => {
    const base = await Deno.makeTempDir({ prefix: "neuralake-local-dirsync-" });
    try {
      const { store, flushes } = observedStore(`${base}/new/table`, { synchronousFlushes });
      await store.put("region=M1/day=1/a.parquet", new Uint8Array([1]));
      assertEquals(flushes, [
        { dir: base, entries: ["new"] },
        { dir: `${base}/new`, entries: ["table"] },
        { dir: `${base}/new/table`, entries: ["region=M1"] },
        { dir: `${base}/new/table/region=M1`, entries: ["day=1"] },
        { dir: `${base}/new/table/region=M1/day=1`, entries: ["a.parquet"] },
      ]);
      flushes.length = 0;
      await store.put("region=M1/day=1/b.parquet", new Uint8Array([1]));
      assertEquals(flushes.map((f) => f.dir), [`${base}/new/table/region=M1/day=1`]);
    } finally {
      await Deno.remove(base, { recursive: true });
    }
  });
}

Deno.test("LocalStore put into a directory another call is still flushing into its parent waits for that flush", async () => {
  // Two independent writers of one store into a new partition: the second
  // must not be acknowledged (and then committed) while the directory that
  // names its file may still be lost to a power cut.
  const root = await Deno.makeTempDir({ prefix: "neuralake-local-dirsync-" });
  try {
    let open!: () => void;
    const gate = new Promise<void>((resolve) => open = resolve);
    const flushes: string[] = [];
    let slow = false;
    const store = new LocalStore(root, {
      syncDirectory: async (dir) => {
        flushes.push(dir);
        // The root's flush (naming the new partition) is the slow one.
        if (slow && dir === root) await gate;
      },
    });
    await store.put("_delta_log/x.json", new Uint8Array([1]));
    flushes.length = 0;
    slow = true;
    const done: string[] = [];
    const first = store.put("day=2/a.parquet", new Uint8Array([1])).then(() => done.push("a"));
    await settle();
    assertEquals(flushes, [root], "the first put flushes the partition it made into the root");
    const second = store.put("day=2/b.parquet", new Uint8Array([2])).then(() => done.push("b"));
    await settle();
    assertEquals(done, [], "no put into day=2 is acknowledged before day=2 is on disk");
    open();
    await Promise.all([first, second]);
    assertEquals(done.sort(), ["a", "b"]);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("LocalStore with fsync off flushes no directory", async () => {
  const base = await Deno.makeTempDir({ prefix: "neuralake-local-dirsync-" });
  try {
    const { store, flushes } = observedStore(`${base}/table`, { fsync: false });
    await store.put("region=M1/a.parquet", new Uint8Array([1]));
    assertEquals(await store.putIfAbsent("_delta_log/0.json", new Uint8Array([1])), "created");
    assertEquals(flushes, []);
  } finally {
    await Deno.remove(base, { recursive: true });
  }
});

Deno.test("syncDirectory flushes a real directory, and names a missing one", async () => {
  const root = await Deno.makeTempDir({ prefix: "neuralake-local-dirsync-" });
  try {
    await syncDirectory(root);
    await assertRejects(() => syncDirectory(`${root}/missing`), `${root}/missing`);
    syncDirectorySync(root);
    assertThrows(() => syncDirectorySync(`${root}/missing`), `${root}/missing`);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("syncDirectory passes over a file system that cannot flush directories, and fails on an I/O error", async () => {
  const root = await Deno.makeTempDir({ prefix: "neuralake-local-dirsync-" });
  const failing = (code: string) => () => {
    const error = new Error(`fdatasync: ${code}`) as Error & { code: string };
    error.code = code;
    return Promise.reject(error);
  };
  try {
    // Network and FUSE mounts answer so: every commit would fail otherwise.
    await syncDirectory(root, failing("EINVAL"));
    await syncDirectory(root, failing("ENOTSUP"));
    await syncDirectory(root, () => Promise.reject(new Deno.errors.NotSupported("no")));
    const error = await assertRejects(() => syncDirectory(root, failing("EIO")), root);
    assertEquals((error.cause as { code?: string }).code, "EIO");
    // The same rules for the synchronous flush.
    const throwing = (code: string) => () => {
      const error = new Error(`fdatasync: ${code}`) as Error & { code: string };
      error.code = code;
      throw error;
    };
    syncDirectorySync(root, throwing("EINVAL"));
    syncDirectorySync(root, throwing("ENOTSUP"));
    const syncError = assertThrows(() => syncDirectorySync(root, throwing("EIO")), root);
    assertEquals((syncError.cause as { code?: string }).code, "EIO");
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("LocalStore syncPrefix flushes the prefix's directory, and nothing where it is missing or fsync is off", async () => {
  const root = await Deno.makeTempDir({ prefix: "neuralake-local-syncprefix-" });
  try {
    const flushes: string[] = [];
    const store = new LocalStore(root, { syncDirectory: (dir) => void flushes.push(dir) });
    await store.put("_delta_log/x.json", new Uint8Array([1]));
    flushes.length = 0;
    await store.syncPrefix("_delta_log/");
    assertEquals(flushes, [`${root}/_delta_log`]);
    await store.syncPrefix("missing/");
    assertEquals(flushes, [`${root}/_delta_log`], "a missing directory holds nothing to flush");
    const off = new LocalStore(root, {
      fsync: false,
      syncDirectory: (dir) => void flushes.push(dir),
    });
    await off.syncPrefix("_delta_log/");
    assertEquals(flushes.length, 1, "fsync off flushes nothing");
    await new LocalStore(root).syncPrefix("_delta_log/");
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

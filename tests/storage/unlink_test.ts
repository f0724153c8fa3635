/**
 * The local store's removal of one file: through the C library's `unlink`
 * where it is in use (Linux with the `ffi` permission, as the tests run) and
 * through `Deno.removeSync` otherwise, each path checked against the other on
 * the same cases: what goes, what stays, and how each failure is reported.
 */

import {
  libcUnlinkOffForTesting,
  libcUnlinksForTesting,
  unlinksThroughLibc,
  unlinkSync,
} from "../../src/storage/unlink.ts";
import { assert, assertEquals } from "../_helpers/assert.ts";

/** What a removal did: `removed`, or the error's class and message. */
function attempt(path: string): string {
  try {
    unlinkSync(path);
    return "removed";
  } catch (error) {
    return error instanceof Error ? `${error.constructor.name}: ${error.message}` : String(error);
  }
}

/** Whether `path` names anything, a dangling link included. */
function present(path: string): boolean {
  try {
    Deno.lstatSync(path);
    return true;
  } catch {
    return false;
  }
}

/**
 * The cases, each made afresh under `root`, with what must remain after the
 * removal. `outside` holds a link's target, which must never go.
 */
function makeCases(root: string, outside: string) {
  Deno.writeTextFileSync(`${outside}/target.parquet`, "the link's target");
  Deno.writeTextFileSync(`${root}/file.parquet`, "x");
  Deno.writeTextFileSync(`${root}/neighbour.parquet`, "stays");
  Deno.symlinkSync(`${outside}/target.parquet`, `${root}/link.parquet`);
  Deno.mkdirSync(`${root}/empty-dir`);
  Deno.mkdirSync(`${root}/full-dir`);
  Deno.writeTextFileSync(`${root}/full-dir/inside.parquet`, "x");
  return [
    { path: `${root}/file.parquet`, outcome: "removed" },
    { path: `${root}/link.parquet`, outcome: "removed" },
    { path: `${root}/empty-dir`, outcome: "removed" },
    { path: `${root}/absent.parquet`, error: "NotFound:" },
    { path: `${root}/full-dir`, error: "Error: Directory not empty" },
    { path: `${root}/neighbour.parquet/under-a-file`, error: "NotADirectory:" },
    { path: `${root}/${"n".repeat(300)}.parquet`, error: "Error: File name too long" },
  ];
}

Deno.test("unlinkSync removes exactly the path it is given, and fails as Deno.removeSync does, through the C library and without it", () => {
  if (Deno.build.os === "linux") {
    assert(unlinksThroughLibc(), "on Linux with the ffi permission, removals go through unlink");
  }
  const seen: Record<string, string[]> = {};
  for (const off of [false, true]) {
    const root = Deno.makeTempDirSync({ prefix: "neuralake-unlink-" });
    const outside = Deno.makeTempDirSync({ prefix: "neuralake-unlink-outside-" });
    const wasOff = libcUnlinkOffForTesting(off);
    try {
      const outcomes: string[] = [];
      const unlinkedBefore = libcUnlinksForTesting();
      for (const c of makeCases(root, outside)) {
        const outcome = attempt(c.path);
        outcomes.push(outcome.replaceAll(root, "<root>"));
        if (c.outcome) assertEquals(outcome, c.outcome, c.path);
        else assert(outcome.startsWith(c.error!), `${c.path}: ${outcome}`);
      }
      // Only the removed paths went; a link's target stays.
      for (const gone of ["file.parquet", "link.parquet", "empty-dir"]) {
        assert(!present(`${root}/${gone}`), `${gone} was removed`);
      }
      assertEquals(Deno.readTextFileSync(`${root}/neighbour.parquet`), "stays");
      assertEquals(Deno.readTextFileSync(`${root}/full-dir/inside.parquet`), "x");
      assertEquals(Deno.readTextFileSync(`${outside}/target.parquet`), "the link's target");
      // Through the C library, the file and the link went by its unlink; the
      // empty directory and every failure were handed to Deno.removeSync.
      const viaLibc = off || !unlinksThroughLibc() ? 0 : 2;
      assertEquals(libcUnlinksForTesting() - unlinkedBefore, viaLibc, "removals by unlink");
      seen[off ? "deno" : "libc"] = outcomes;
    } finally {
      libcUnlinkOffForTesting(wasOff);
      Deno.removeSync(root, { recursive: true });
      Deno.removeSync(outside, { recursive: true });
    }
  }
  assertEquals(seen.libc, seen.deno, "both paths report every case alike");
});

Deno.test("unlinkSync reports a file it may not remove as Deno.removeSync does, through the C library and without it", async () => {
  const seen: Record<string, string> = {};
  for (const off of [false, true]) {
    const root = Deno.makeTempDirSync({ prefix: "neuralake-unlink-denied-" });
    const wasOff = libcUnlinkOffForTesting(off);
    Deno.writeTextFileSync(`${root}/kept.parquet`, "x");
    // As root, permissions do not stop an unlink but an immutable file does
    // (EPERM); as anyone else, a directory without write permission does
    // (EACCES).
    const asRoot = Deno.uid() === 0;
    const lock = asRoot
      ? await new Deno.Command("chattr", { args: ["+i", `${root}/kept.parquet`], stderr: "null" })
        .output().then((o) => o.success, () => false)
      : (Deno.chmodSync(root, 0o555), true);
    try {
      if (!lock) return; // this file system cannot make a file immutable: nothing to check
      const outcome = attempt(`${root}/kept.parquet`);
      assert(outcome.startsWith("PermissionDenied:"), outcome);
      assertEquals(Deno.readTextFileSync(`${root}/kept.parquet`), "x");
      seen[off ? "deno" : "libc"] = outcome.replaceAll(root, "<root>");
    } finally {
      libcUnlinkOffForTesting(wasOff);
      if (asRoot) {
        await new Deno.Command("chattr", { args: ["-i", `${root}/kept.parquet`], stderr: "null" })
          .output().catch(() => undefined);
      } else Deno.chmodSync(root, 0o755);
      Deno.removeSync(root, { recursive: true });
    }
  }
  assertEquals(seen.libc, seen.deno, "both paths report the refusal alike");
});

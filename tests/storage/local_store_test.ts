/**
 * The local file-system store against the shared conformance suite, plus the
 * local-only rules: a symbolic link out of the root is refused, and a stray
 * temporary file (from a crash mid-write) is never listed.
 */

import { LocalStore, TEMP_MARKER } from "../../src/storage/local.ts";
import { listAll } from "../../src/storage/object_store.ts";
import { assert, assertEquals, assertRejects } from "../_helpers/assert.ts";
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

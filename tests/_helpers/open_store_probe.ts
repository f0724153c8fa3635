/**
 * Opens the store at `Deno.args[0]`, writes and reads one object, and prints
 * `ok <uri>`: run by tests/storage/lazy_s3_test.ts with a permission audit
 * log, to see which files opening a store reads.
 */

import { openStore } from "../../src/storage/open.ts";

const store = await openStore(Deno.args[0]!);
if (Deno.args[1] === "write") {
  await store.put("probe.txt", new TextEncoder().encode("probe"));
  const read = await store.get("probe.txt");
  if (new TextDecoder().decode(read!) !== "probe") throw new Error("read back something else");
}
console.log(`ok ${store.uri}`);

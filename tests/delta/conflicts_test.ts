import { checkConflicts } from "../../src/delta/conflicts.ts";
import { newIntent } from "../../src/delta/transaction.ts";
import { addAction, createActions, removeAction } from "../_helpers/log.ts";
import { assertEquals } from "../_helpers/assert.ts";

Deno.test("a blind append does not conflict with another append", () => {
  const intent = newIntent(3);
  assertEquals(checkConflicts(intent, [addAction("x.parquet")]).kind, "none");
});

Deno.test("a blind append does not conflict with a compaction", () => {
  const intent = newIntent(3);
  const compaction = [removeAction("a.parquet", 1, false), addAction("big.parquet", 2, false)];
  assertEquals(checkConflicts(intent, compaction).kind, "none");
});

Deno.test("a metadata or protocol change conflicts with an append", () => {
  const intent = newIntent(3);
  const [protocol, metadata] = createActions();
  const m = checkConflicts(intent, [metadata!]);
  assertEquals([m.kind, m.kind === "conflict" && m.rule], ["conflict", "metadataChanged"]);
  const p = checkConflicts(intent, [protocol!]);
  assertEquals([p.kind, p.kind === "conflict" && p.rule], ["conflict", "protocolChanged"]);
});

Deno.test("the same app id at an equal or higher version means already committed", () => {
  const intent = newIntent(3, { appTxns: [{ appId: "writer-1", version: 7 }] });
  assertEquals(
    checkConflicts(intent, [{ txn: { appId: "writer-1", version: 7 } }]).kind,
    "already-committed",
  );
  assertEquals(
    checkConflicts(intent, [{ txn: { appId: "writer-1", version: 9 } }]).kind,
    "already-committed",
  );
  assertEquals(checkConflicts(intent, [{ txn: { appId: "writer-2", version: 9 } }]).kind, "none");
});

Deno.test("the same app id committed concurrently at a lower version is a conflict", () => {
  // A Kafka partition's batch of offsets 5..7 read the marker at 4; another
  // consumer of the partition committed 5..6 meanwhile, so 5 and 6 would be
  // written twice.
  const intent = newIntent(3, { appTxns: [{ appId: "g:t:0", version: 7 }] });
  const verdict = checkConflicts(intent, [{ txn: { appId: "g:t:0", version: 6 } }]);
  assertEquals([verdict.kind, verdict.kind === "conflict" && verdict.rule], [
    "conflict",
    "appCommittedConcurrently",
  ]);
  assertEquals(checkConflicts(intent, [{ txn: { appId: "g:t:1", version: 6 } }]).kind, "none");
});

Deno.test("two compactions of the same file conflict", () => {
  const intent = newIntent(3, { readFiles: new Set(["a.parquet", "b.parquet"]) });
  const verdict = checkConflicts(intent, [removeAction("b.parquet", 1, false)]);
  assertEquals([verdict.kind, verdict.kind === "conflict" && verdict.rule], [
    "conflict",
    "removedFilesWeRead",
  ]);
  assertEquals(checkConflicts(intent, [removeAction("c.parquet", 1, false)]).kind, "none");
});

Deno.test("a winner that holds our txnId is our own commit", () => {
  const intent = newIntent(3);
  assertEquals(
    checkConflicts(intent, [{ commitInfo: { txnId: intent.txnId } }, addAction("x")]).kind,
    "ours",
  );
});

Deno.test("an overwrite conflicts with data added concurrently", () => {
  const intent = newIntent(3, { readWholeTable: true });
  assertEquals(checkConflicts(intent, [addAction("new.parquet")]).kind, "conflict");
  assertEquals(checkConflicts(intent, [addAction("compacted.parquet", 1, false)]).kind, "none");
});

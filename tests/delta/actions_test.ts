import { type Action, parseCommit, serializeActions } from "../../src/delta/actions.ts";
import { assert, assertEquals, assertThrows } from "../_helpers/assert.ts";

Deno.test("serializeActions() writes one JSON object per line with protocol field names", () => {
  const actions: Action[] = [
    { protocol: { minReaderVersion: 1, minWriterVersion: 2 } },
    {
      add: {
        path: "a=1/part-0.parquet",
        partitionValues: { a: "1" },
        size: 10,
        modificationTime: 5,
        dataChange: true,
        stats: '{"numRecords":1}',
      },
    },
    { txn: { appId: "writer-0", version: 3, lastUpdated: 9 } },
  ];
  const text = serializeActions(actions);
  const lines = text.trimEnd().split("\n");
  assertEquals(lines.length, 3);
  assertEquals(
    lines[1],
    '{"add":{"path":"a=1/part-0.parquet","partitionValues":{"a":"1"},"size":10,"modificationTime":5,"dataChange":true,"stats":"{\\"numRecords\\":1}"}}',
  );
  assertEquals(parseCommit(text, "x.json"), actions);
});

Deno.test("parseCommit() ignores unknown action kinds and unknown fields", () => {
  const actions = parseCommit(
    '{"futureAction":{"version":1}}\n{"txn":{"appId":"a","version":1,"extra":true}}\n\n',
    "00000000000000000001.json",
  );
  assertEquals(actions.length, 1);
  assert("txn" in actions[0]!);
});

Deno.test("parseCommit() fills defaults that old writers left out", () => {
  const [action] = parseCommit(
    '{"add":{"path":"p.parquet","size":1,"modificationTime":2}}',
    "x.json",
  );
  assert(action && "add" in action);
  assertEquals(action.add.partitionValues, {});
  assertEquals(action.add.dataChange, true);
});

Deno.test("parseCommit() names the file and line of a line that is not JSON", () => {
  assertThrows(
    () => parseCommit('{"txn":{"appId":"a","version":1}}\n{oops\n', "00000000000000000007.json"),
    "Cannot parse 00000000000000000007.json: line 2 is not JSON",
  );
});

Deno.test("parseCommit() names the field of an action with the wrong shape", () => {
  assertThrows(
    () => parseCommit('{"add":{"path":"p","size":"big","modificationTime":1}}', "v.json"),
    'v.json: line 1: field "size" must be a number',
  );
});

import {
  alreadyCommitted,
  isStale,
  partitionAppId,
  resumeOffset,
  startOffsets,
} from "../../src/roles/kafka_offsets.ts";
import { deadLetterBatch, lettersToWrite } from "../../src/sources/dead_letter.ts";
import { assertEquals } from "../_helpers/assert.ts";

Deno.test("a partition resumes after its txn marker, or from the earliest without one", () => {
  assertEquals(partitionAppId("lab", "rigs", 3), "lab:rigs:3");
  assertEquals(resumeOffset(41), 42n);
  assertEquals(resumeOffset(undefined), undefined);
  const markers = new Map([[0, 9], [1, undefined], [2, 5]]);
  assertEquals(
    startOffsets([0, 1, 2, 3], markers, new Map([[2, 8n]])),
    new Map([[0, 10n], [1, undefined], [2, 8n], [3, undefined]]),
  );
});

Deno.test("a buffer is stale when the table's marker moved from the one it followed", () => {
  assertEquals(isStale(4, 4), false);
  assertEquals(isStale(undefined, undefined), false);
  assertEquals(isStale(4, 7), true);
  assertEquals(isStale(undefined, 2), true);
  assertEquals(alreadyCommitted(4n, 4), true);
  assertEquals(alreadyCommitted(5n, 4), false);
  assertEquals(alreadyCommitted(0n, undefined), false);
});

Deno.test("dead letters after the dead-letter marker are written, as rows of its columns", () => {
  const letter = (offset: bigint) => ({
    topic: "t",
    partition: 2,
    offset,
    timestamp: offset === 3n ? undefined : 1_000n,
    key: offset === 3n ? new Uint8Array([7]) : null,
    value: new Uint8Array([1, 2]),
    error: `bad ${offset}`,
  });
  const letters = [letter(3n), letter(5n), letter(8n)];
  assertEquals(lettersToWrite(letters, 5).map((l) => l.offset), [8n]);
  assertEquals(lettersToWrite(letters, undefined).length, 3);
  const batch = deadLetterBatch(letters, 2_000);
  assertEquals(batch.length, 3);
  assertEquals([...(batch.columns[2]!.values as BigInt64Array)], [3n, 5n, 8n]);
  assertEquals([...batch.columns[3]!.nulls!], [1, 0, 0]);
  assertEquals((batch.columns[3]!.values as BigInt64Array)[1], 1_000_000n);
  assertEquals([...batch.columns[4]!.nulls!], [0, 1, 1]);
  assertEquals(batch.columns[6]!.values, ["bad 3", "bad 5", "bad 8"]);
});

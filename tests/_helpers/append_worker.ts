/**
 * A separate OS process that appends to one table: `deno run -A
 * append_worker.ts <table-uri> <writer-id> <appends> <rows-per-append>`.
 * Each append is one commit of rows (writer, seq, i) and a txn marker, so
 * the parent test can check that every row is present exactly once. S3
 * settings come from the AWS_* environment, as for the command line.
 */

import type { Field } from "../../src/columnar/batch.ts";
import { openTable } from "../../src/ops/table.ts";
import { writeTable } from "../../src/ops/write.ts";
import { batchOf, sourceOf } from "./batches.ts";

/** The columns the workers write. */
export const WORKER_FIELDS: Field[] = [
  { name: "writer", type: "string", nullable: false },
  { name: "seq", type: "long", nullable: false },
  { name: "i", type: "integer", nullable: false },
];

if (import.meta.main) {
  const [uri, writer, appendsText, rowsText] = Deno.args;
  const table = await openTable(uri!);
  const appends = Number(appendsText);
  const rows = Number(rowsText ?? "10");
  for (let seq = 0; seq < appends; seq++) {
    const batch = batchOf(
      WORKER_FIELDS,
      Array.from({ length: rows }, (_, i) => ({ writer: writer!, seq: BigInt(seq), i })),
    );
    // Checkpoints every 100 versions (as any writer of the table would) keep
    // each append's snapshot load short, whatever the number of commits. A
    // write that gives up under heavy contention commits nothing and says so;
    // a client runs it again with the same txn marker, which can never
    // duplicate it.
    for (let attempt = 1;; attempt++) {
      try {
        const result = await writeTable(table, sourceOf(batch), {
          appTxn: { appId: writer!, version: seq },
        });
        if (result.alreadyCommitted) throw new Error(`${writer} seq ${seq} was already committed`);
        break;
      } catch (error) {
        const message = (error as Error).message;
        if (attempt >= 5 || !message.includes("Nothing was committed")) throw error;
        console.error(`${writer} seq ${seq}: ${message}; running it again`);
      }
    }
  }
}

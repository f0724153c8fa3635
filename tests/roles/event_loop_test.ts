/**
 * Loops that append to a local table let their event loop run between
 * batches. A local store made under `synchronousFlushesForTesting` writes, links and
 * flushes small files with synchronous calls, so a batch can go from its
 * rows to its commit without one asynchronous step; a loop of such batches that never yields
 * would never hear its stop request (a worker message, a signal, a timer),
 * nor the commit feed. Each test stops the loop from a timer and checks
 * that it stops within a batch or two.
 */

import { schemaFromFields } from "../../src/delta/schema.ts";
import type { Field } from "../../src/columnar/batch.ts";
import { createTable } from "../../src/ops/create.ts";
import { tableOfStore } from "../../src/ops/table.ts";
import { resolveConfig } from "../../src/roles/config.ts";
import { runIngest } from "../../src/roles/ingest.ts";
import type { RoleSpec } from "../../src/roles/messages.ts";
import { ChannelState } from "../../src/roles/run_role.ts";
import { runWriter } from "../../src/roles/writer.ts";
import { LocalStore, synchronousFlushesForTesting } from "../../src/storage/local.ts";
import { assert } from "../_helpers/assert.ts";
import { FakeConsumer, FakeTopic } from "../_helpers/fake_consumer.ts";

/** Batches a loop may append after its stop was set before the test calls it deaf. */
const DEAF_AFTER = 40;

Deno.test("a writer whose store flushes synchronously hears a stop request set by a timer within a batch", async () => {
  const dir = await Deno.makeTempDir({ prefix: "neuralake-event-loop-" });
  // The role opens its own store: no asynchronous call in a batch.
  const previous = synchronousFlushesForTesting(true);
  try {
    const config = {
      ...resolveConfig({}),
      table: `${dir}/t`,
      batchRows: 50,
      batchIntervalMs: 0,
      rate: 0,
      writers: 1,
    };
    const state = new ChannelState();
    let acked = 0;
    let ackedAtStop: number | undefined;
    const channel = state.channel((report) => {
      if (report.type !== "acked") return;
      if (++acked === 1) {
        // As a stop reaches a role: from its event loop.
        setTimeout(() => {
          ackedAtStop = acked;
          state.requestStop();
        }, 0);
      }
      if (acked > DEAF_AFTER) {
        throw new Error(`The writer appended ${DEAF_AFTER} batches without a timer due running`);
      }
    }, () => {
      throw new Error("the writer died");
    });
    const spec: RoleSpec = {
      kind: "writer",
      id: "writer-0",
      config,
      sessionId: "s",
      runStartMs: Date.now(),
    };
    await runWriter(spec, channel);
    assert(ackedAtStop !== undefined, "the stop timer ran");
    assert(
      acked - ackedAtStop <= 1,
      `the writer appended ${acked - ackedAtStop} batches after its stop was requested`,
    );
  } finally {
    synchronousFlushesForTesting(previous);
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("Kafka ingest into local disk hears its stop signal set by a timer within a batch or two", async () => {
  const dir = await Deno.makeTempDir({ prefix: "neuralake-event-loop-" });
  try {
    const fields: Field[] = [{ name: "id", type: "long", nullable: false }];
    // No asynchronous call in a batch.
    const previous = synchronousFlushesForTesting(true);
    const table = tableOfStore(new LocalStore(`${dir}/t`));
    synchronousFlushesForTesting(previous);
    await createTable(table, { schema: schemaFromFields(fields) });
    const topic = new FakeTopic(1);
    const total = 3 * (DEAF_AFTER + 10);
    for (let i = 0; i < total; i++) topic.produce(0, JSON.stringify({ id: i }));
    // Three messages per poll, all already in the consumer's hands: no poll waits.
    const consumer = new FakeConsumer(topic, [0], 3);
    const stop = new AbortController();
    let commits = 0;
    let commitsAtStop: number | undefined;
    const summary = await runIngest(consumer, {
      table,
      topic: "t",
      group: "g",
      batchRows: 3,
      batchIntervalMs: 60_000,
      signal: stop.signal,
      id: "ingest-test",
      onEvent: (event) => {
        if (event.event !== "batch_committed") return;
        if (commits++ === 0) {
          setTimeout(() => {
            commitsAtStop = commits;
            stop.abort();
          }, 0);
        }
      },
    });
    assert(commitsAtStop !== undefined, "the stop timer ran");
    assert(summary.messages < total, `ingest read all ${total} messages: it never heard the stop`);
    assert(
      commits - commitsAtStop <= 2,
      `ingest committed ${commits - commitsAtStop} batches after its stop was signalled`,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

/**
 * The ingest role of `neuralake stream --source kafka`: one member of the
 * run's consumer group, running `runIngest` (ingest.ts) on the run's table
 * through the role's store (chaos faults, retries and phase points, as the
 * writers have), reporting its events to the orchestrator.
 *
 * Invariants:
 * - Exactly once is the table's: a restarted role (after a kill) joins the
 *   group again and reads each assigned partition from the offset after its
 *   `txn` marker, whatever Kafka's committed offsets say.
 * - Asked to stop, it commits what is buffered, then leaves the group.
 * - With the run's --until-idle, once its partitions were idle that long it
 *   commits what it holds, leaves the group, reports `idle` and waits to be
 *   stopped, so that the orchestrator ends the run when every role is idle.
 * - Kafka unreachable past the run's broker timeout (--broker-timeout, 5 min
 *   by default with --until-idle): it commits what it holds, reports `halt`
 *   and waits to be stopped; the orchestrator ends the run, not clean.
 *   Outages are logged by `runIngest`, throttled (kafka_outage.ts).
 * - With the run's --dead-letter table, a message that does not fit the
 *   table goes there with its offset instead of failing the role. Without
 *   one, it halts the run the same way, naming topic, partition and offset:
 *   a restarted role would read the same message again and fail forever.
 */

import { log } from "../util/log.ts";
import { openTable } from "../ops/table.ts";
import { BadMessageError, runIngest } from "./ingest.ts";
import { brokerTimeoutFor, BrokerUnreachableError } from "./kafka_outage.ts";
import { joinGroup } from "./kafka_consumer.ts";
import { roleTable } from "./chaos_store.ts";
import type { EventFields, RoleChannel, RoleSpec } from "./messages.ts";
import { ensureStreamTable } from "./table_setup.ts";
import { codecOf } from "./config_keys.ts";

/** Runs one ingest role until it is asked to stop. */
export async function runIngestRole(spec: RoleSpec, channel: RoleChannel): Promise<void> {
  const { config, id } = spec;
  const { brokers, topic, group, untilIdleMs, brokerTimeoutMs, deadLetter } = config.kafka;
  let lastOffset = -1;
  const table = await roleTable(spec, channel, () => lastOffset);
  await ensureStreamTable(table, config);
  const stop = new AbortController();
  channel.stopRequested.then(() => stop.abort());
  const logger = log("ingest");
  const consumer = await joinGroup({
    brokers,
    topic,
    group,
    maxWaitMs: Math.min(500, config.batchIntervalMs),
    clientId: `neuralake-${id}`,
    // Static membership: the orchestrator restarts a killed role under the
    // same id, which takes the dead member's place at once instead of
    // stalling the group until its session expires. Unique per run and host.
    groupInstanceId: `${Deno.hostname()}-${spec.sessionId}-${id}`,
    // runIngest reports outages, at most every few seconds (kafka_outage.ts).
    onError: (error) => logger.debug("{error}; waiting for Kafka", { error: error.message }),
  });
  // Up: a role assigned no partition may report nothing else, and chaos waits for every role.
  channel.send({ type: "ready", id });
  let summary;
  try {
    summary = await runIngest(consumer, {
      table,
      deadLetter: deadLetter ? await openTable(deadLetter) : undefined,
      topic,
      group,
      batchRows: config.batchRows,
      batchIntervalMs: config.batchIntervalMs,
      encode: { codec: codecOf(config.codec) },
      untilIdleMs: untilIdleMs > 0 ? untilIdleMs : undefined,
      brokerTimeoutMs: brokerTimeoutFor(brokerTimeoutMs, untilIdleMs),
      signal: stop.signal,
      id,
      onEvent: (event) => {
        if (event.event === "batch_committed" && event.batch_seq !== undefined) {
          lastOffset = Number(event.batch_seq);
        }
        channel.send({ type: "event", at: Date.now(), event: fenced(event) });
      },
    });
  } catch (error) {
    const check = error instanceof BrokerUnreachableError
      ? "kafka_broker_reachable"
      : error instanceof BadMessageError
      ? "kafka_messages_fit"
      : undefined;
    if (check === undefined) throw error;
    // Restarting would only meet the same wall: the run ends, saying why.
    channel.send({ type: "halt", id, check, message: (error as Error).message });
    await channel.stopRequested;
    channel.send({ type: "stopped", id });
    return;
  }
  if (summary.stopped === "idle") {
    channel.send({ type: "idle", id });
    await channel.stopRequested;
  }
  channel.send({ type: "stopped", id });
}

/**
 * A batch dropped because another member committed its partition first (a
 * rebalance, or a restarted member taking over) loses nothing: its messages
 * are read again from the table's marker. It is reported as not
 * acknowledged, not as failed, so that the fencing a rebalance needs does
 * not make a run unclean; any other dropped batch stays a failure.
 */
export function fenced(event: EventFields): EventFields {
  const detail = event.detail ?? "";
  // The reasons of a stale marker found before the commit, and of the two
  // conflict rules on markers (delta/conflicts.ts) when a winner moved it.
  const stale = detail === "another consumer committed it" ||
    /^application ".*" (already committed version \d+|committed version \d+ concurrently)/
      .test(detail);
  if (event.event !== "batch_failed" || !stale) return event;
  return {
    ...event,
    event: "batch_unacknowledged",
    detail: `dropped, read again from the table's marker: ${detail}`,
  };
}

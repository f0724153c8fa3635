/**
 * The Kafka seam: every use of Apache Kafka in neuralake (the `ingest` role,
 * `produce`, the benchmarks) goes through this file, which wraps
 * `@platformatic/kafka` (pure TypeScript, consumer groups, offsets).
 *
 * - `createTopic`, `partitionCount`, `endOffsets`: admin and metadata.
 * - `KafkaProducer`: sends keyed messages and waits for the broker's acks.
 * - `KafkaGroupConsumer`: a member of a consumer group whose position in
 *   each partition is decided by the caller. The library keeps the group
 *   membership (join, sync, heartbeats, rejoin after a rebalance or a lost
 *   session); this file runs the fetch loop itself, so that
 *   - on every assignment (each new group generation) the caller's
 *     `onAssignment` says where each partition starts, and nothing fetched
 *     before it is ever returned after it;
 *   - `seek` moves a partition at any time, dropping whatever was fetched
 *     for it from the old position;
 *   - offsets are committed to Kafka only when the caller says so
 *     (`commit`), never automatically.
 *
 * Invariants:
 * - `poll` returns each partition's messages in offset order, without gaps
 *   other than those of the log itself (compacted or transactional control
 *   records), starting at the partition's position, and advances the
 *   position past them.
 * - A broker that is down or restarting is waited for: `poll` reports the
 *   problem through `onError` and returns no messages until the broker
 *   answers again; the group is rejoined if the session was lost. Only
 *   errors that cannot pass by themselves (a wrong argument, a closed
 *   consumer) reject. `outage()` tells such an empty poll from one that
 *   reached the broker and found nothing: "no messages" is never taken for
 *   "the partitions are idle" while the broker cannot be reached.
 */

import {
  Admin,
  type ClusterMetadata,
  compatibilityPartitioner,
  Consumer,
  findErrorBy,
  GenericError,
  IS_CONTROL,
  type MessageToProduce,
  ProduceAcks,
  Producer,
  type ProduceResult,
} from "@platformatic/kafka";
import { Buffer } from "node:buffer";
import { backoffDelay, sleep } from "../util/backoff.ts";

/** Where the brokers are and who is asking. */
export interface KafkaClientOptions {
  /** Bootstrap brokers, `host:port` each. */
  brokers: string[];
  /** The client id the broker logs. @default "neuralake" */
  clientId?: string;
}

/** One partition of one topic. */
export interface TopicPartition {
  topic: string;
  partition: number;
}

/** A partition and an offset in it (for positions: the next offset to read). */
export interface PartitionOffset extends TopicPartition {
  offset: bigint;
}

/** A message read from a partition. */
export interface KafkaMessage {
  topic: string;
  partition: number;
  offset: bigint;
  key: Uint8Array | null;
  value: Uint8Array | null;
  /** The record's timestamp (the producer's create time), ms since the epoch. */
  timestamp: number;
}

/** The messages that one `poll` read from one partition, in offset order. */
export interface PartitionMessages extends TopicPartition {
  messages: KafkaMessage[];
  /** The partition's high watermark when fetched: its lag is `highWatermark - nextOffset`. */
  highWatermark: bigint;
  /** The partition's position after these messages: the next offset to read. */
  nextOffset: bigint;
}

/** A message to send. A string key or value is sent as UTF-8. */
export interface OutgoingMessage {
  topic: string;
  key?: Uint8Array | string;
  value: Uint8Array | string;
  /** A fixed partition; without one, the key's murmur2 hash picks it (as Java clients do). */
  partition?: number;
  /** The record's timestamp, ms since the epoch. @default Date.now() */
  timestamp?: number;
}

const DEFAULT_CLIENT_ID = "neuralake";

function asBuffer(bytes?: Uint8Array): Buffer | undefined {
  return bytes === undefined
    ? undefined
    : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

function bootstrap(options: KafkaClientOptions): { clientId: string; bootstrapBrokers: string[] } {
  if (options.brokers.length === 0) {
    throw new TypeError("Kafka needs at least one broker: pass --brokers host:port");
  }
  for (const broker of options.brokers) {
    if (!/^[^\s:]+:\d+$/.test(broker)) {
      throw new TypeError(`Kafka broker "${broker}" is not host:port`);
    }
  }
  return { clientId: options.clientId ?? DEFAULT_CLIENT_ID, bootstrapBrokers: options.brokers };
}

/** A library error's message with its nested causes, for a one-line report. */
export function describeKafkaError(error: unknown): string {
  const parts: string[] = [];
  const visit = (e: unknown, depth: number) => {
    if (depth > 8) return;
    let text = e instanceof Error ? e.message : String(e);
    // The library's aggregate errors repeat their inner errors' messages
    // after their own first sentence: keep that sentence, then the inner
    // ones once each.
    if (e instanceof AggregateError && e.errors.length > 0) text = text.split(/\.(?:\s|$)/, 1)[0]!;
    text = text.trim().replace(/\.+$/, "");
    if (text.length > 0 && !parts.includes(text)) parts.push(text);
    if (e instanceof AggregateError) {
      for (const inner of e.errors) visit(inner, depth + 1);
    } else if (e instanceof Error && e.cause !== undefined) visit(e.cause, depth + 1);
  };
  visit(error, 0);
  return parts.join(": ");
}

/** Whether an error is the library's complaint about how it was called, which no retry cures. */
function isUsageError(error: unknown): boolean {
  return error instanceof GenericError && error.code === "PLT_KFK_USER";
}

/**
 * A partition's position lies outside its log: before the first offset
 * retention kept, or past the end (a topic deleted and made again). Not
 * waited out: the caller decides where to go (`seek`).
 */
export class KafkaOffsetOutOfRangeError extends Error {
  constructor(
    readonly topic: string,
    readonly partition: number,
    readonly offset: bigint,
    readonly logStartOffset: bigint,
    readonly highWatermark: bigint,
  ) {
    super(
      `Kafka topic ${topic} partition ${partition} has no offset ${offset}: its log holds ` +
        `offsets ${logStartOffset} to ${highWatermark - 1n}`,
    );
    this.name = "KafkaOffsetOutOfRangeError";
  }
}

/** The out-of-range error a fetch failed with, if that is why it failed. */
function outOfRange(
  error: unknown,
  topics: Map<string, { topic: string; partitions: number[] }>,
  positions: Map<string, Position>,
): KafkaOffsetOutOfRangeError | undefined {
  if (!findErrorBy(error as Error, "apiId", "OFFSET_OUT_OF_RANGE")) return undefined;
  const response = (error as { response?: FetchResponse }).response;
  for (const t of response?.responses ?? []) {
    const topic = topics.get(t.topicId)?.topic;
    if (topic === undefined) continue;
    for (const p of t.partitions) {
      if (p.errorCode !== OFFSET_OUT_OF_RANGE) continue;
      const offset = positions.get(key(topic, p.partitionIndex))?.offset ?? -1n;
      return new KafkaOffsetOutOfRangeError(
        topic,
        p.partitionIndex,
        offset,
        p.logStartOffset,
        p.highWatermark,
      );
    }
  }
  return undefined;
}

/** The part of a fetch response that says why partitions failed. */
interface FetchResponse {
  responses: {
    topicId: string;
    partitions: {
      partitionIndex: number;
      errorCode: number;
      logStartOffset: bigint;
      highWatermark: bigint;
    }[];
  }[];
}

/** Kafka's error code for a fetch offset outside the log. */
const OFFSET_OUT_OF_RANGE = 1;

/** Options of `createTopic`. */
export interface CreateTopicOptions extends KafkaClientOptions {
  topic: string;
  /** @default 1 */
  partitions?: number;
  /** @default 1 */
  replicas?: number;
  /** Topic configuration, e.g. `{ "retention.ms": "-1" }`. */
  configs?: Record<string, string>;
}

/**
 * Creates a topic with `partitions` partitions. Resolves `"exists"` when it
 * was already there (with whatever partitions it has), `"created"` otherwise,
 * once the broker serves metadata for every partition.
 */
export async function createTopic(options: CreateTopicOptions): Promise<"created" | "exists"> {
  const partitions = options.partitions ?? 1;
  if (!Number.isInteger(partitions) || partitions < 1) {
    throw new RangeError(`A topic needs at least 1 partition, got ${partitions}`);
  }
  const admin = new Admin({ ...bootstrap(options) });
  try {
    try {
      await admin.createTopics({
        topics: [options.topic],
        partitions,
        replicas: options.replicas ?? 1,
        configs: Object.entries(options.configs ?? {}).map(([name, value]) => ({ name, value })),
      });
    } catch (error) {
      if (findErrorBy(error as Error, "apiId", "TOPIC_ALREADY_EXISTS")) {
        return "exists";
      }
      throw new Error(`Cannot create Kafka topic ${options.topic}: ${describeKafkaError(error)}`, {
        cause: error,
      });
    }
    // The controller answers before every partition has a leader.
    for (let attempt = 0;; attempt++) {
      const metadata = await admin.metadata({ topics: [options.topic], forceUpdate: true });
      const topic = metadata.topics.get(options.topic);
      if (
        topic && topic.partitionsCount === partitions &&
        topic.partitions.every((p) => p.leader >= 0)
      ) {
        return "created";
      }
      if (attempt >= 100) {
        throw new Error(
          `Kafka topic ${options.topic} was created but its partitions have no leader after 10 s`,
        );
      }
      await sleep(100);
    }
  } finally {
    await admin.close();
  }
}

/** The number of partitions of a topic, or 0 when it does not exist. */
export async function partitionCount(options: KafkaClientOptions, topic: string): Promise<number> {
  const admin = new Admin({ ...bootstrap(options) });
  try {
    if (!(await admin.listTopics()).includes(topic)) return 0;
    const metadata = await admin.metadata({ topics: [topic] });
    return metadata.topics.get(topic)?.partitionsCount ?? 0;
  } catch (error) {
    throw new Error(`Cannot read Kafka metadata of topic ${topic}: ${describeKafkaError(error)}`, {
      cause: error,
    });
  } finally {
    await admin.close();
  }
}

/** Each partition's end offset (high watermark: the offset the next message will get). */
export function endOffsets(options: KafkaClientOptions, topic: string): Promise<bigint[]> {
  return logOffsets(options, topic, "end");
}

/**
 * Each partition's start offset: the first offset its log still holds (0
 * until retention or deletion removed older messages).
 */
export function startOffsets(options: KafkaClientOptions, topic: string): Promise<bigint[]> {
  return logOffsets(options, topic, "start");
}

async function logOffsets(
  options: KafkaClientOptions,
  topic: string,
  which: "start" | "end",
): Promise<bigint[]> {
  const consumer = new Consumer({
    ...bootstrap(options),
    groupId: `${DEFAULT_CLIENT_ID}-metadata`,
  });
  try {
    // ListOffsets' timestamps -2 and -1 ask for the earliest and the latest offset.
    const offsets = await consumer.listOffsets({
      topics: [topic],
      timestamp: which === "start" ? -2n : -1n,
    });
    return offsets.get(topic) ?? [];
  } catch (error) {
    throw new Error(
      `Cannot read the ${which} offsets of Kafka topic ${topic}: ${describeKafkaError(error)}`,
      { cause: error },
    );
  } finally {
    await consumer.close();
  }
}

/** Options of a `KafkaProducer`. */
export interface KafkaProducerOptions extends KafkaClientOptions {
  /** Which replicas must have a message before `send` resolves. @default "all" */
  acks?: "all" | "leader";
  /** Batch compression. @default "none" */
  compression?: "none" | "snappy" | "lz4" | "zstd" | "gzip";
}

/** Sends messages; `send` resolves once the broker has acknowledged all of them. */
export class KafkaProducer {
  readonly #producer: Producer<Uint8Array, Uint8Array, string, string>;
  readonly #acks: number;
  readonly #encoder = new TextEncoder();

  constructor(options: KafkaProducerOptions) {
    this.#acks = options.acks === "leader" ? ProduceAcks.LEADER : ProduceAcks.ALL;
    this.#producer = new Producer({
      ...bootstrap(options),
      acks: this.#acks,
      compression: options.compression ?? "none",
      autocreateTopics: false,
      // Retries resend whole requests (a partial failure included): the
      // broker drops the copies only for an idempotent producer.
      idempotent: this.#acks === ProduceAcks.ALL,
      retries: 5,
      // Keyed messages go where Java clients would put them (murmur2 of the key).
      partitioner: compatibilityPartitioner,
      // Views, not copies: the partitioner hashes only Buffers.
      serializers: { key: asBuffer, value: asBuffer },
    });
  }

  /**
   * Sends `messages` (to any topics and partitions) and resolves with the
   * offset of each message's batch per partition once acknowledged.
   */
  async send(messages: OutgoingMessage[]): Promise<PartitionOffset[]> {
    if (messages.length === 0) return [];
    const encoded = messages.map((m) => {
      const out: MessageToProduce<Uint8Array, Uint8Array, string, string> = {
        topic: m.topic,
        value: typeof m.value === "string" ? this.#encoder.encode(m.value) : m.value,
        timestamp: BigInt(m.timestamp ?? Date.now()),
      };
      if (m.key !== undefined) {
        out.key = typeof m.key === "string" ? this.#encoder.encode(m.key) : m.key;
      }
      if (m.partition !== undefined) out.partition = m.partition;
      return out;
    });
    try {
      const result: ProduceResult = await this.#producer.send({
        messages: encoded,
        acks: this.#acks,
      });
      return result.offsets ?? [];
    } catch (error) {
      throw new Error(
        `Sending ${messages.length} Kafka message(s) to ${messages[0]!.topic} failed: ${
          describeKafkaError(error)
        }`,
        { cause: error },
      );
    }
  }

  /** Closes the connections. */
  async close(): Promise<void> {
    await this.#producer.close();
  }
}

/** What changed at a group generation, as `onAssignment` receives it. */
export interface AssignmentChange {
  /** The group generation that made this assignment. */
  generation: number;
  /** Every partition this member owns from now on (not only the new ones). */
  assigned: TopicPartition[];
  /** Partitions this member owned before and no longer owns. */
  revoked: TopicPartition[];
}

/** A broker that could not be reached: since when, and the latest error. */
export interface BrokerOutage {
  /** The epoch time (ms) of the first failed poll in a row. */
  since: number;
  /** The latest failure, for people. */
  error: string;
}

/** Options of a `KafkaGroupConsumer`. */
export interface KafkaGroupConsumerOptions extends KafkaClientOptions {
  /** The consumer group. */
  groupId: string;
  /** The topics to subscribe to. */
  topics: string[];
  /**
   * Called once per group generation, before `poll` returns any message of
   * it, with the partitions now owned; returns where partitions start (the
   * next offset to read). A partition it does not position starts at the
   * group's committed offset in Kafka, else at `startFrom`. Messages fetched
   * before the call are dropped, including those of partitions kept across
   * the rebalance: whatever the caller had buffered but not stored for any
   * partition should be discarded, or stored before, by the caller.
   */
  onAssignment?: (
    change: AssignmentChange,
  ) => Promise<PartitionOffset[] | void> | PartitionOffset[] | void;
  /** Where a partition with no position and no committed offset starts. @default "earliest" */
  startFrom?: "earliest" | "latest";
  /** Transient problems that the consumer waits out (broker down, session lost). */
  onError?: (error: Error) => void;
  /** The group session timeout: a member silent this long loses its partitions. @default 10000 */
  sessionTimeoutMs?: number;
  /**
   * A static member id (Kafka's group.instance.id): a member restarted with
   * the same id takes its place back without a rebalance, instead of waiting
   * for the dead one's session to expire. Unique among live members.
   */
  groupInstanceId?: string;
  /** @default 1000 */
  heartbeatIntervalMs?: number;
  /** How long the group waits for members to rejoin in a rebalance. @default 20000 */
  rebalanceTimeoutMs?: number;
  /** The longest a fetch waits for data. @default 500 */
  maxWaitMs?: number;
  /** The most bytes one fetch returns. @default 33554432 (32 MiB) */
  maxBytes?: number;
  /** The most bytes one fetch returns per partition. @default 8388608 (8 MiB) */
  maxBytesPerPartition?: number;
}

interface Position {
  /** The next offset to fetch. */
  offset: bigint;
  /** Bumped by every seek, so a fetch answered after it is dropped. */
  epoch: number;
}

const key = (topic: string, partition: number) => `${topic}\u0000${partition}`;

/**
 * A consumer-group member with positions controlled by its caller (see the
 * file's header). Use: `const c = await KafkaGroupConsumer.join(options)`,
 * then `await c.poll()` in a loop, `c.commit(...)` after storing what it
 * returned, and `await c.close()` to leave the group.
 */
export class KafkaGroupConsumer {
  readonly #consumer: Consumer;
  readonly #options: KafkaGroupConsumerOptions;
  /** Positions of the partitions owned in the applied generation. */
  readonly #positions = new Map<string, Position>();
  #owned: TopicPartition[] = [];
  /** The generation whose assignment `onAssignment` has seen. */
  #appliedGeneration = -1;
  /** The latest assignment the group made, not yet applied when its generation differs. */
  #pending: { generation: number; assigned: TopicPartition[] } | undefined;
  #needsRejoin = false;
  #failures = 0;
  #outage: BrokerOutage | undefined;
  #closed = false;
  #seekEpoch = 0;

  private constructor(options: KafkaGroupConsumerOptions) {
    this.#options = options;
    const sessionTimeout = options.sessionTimeoutMs ?? 10_000;
    this.#consumer = new Consumer({
      ...bootstrap(options),
      groupId: options.groupId,
      autocommit: false,
      sessionTimeout,
      heartbeatInterval: options.heartbeatIntervalMs ?? 1_000,
      rebalanceTimeout: options.rebalanceTimeoutMs ?? 20_000,
      ...(options.groupInstanceId ? { groupInstanceId: options.groupInstanceId } : {}),
      maxWaitTime: options.maxWaitMs ?? 500,
      maxBytes: options.maxBytes ?? 32 * 1024 * 1024,
      maxBytesPerPartition: options.maxBytesPerPartition ?? 8 * 1024 * 1024,
      retries: 3,
      retryDelay: 500,
      // A restarted broker must not cost a member its partitions for good.
      heartbeatStallTimeout: sessionTimeout * 3,
    });
    this.#consumer.on("consumer:group:join", (payload) => {
      this.#needsRejoin = false;
      const assigned: TopicPartition[] = [];
      for (const a of payload.assignments ?? []) {
        for (const partition of a.partitions) assigned.push({ topic: a.topic, partition });
      }
      assigned.sort((a, b) =>
        a.topic < b.topic ? -1 : a.topic > b.topic ? 1 : a.partition - b.partition
      );
      this.#pending = { generation: payload.generationId ?? 0, assigned };
    });
    // A failed rejoin stops the library's heartbeats; `poll` joins again.
    this.#consumer.on("error", (error: Error) => {
      this.#needsRejoin = true;
      options.onError?.(
        new Error(`Kafka group ${options.groupId}: ${describeKafkaError(error)}`, { cause: error }),
      );
    });
  }

  /** Joins the group, subscribed to `options.topics`; resolves once a first assignment arrived. */
  static async join(options: KafkaGroupConsumerOptions): Promise<KafkaGroupConsumer> {
    if (options.topics.length === 0) {
      throw new TypeError("A Kafka consumer needs at least one topic");
    }
    if (!options.groupId) throw new TypeError("A Kafka consumer group needs a non-empty group id");
    const consumer = new KafkaGroupConsumer(options);
    for (const topic of options.topics) consumer.#consumer.topics.track(topic);
    try {
      await consumer.#consumer.joinGroup({});
    } catch (error) {
      await consumer.#consumer.close(true).catch(() => {});
      throw new Error(
        `Cannot join Kafka consumer group ${options.groupId} on ${options.brokers.join(",")}: ${
          describeKafkaError(error)
        }`,
        { cause: error },
      );
    }
    return consumer;
  }

  /** The partitions owned, as of the last applied assignment. */
  assignment(): TopicPartition[] {
    return this.#owned.map((tp) => ({ ...tp }));
  }

  /** The group generation of the last applied assignment. */
  get generation(): number {
    return this.#appliedGeneration;
  }

  /** The next offset `poll` reads from a partition, if this member owns it. */
  position(topic: string, partition: number): bigint | undefined {
    return this.#positions.get(key(topic, partition))?.offset;
  }

  /**
   * Moves an owned partition: `poll` reads from `offset` next, and drops
   * anything fetched from the old position.
   */
  seek(topic: string, partition: number, offset: bigint): void {
    const position = this.#positions.get(key(topic, partition));
    if (!position) {
      throw new RangeError(`Cannot seek ${topic}[${partition}]: this consumer does not own it`);
    }
    position.offset = offset;
    position.epoch = ++this.#seekEpoch;
  }

  /**
   * Reads what the owned partitions have from their positions: waits up to
   * `maxWaitMs` for data, and returns the partitions that had any. Applies a
   * new assignment first when the group made one (see `onAssignment`).
   * Returns no messages while the broker cannot be reached.
   */
  async poll(signal?: AbortSignal): Promise<PartitionMessages[]> {
    this.#checkOpen();
    try {
      if (this.#needsRejoin) {
        await this.#consumer.joinGroup({});
        this.#needsRejoin = false;
      }
      if (this.#pending && this.#pending.generation !== this.#appliedGeneration) {
        await this.#applyAssignment(this.#pending);
      }
      if (this.#owned.length === 0) {
        // The group answered (a join, or heartbeats that raise no error).
        this.#outage = undefined;
        await sleep(this.#options.maxWaitMs ?? 500, signal).catch(() => {});
        return [];
      }
      const out = await this.#fetch();
      this.#failures = 0;
      this.#outage = undefined;
      return out;
    } catch (error) {
      if (this.#closed || isUsageError(error) || error instanceof KafkaOffsetOutOfRangeError) {
        throw error;
      }
      const described = describeKafkaError(error);
      this.#outage = { since: this.#outage?.since ?? Date.now(), error: described };
      this.#options.onError?.(
        new Error(`Kafka consumer of group ${this.#options.groupId}: ${described}`, {
          cause: error,
        }),
      );
      // The session may be gone with the broker: rejoin once it answers.
      if (!this.#consumer.isActive()) this.#needsRejoin = true;
      await sleep(backoffDelay(this.#failures++, { baseMs: 200, maxMs: 2_000 }) + 100, signal)
        .catch(() => {});
      return [];
    }
  }

  /**
   * Whether the last `poll` failed to reach the broker (and since when), or
   * undefined once a poll got an answer: an empty poll during an outage is
   * not an idle topic.
   */
  outage(): BrokerOutage | undefined {
    return this.#outage && { ...this.#outage };
  }

  /**
   * Commits offsets to the group (each the next offset to read, as Kafka
   * counts). Kafka's committed offsets are informational here (lag
   * monitoring, and the start of a partition `onAssignment` leaves alone);
   * a commit that fails because the group is rebalancing rejects, and the
   * next one after the rebalance will carry the offsets.
   */
  async commit(offsets: PartitionOffset[]): Promise<void> {
    this.#checkOpen();
    if (offsets.length === 0) return;
    try {
      await this.#consumer.commit({
        offsets: offsets.map((o) => ({
          topic: o.topic,
          partition: o.partition,
          offset: o.offset,
          leaderEpoch: -1,
        })),
      });
    } catch (error) {
      throw new Error(
        `Committing offsets to Kafka group ${this.#options.groupId} failed: ${
          describeKafkaError(error)
        }`,
        { cause: error },
      );
    }
  }

  /** The group's committed offsets of some partitions (-1 where none). */
  async committed(partitions: TopicPartition[]): Promise<PartitionOffset[]> {
    this.#checkOpen();
    const byTopic = new Map<string, number[]>();
    for (const { topic, partition } of partitions) {
      const list = byTopic.get(topic) ?? [];
      list.push(partition);
      byTopic.set(topic, list);
    }
    const result = await this.#consumer.listCommittedOffsets({
      topics: [...byTopic].map(([topic, parts]) => ({ topic, partitions: parts })),
    });
    return partitions.map(({ topic, partition }) => ({
      topic,
      partition,
      offset: result.get(topic)?.[partition] ?? -1n,
    }));
  }

  /** Leaves the group (its partitions go to the other members at once) and closes. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#consumer.close(true);
  }

  #checkOpen(): void {
    if (this.#closed) {
      throw new Error(`The Kafka consumer of group ${this.#options.groupId} is closed`);
    }
  }

  async #applyAssignment(
    pending: { generation: number; assigned: TopicPartition[] },
  ): Promise<void> {
    const now = new Set(pending.assigned.map((tp) => key(tp.topic, tp.partition)));
    const revoked = this.#owned.filter((tp) => !now.has(key(tp.topic, tp.partition)));
    const chosen = await this.#options.onAssignment?.({
      generation: pending.generation,
      assigned: pending.assigned.map((tp) => ({ ...tp })),
      revoked,
    });
    // Another rebalance happened while the caller decided: decide again.
    if (this.#pending !== pending) return;
    const starts = new Map<string, bigint>();
    for (const o of chosen ?? []) {
      if (!now.has(key(o.topic, o.partition))) {
        throw new RangeError(
          `onAssignment positioned ${o.topic}[${o.partition}], which this member was not assigned`,
        );
      }
      starts.set(key(o.topic, o.partition), o.offset);
    }
    const unset = pending.assigned.filter((tp) => !starts.has(key(tp.topic, tp.partition)));
    if (unset.length > 0) {
      for (const o of await this.#defaultStarts(unset)) {
        starts.set(key(o.topic, o.partition), o.offset);
      }
    }
    this.#positions.clear();
    for (const tp of pending.assigned) {
      this.#positions.set(key(tp.topic, tp.partition), {
        offset: starts.get(key(tp.topic, tp.partition))!,
        epoch: ++this.#seekEpoch,
      });
    }
    this.#owned = pending.assigned;
    this.#appliedGeneration = pending.generation;
  }

  /** The group's committed offsets, else the log's start or end. */
  async #defaultStarts(partitions: TopicPartition[]): Promise<PartitionOffset[]> {
    const committed = await this.committed(partitions);
    const missing = committed.filter((o) => o.offset < 0n);
    if (missing.length === 0) return committed;
    const topics = [...new Set(missing.map((o) => o.topic))];
    const bounds = await this.#consumer.listOffsets({
      topics,
      timestamp: this.#options.startFrom === "latest" ? -1n : -2n,
    });
    return committed.map((o) =>
      o.offset >= 0n ? o : { ...o, offset: bounds.get(o.topic)?.[o.partition] ?? 0n }
    );
  }

  async #fetch(): Promise<PartitionMessages[]> {
    const metadata: ClusterMetadata = await this.#consumer.metadata({
      topics: this.#options.topics,
    });
    // One request per leader; each partition at its position.
    const byNode = new Map<number, Map<string, { topic: string; partitions: number[] }>>();
    for (const { topic, partition } of this.#owned) {
      const info = metadata.topics.get(topic);
      const leader = info?.partitions[partition]?.leader ?? -1;
      if (!info || leader < 0) continue;
      let topics = byNode.get(leader);
      if (!topics) byNode.set(leader, topics = new Map());
      let entry = topics.get(info.id);
      if (!entry) topics.set(info.id, entry = { topic, partitions: [] });
      entry.partitions.push(partition);
    }
    const maxBytesPerPartition = this.#options.maxBytesPerPartition ?? 8 * 1024 * 1024;
    const generation = this.#appliedGeneration;
    const results = await Promise.all([...byNode].map(async ([node, topics]) => {
      const requested = new Map<string, number>();
      const request = [...topics].map(([topicId, { topic, partitions }]) => ({
        topicId,
        partitions: partitions.map((partition) => {
          const position = this.#positions.get(key(topic, partition))!;
          requested.set(key(topic, partition), position.epoch);
          return {
            partition,
            fetchOffset: position.offset,
            partitionMaxBytes: maxBytesPerPartition,
            currentLeaderEpoch: -1,
            lastFetchedEpoch: -1,
          };
        }),
      }));
      try {
        const response = await this.#consumer.fetch({ node, topics: request });
        return { topics, requested, response };
      } catch (error) {
        const bad = outOfRange(error, topics, this.#positions);
        if (!bad) throw error;
        // The error response carries no bounds: ask for them.
        const [first, end] = await Promise.all(
          [-2n, -1n].map((timestamp) =>
            this.#consumer.listOffsets({
              topics: [bad.topic],
              partitions: { [bad.topic]: [bad.partition] },
              timestamp,
            })
          ),
        );
        throw new KafkaOffsetOutOfRangeError(
          bad.topic,
          bad.partition,
          bad.offset,
          first!.get(bad.topic)?.[bad.partition] ?? -1n,
          end!.get(bad.topic)?.[bad.partition] ?? -1n,
        );
      }
    }));
    // A rebalance finished while fetching: these partitions may be another member's now.
    if (generation !== this.#appliedGeneration || this.#pending?.generation !== generation) {
      return [];
    }
    const out: PartitionMessages[] = [];
    for (const { topics, requested, response } of results) {
      for (const topicResponse of response.responses) {
        const topic = topics.get(topicResponse.topicId)?.topic;
        if (topic === undefined) continue;
        for (const p of topicResponse.partitions) {
          const k = key(topic, p.partitionIndex);
          const position = this.#positions.get(k);
          // Sought or reassigned since the request: the answer is stale.
          if (!position || requested.get(k) !== position.epoch) continue;
          const from = position.offset;
          const messages: KafkaMessage[] = [];
          let next = from;
          for (const batch of p.records ?? []) {
            const last = batch.firstOffset + BigInt(batch.lastOffsetDelta);
            if (last < from) continue;
            if (last + 1n > next) next = last + 1n;
            if (batch.attributes & IS_CONTROL) continue;
            for (const record of batch.records) {
              const offset = batch.firstOffset + BigInt(record.offsetDelta);
              if (offset < from) continue;
              messages.push({
                topic,
                partition: p.partitionIndex,
                offset,
                key: record.key,
                value: record.value,
                timestamp: Number(batch.firstTimestamp + record.timestampDelta),
              });
            }
          }
          position.offset = next;
          if (messages.length > 0 || next !== from) {
            out.push({
              topic,
              partition: p.partitionIndex,
              messages,
              highWatermark: p.highWatermark,
              nextOffset: next,
            });
          }
        }
      }
    }
    return out;
  }
}

/**
 * Where Kafka ingest reads each partition from: the table, not Kafka. A
 * partition's progress is the `txn` action of appId `<group>:<topic>:<partition>`,
 * whose version is the last offset committed to the table, so a partition is
 * read from the offset after it, whatever Kafka's committed offsets say.
 *
 * Pure functions over the table's markers, for the role and its tests.
 */

/** The `txn` appId of a partition's progress in the table. */
export function partitionAppId(group: string, topic: string, partition: number): string {
  return `${group}:${topic}:${partition}`;
}

/**
 * The offset to read a partition from, given its marker's version: the one
 * after it, or undefined (the earliest offset Kafka holds) without a marker.
 */
export function resumeOffset(committed: number | undefined): bigint | undefined {
  return committed === undefined ? undefined : BigInt(committed) + 1n;
}

/**
 * The offsets to read the assigned partitions from: a partition whose rows
 * this process still buffers goes on after them (`buffered`: the next offset
 * it expects); any other from its marker in the table (`markers`: the
 * version of each partition's `txn`, by partition).
 */
export function startOffsets(
  assigned: readonly number[],
  markers: ReadonlyMap<number, number | undefined>,
  buffered: ReadonlyMap<number, bigint>,
): Map<number, bigint | undefined> {
  const offsets = new Map<number, bigint | undefined>();
  for (const p of assigned) offsets.set(p, buffered.get(p) ?? resumeOffset(markers.get(p)));
  return offsets;
}

/**
 * Whether a partition's buffered batch is stale: it was read after the
 * marker version `expected`, but the table now holds `inTable` (another
 * consumer of the group committed the partition since). Such a batch is
 * dropped and the partition read again from the table's marker.
 */
export function isStale(expected: number | undefined, inTable: number | undefined): boolean {
  return expected !== inTable;
}

/** Whether a message at `offset` was already committed (at or below the marker). */
export function alreadyCommitted(offset: bigint, committed: number | undefined): boolean {
  return committed !== undefined && offset <= BigInt(committed);
}

/**
 * The Parquet form of checkpoints: the `CheckpointCodec` that joins the
 * Delta layer to the Parquet layer. Writes the classic checkpoint schema
 * (PROTOCOL.md, "Checkpoint Schema") with stats as JSON, and reads the
 * checkpoints of any writer (Spark, delta-rs) back into actions.
 *
 * Invariants: one row per action, every other column null; 64-bit fields are
 * read back as numbers; `readerFeatures`/`writerFeatures` are written only
 * for tables at reader 3 / writer 7 and are null otherwise, as required.
 */

import type { Action, Add, DeletionVectorDescriptor } from "../delta/actions.ts";
import { toAction } from "../delta/actions.ts";
import type { CheckpointCodec } from "../delta/checkpoint.ts";
import type { ObjectStore } from "../storage/object_store.ts";
import { openParquet, readRecords } from "../parquet/decode.ts";
import { encodeRecords, type NestedField, type NestedType } from "../parquet/nested.ts";
import { objectSourceOf } from "./object_source.ts";

const STRING_MAP = { map: { key: "string", value: "string" } } as const;
const STRING_LIST = { list: "string" } as const;
/** A deletion vector descriptor, as PROTOCOL.md's checkpoint schema has it. */
const DELETION_VECTOR: NestedType = {
  struct: [
    { name: "storageType", type: "string" },
    { name: "pathOrInlineDv", type: "string" },
    { name: "offset", type: "integer" },
    { name: "sizeInBytes", type: "integer" },
    { name: "cardinality", type: "long" },
  ],
};

/** The checkpoint schema neuralake writes. */
export const CHECKPOINT_SCHEMA: NestedField[] = [
  {
    name: "txn",
    type: {
      struct: [
        { name: "appId", type: "string" },
        { name: "version", type: "long" },
        { name: "lastUpdated", type: "long" },
      ],
    },
  },
  {
    name: "add",
    type: {
      struct: [
        { name: "path", type: "string" },
        { name: "partitionValues", type: STRING_MAP },
        { name: "size", type: "long" },
        { name: "modificationTime", type: "long" },
        { name: "dataChange", type: "boolean" },
        { name: "tags", type: STRING_MAP },
        { name: "deletionVector", type: DELETION_VECTOR },
        { name: "baseRowId", type: "long" },
        { name: "defaultRowCommitVersion", type: "long" },
        { name: "clusteringProvider", type: "string" },
        { name: "stats", type: "string" },
      ],
    },
  },
  {
    name: "remove",
    type: {
      struct: [
        { name: "path", type: "string" },
        { name: "deletionTimestamp", type: "long" },
        { name: "dataChange", type: "boolean" },
        { name: "extendedFileMetadata", type: "boolean" },
        { name: "partitionValues", type: STRING_MAP },
        { name: "size", type: "long" },
        { name: "deletionVector", type: DELETION_VECTOR },
        { name: "baseRowId", type: "long" },
        { name: "defaultRowCommitVersion", type: "long" },
      ],
    },
  },
  {
    name: "metaData",
    type: {
      struct: [
        { name: "id", type: "string" },
        { name: "name", type: "string" },
        { name: "description", type: "string" },
        {
          name: "format",
          type: {
            struct: [{ name: "provider", type: "string" }, { name: "options", type: STRING_MAP }],
          },
        },
        { name: "schemaString", type: "string" },
        { name: "partitionColumns", type: STRING_LIST },
        { name: "createdTime", type: "long" },
        { name: "configuration", type: STRING_MAP },
      ],
    },
  },
  {
    name: "protocol",
    type: {
      struct: [
        { name: "minReaderVersion", type: "integer" },
        { name: "minWriterVersion", type: "integer" },
        { name: "readerFeatures", type: STRING_LIST },
        { name: "writerFeatures", type: STRING_LIST },
      ],
    },
  },
  {
    name: "domainMetadata",
    type: {
      struct: [
        { name: "domain", type: "string" },
        { name: "configuration", type: "string" },
        { name: "removed", type: "boolean" },
      ],
    },
  },
];

/** The schema of the sidecar files neuralake writes: `add` and `remove` only. */
const SIDECAR_SCHEMA: NestedField[] = CHECKPOINT_SCHEMA.filter((f) =>
  f.name === "add" || f.name === "remove"
);

const ACTION_COLUMNS = [
  "txn",
  "add",
  "remove",
  "metaData",
  "protocol",
  "domainMetadata",
  "checkpointMetadata",
  "sidecar",
];

/** Checkpoint fields that other writers add and that replay does not use. */
const UNUSED_FIELDS = ["stats_parsed", "partitionValues_parsed"];

/** Checkpoints as Parquet through the Parquet layer. */
export const parquetCheckpointCodec: CheckpointCodec = {
  async read(store: ObjectStore, key: string): Promise<Action[]> {
    const file = await openParquet(await objectSourceOf(store, key));
    const columns = ACTION_COLUMNS.filter((c) => file.columns.some((fc) => fc.name === c));
    // The parsed statistics are not used, so never read.
    const records = await readRecords(file, columns, { skipFields: UNUSED_FIELDS });
    const actions: Action[] = [];
    for (let i = 0; i < records.length; i++) {
      const record = records[i]!;
      for (const column of columns) {
        const value = record[column];
        if (value === null || value === undefined) continue;
        // Adds are nearly every row of a big checkpoint: build them directly.
        const action = column === "add"
          ? addOf(value as Record<string, unknown>, key, i)
          : toAction({ [column]: normalizeRecord(value, false) }, `${key}: row ${i + 1}`);
        if (action) actions.push(action);
        break;
      }
    }
    return actions;
  },
  write(
    actions: readonly Action[],
    _schema: unknown,
    options: { fileActionsOnly?: boolean } = {},
  ): Uint8Array {
    const records = actions.map((action) => {
      if ("protocol" in action) {
        const p = action.protocol;
        return {
          protocol: {
            minReaderVersion: p.minReaderVersion,
            minWriterVersion: p.minWriterVersion,
            readerFeatures: p.minReaderVersion >= 3 ? p.readerFeatures ?? [] : null,
            writerFeatures: p.minWriterVersion >= 7 ? p.writerFeatures ?? [] : null,
          },
        };
      }
      return action as Record<string, unknown>;
    });
    // A sidecar holds only file actions, as their own columns (PROTOCOL.md, "Sidecar Files").
    const schema = options.fileActionsOnly ? SIDECAR_SCHEMA : CHECKPOINT_SCHEMA;
    return encodeRecords(schema, records).bytes;
  },
};

/** An `add` action from a checkpoint row, checked as `toAction` checks it. */
function addOf(row: Record<string, unknown>, key: string, index: number): Action {
  const { path, size, modificationTime, dataChange, partitionValues } = row;
  if (typeof path !== "string" || (typeof size !== "bigint" && typeof size !== "number")) {
    // Leave the explanation of what is wrong to the general path.
    return toAction({ add: normalizeRecord(row, false) }, `${key}: row ${index + 1}`)!;
  }
  const add: Add = {
    path,
    partitionValues: (partitionValues ?? {}) as Record<string, string | null>,
    size: Number(size),
    modificationTime: modificationTime == null ? 0 : Number(modificationTime),
    dataChange: typeof dataChange === "boolean" ? dataChange : true,
  };
  if (row.stats != null) add.stats = row.stats as string;
  if (row.tags != null) add.tags = row.tags as Record<string, string | null>;
  if (row.deletionVector != null) {
    add.deletionVector = normalizeRecord(row.deletionVector, false) as DeletionVectorDescriptor;
  }
  if (row.baseRowId != null) add.baseRowId = Number(row.baseRowId);
  if (row.defaultRowCommitVersion != null) {
    add.defaultRowCommitVersion = Number(row.defaultRowCommitVersion);
  }
  if (row.clusteringProvider != null) add.clusteringProvider = row.clusteringProvider as string;
  return { add };
}

/** Fields of actions that are maps: their null values mean something. */
const MAP_FIELDS = new Set(["partitionValues", "tags", "configuration", "options"]);

/**
 * Makes a checkpoint row look like the JSON action: bigints become numbers,
 * and null struct fields are dropped (in JSON they are simply absent), while
 * null values inside maps (a null partition value) are kept.
 */
function normalizeRecord(value: unknown, isMap: boolean): unknown {
  if (typeof value === "bigint") return Number(value);
  if (Array.isArray(value)) return value.map((v) => normalizeRecord(v, false));
  if (value instanceof Map) {
    return Object.fromEntries([...value].map(([k, v]) => [k, normalizeRecord(v, false)]));
  }
  if (value !== null && typeof value === "object" && !(value instanceof Uint8Array)) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) {
      if (v === null && !isMap) continue;
      out[k] = normalizeRecord(v, MAP_FIELDS.has(k));
    }
    return out;
  }
  return value;
}

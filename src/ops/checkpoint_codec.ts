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

import type { Action, Add, DeletionVectorDescriptor, Metadata } from "../delta/actions.ts";
import { toAction } from "../delta/actions.ts";
import type {
  CheckpointCodec,
  CheckpointReadContext,
  ColumnarCheckpointPart,
} from "../delta/checkpoint.ts";
import { addsOf, type CheckpointAdds } from "../delta/replay.ts";
import type { ObjectStore } from "../storage/object_store.ts";
import {
  groupFields,
  openParquet,
  type ParquetFile,
  readRecordColumns,
  type RecordColumns,
} from "../parquet/decode.ts";
import type { Field } from "../columnar/batch.ts";
import type { Scalar } from "../columnar/scalar.ts";
import { buildStatsJson, type ColumnStatistics } from "../delta/stats.ts";
import { serializePartitionValue } from "../delta/partition.ts";
import {
  columnMappingMode,
  parseSchemaString,
  PHYSICAL_NAME_KEY,
  primitiveTypeOf,
} from "../delta/schema.ts";
import type { PrimitiveType } from "../columnar/types.ts";
import { encodeRecords, type NestedField, type NestedType } from "../parquet/nested.ts";
import { objectSourceOf } from "./object_source.ts";
import { stringHash } from "../util/string_hash.ts";

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

/** Checkpoints as Parquet through the Parquet layer. */
export const parquetCheckpointCodec: CheckpointCodec = {
  async read(store: ObjectStore, key: string, context?: CheckpointReadContext): Promise<Action[]> {
    return (await readColumnar(store, key, context)).all();
  },
  readColumnar,
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

/**
 * Reads one checkpoint file: the actions other than adds as objects, the
 * adds as the rows that hold them, each `Add` built from its fields' leaves
 * when asked for. The leaves of fields no one asks for (stats, tags) are
 * never decoded. Every add's path and size are checked here, as building it
 * would: a row that fails is built now, so that its error is the open's.
 */
async function readColumnar(
  store: ObjectStore,
  key: string,
  context: CheckpointReadContext = {},
): Promise<ColumnarCheckpointPart> {
  const file = await openParquet(await objectSourceOf(store, key));
  const columns = ACTION_COLUMNS.filter((c) => file.columns.some((fc) => fc.name === c));
  // Paths are hashed from their bytes for replay's table of keys. Leaves are
  // decoded on first use: `partitionValues_parsed` only for adds without
  // the map.
  const decoded = await readRecordColumns(file, columns, { hashFields: ["add.path"] });
  const present = columns.map((c) => decoded.presence([c])!);
  const readers = columns.map((c) => decoded.reader([c])!);
  const addColumn = columns.indexOf("add");
  const actions: Action[] = [];
  const actionRows: number[] = [];
  let addRows = new Int32Array(0);
  let adds = 0;
  for (let i = 0; i < decoded.numRows; i++) {
    for (let c = 0; c < columns.length; c++) {
      if (!present[c]!(i)) continue;
      if (c === addColumn) {
        if (adds === addRows.length) {
          const grown = new Int32Array(Math.max(1024, 2 * adds));
          grown.set(addRows);
          addRows = grown;
        }
        addRows[adds++] = i;
        break;
      }
      const column = columns[c]!;
      const action = toAction(
        { [column]: normalizeRecord(readers[c]!(i, 0), false) },
        `${key}: row ${i + 1}`,
      );
      if (action) {
        actions.push(action);
        actionRows.push(i);
      }
      break;
    }
  }
  addRows = addRows.subarray(0, adds);
  const metadata = actions.find((a) => "metaData" in a) as { metaData: Metadata } | undefined;
  const columnar = addColumn >= 0
    ? addColumns(
      decoded,
      key,
      addRows,
      parsedStatsReader(file),
      parsedPartitionValuesReader(file, key, metadata?.metaData, context),
    )
    : undefined;
  const part: CheckpointAdds = columnar ?? addsOf([]);
  return {
    actions,
    adds: part,
    all() {
      // The rows in order: actions and adds merged by row.
      const out: Action[] = [];
      let a = 0;
      for (let k = 0; k < part.length; k++) {
        while (a < actions.length && actionRows[a]! < addRows[k]!) out.push(actions[a++]!);
        out.push({ add: part.add(k) });
      }
      while (a < actions.length) out.push(actions[a++]!);
      return out;
    },
  };
}

/**
 * The adds at `rows` as columns: the path of each read (and checked) now,
 * the rest when an `Add` is built, once per add.
 */
function addColumns(
  decoded: RecordColumns,
  key: string,
  rows: Int32Array,
  parsedStats: (parsed: unknown) => string | undefined,
  parsedPartitionValues: PartitionValuesOfParsed,
): CheckpointAdds {
  const build = addReader(decoded, key, parsedStats, parsedPartitionValues);
  const path = decoded.reader(["add", "path"]);
  const hashOfPath = decoded.stringHash(["add", "path"]);
  const size = decoded.int64AsNumber(["add", "size"]);
  const modificationTime = decoded.int64AsNumber(["add", "modificationTime"]);
  const dvPresent = decoded.presence(["add", "deletionVector"]);
  const paths = new Array<string>(rows.length);
  const hashes = new Int32Array(rows.length);
  const built = new Array<Add | undefined>(rows.length);
  for (let k = 0; k < rows.length; k++) {
    const row = rows[k]!;
    const p = path?.(row, 0);
    if (typeof p !== "string" || size?.(row) == null || !modificationTime) {
      // Built now: its error (or its unusual form) is the general path's.
      const add = (build(row) as { add: Add }).add;
      built[k] = add;
      paths[k] = add.path;
      hashes[k] = stringHash(add.path);
    } else {
      paths[k] = p;
      hashes[k] = hashOfPath ? hashOfPath(row) : stringHash(p);
    }
  }
  const add = (k: number): Add => built[k] ??= (build(rows[k]!) as { add: Add }).add;
  return {
    length: rows.length,
    path: (k) => paths[k]!,
    pathHash: (k) => hashes[k]!,
    deletionVector: (k) => dvPresent?.(rows[k]!) ? add(k).deletionVector ?? undefined : undefined,
    add,
  };
}

/**
 * Reads the `add` action of a checkpoint row from the leaves of its fields,
 * checked as `toAction` checks it, without assembling the row's record.
 */
function addReader(
  decoded: RecordColumns,
  key: string,
  statsOfParsed: (parsed: unknown) => string | undefined,
  partitionValuesOfParsed: PartitionValuesOfParsed,
): (row: number) => Action {
  const none = () => null;
  const field = (name: string) => decoded.reader(["add", name]) ?? none;
  const number = (name: string) => decoded.int64AsNumber(["add", name]);
  const whole = decoded.reader(["add"])!;
  const path = field("path");
  const size = number("size");
  const modificationTime = number("modificationTime");
  const dataChange = field("dataChange");
  const partitionValues = field("partitionValues");
  const stats = field("stats");
  const tags = field("tags");
  const deletionVector = field("deletionVector");
  const baseRowId = field("baseRowId");
  const defaultRowCommitVersion = field("defaultRowCommitVersion");
  const clusteringProvider = field("clusteringProvider");
  const statsParsed = decoded.reader(["add", "stats_parsed"]);
  const partitionValuesParsed = decoded.reader(["add", "partitionValues_parsed"]) ?? none;
  return (row) => {
    const p = path(row, 0);
    const n = size?.(row);
    if (typeof p !== "string" || n == null || !modificationTime) {
      // Leave the explanation of what is wrong (or of an unusual file) to the general path.
      const record = normalizeRecord(whole(row, 0), false) as Record<string, unknown> | null;
      if (record) {
        const parsed = record.stats_parsed;
        delete record.stats_parsed;
        const fromParsed = record.stats == null ? statsOfParsed(parsed) : undefined;
        if (fromParsed !== undefined) record.stats = fromParsed;
        delete record.partitionValues_parsed;
        if (record.partitionValues == null) {
          record.partitionValues = partitionValuesOfParsed(partitionValuesParsed(row, 0), row);
        }
      }
      return toAction({ add: record }, `${key}: row ${row + 1}`)!;
    }
    const change = dataChange(row, 0);
    const add: Add = {
      path: p,
      partitionValues: (partitionValues(row, 0) ??
        partitionValuesOfParsed(partitionValuesParsed(row, 0), row)) as Record<
          string,
          string | null
        >,
      size: n,
      modificationTime: modificationTime(row) ?? 0,
      dataChange: typeof change === "boolean" ? change : true,
    };
    const s = stats(row, 0) ?? statsOfParsed(statsParsed?.(row, 0));
    if (s != null) add.stats = s as string;
    const t = tags(row, 0);
    if (t != null) add.tags = t as Record<string, string | null>;
    const dv = deletionVector(row, 0);
    if (dv != null) add.deletionVector = normalizeRecord(dv, false) as DeletionVectorDescriptor;
    const base = baseRowId(row, 0);
    if (base != null) add.baseRowId = Number(base);
    const version = defaultRowCommitVersion(row, 0);
    if (version != null) add.defaultRowCommitVersion = Number(version);
    const provider = clusteringProvider(row, 0);
    if (provider != null) add.clusteringProvider = provider as string;
    return { add };
  };
}

/** An add's partition values from its `partitionValues_parsed` (at a row, for errors). */
type PartitionValuesOfParsed = (parsed: unknown, row: number) => Record<string, string | null>;

/**
 * The partition values of an add whose `partitionValues` map is absent or
 * null (PROTOCOL.md requires it, but readers may use `partitionValues_parsed`,
 * as delta-kernel-rs and Spark do): its `partitionValues_parsed` struct,
 * each value serialized as a writer serializes it into the map
 * (`serializePartitionValue`), typed by the table's schema when this file
 * holds the metadata (a timestamp with or without time zone), else by the
 * checkpoint's own Parquet schema.
 * Without either, an add of a partitioned table (or of a table whose
 * metadata is not in this file) is an error naming the file and the column,
 * never a file whose partition values read as null.
 */
function parsedPartitionValuesReader(
  file: ParquetFile,
  key: string,
  own: Metadata | undefined,
  context: CheckpointReadContext,
): PartitionValuesOfParsed {
  // This file's metadata, else the table's as the caller knows it when the add is built.
  const metadataOf = () => own ?? context.metadata;
  const fields = groupFields(file.schema, ["add", "partitionValues_parsed"], file.name);
  // The struct's fields are named as the map's keys: physical names under
  // column mapping. Read only for an add without the map.
  let tableTypes: Map<string, PrimitiveType> | undefined;
  const typesOf = (): Map<string, PrimitiveType> => {
    const types = new Map<string, PrimitiveType>();
    const metadata = metadataOf();
    if (!metadata) return types;
    const mapped = columnMappingMode(metadata.configuration ?? {}) !== "none";
    for (const f of parseSchemaString(metadata.schemaString).fields) {
      const type = primitiveTypeOf(f);
      const physical = f.metadata?.[PHYSICAL_NAME_KEY];
      if (type) types.set(mapped && typeof physical === "string" ? physical : f.name, type);
    }
    return types;
  };
  return (parsed, row) => {
    if (parsed === null || typeof parsed !== "object") {
      const partitionColumns = metadataOf()?.partitionColumns;
      if (partitionColumns?.length === 0) return {};
      const column = partitionColumns
        ? `partition column${partitionColumns.length > 1 ? "s" : ""} ${
          partitionColumns.map((c) => JSON.stringify(c)).join(", ")
        }`
        : "its partition columns";
      throw new TypeError(
        `Cannot read checkpoint ${key}: the add at row ${
          row + 1
        } has neither partitionValues nor partitionValues_parsed for ${column}`,
      );
    }
    const out: Record<string, string | null> = {};
    for (const field of fields) {
      const value = (parsed as Record<string, unknown>)[field.name];
      if (typeof field.type !== "string") {
        throw new TypeError(
          `Cannot read checkpoint ${key}: partitionValues_parsed.${field.name} is not of a primitive type`,
        );
      }
      out[field.name] = serializePartitionValue(
        (value ?? null) as Scalar,
        (tableTypes ??= typesOf()).get(field.name) ?? field.type as PrimitiveType,
        field.name,
      );
    }
    return out;
  };
}

/**
 * The reader of a checkpoint's `stats_parsed` (written with
 * `delta.checkpoint.writeStatsAsJson=false`, PROTOCOL.md "Checkpoint
 * Schema"): it gives a file's statistics as the `stats` JSON that a commit
 * would hold (`buildStatsJson`, with `tightBounds` kept), so that data
 * skipping, row counts and later checkpoints use them as they use JSON
 * stats. The bounds' types come from the checkpoint's own Parquet schema
 * (dates, timestamps and decimals are typed there); a column whose type has
 * no Delta equivalent gets no bounds, so its files are never skipped on it.
 */
function parsedStatsReader(file: ParquetFile): (parsed: unknown) => string | undefined {
  const at = (name: string) => groupFields(file.schema, ["add", "stats_parsed", name], file.name);
  // Null counts are longs whatever the column: the bounds' types win.
  const fields = unionFields(unionFields(at("minValues"), at("maxValues")), at("nullCount"));
  return (parsed) => {
    if (parsed === null || typeof parsed !== "object") return undefined;
    const { numRecords, minValues, maxValues, nullCount, tightBounds } = parsed as Record<
      string,
      unknown
    >;
    if (numRecords === null || numRecords === undefined) return undefined;
    const columns = fields.map((f) =>
      columnStatsOf(
        f,
        fieldOf(minValues, f.name),
        fieldOf(maxValues, f.name),
        fieldOf(nullCount, f.name),
      )
    );
    const json = buildStatsJson(Number(numRecords), fields, columns);
    return typeof tightBounds === "boolean"
      ? `${json.slice(0, -1)},"tightBounds":${tightBounds}}`
      : json;
  };
}

function fieldOf(value: unknown, name: string): unknown {
  return value !== null && typeof value === "object"
    ? (value as Record<string, unknown>)[name]
    : undefined;
}

/** One column's statistics from its `stats_parsed` values (records as `readRecordColumns` gives them). */
function columnStatsOf(field: Field, min: unknown, max: unknown, nulls: unknown): ColumnStatistics {
  if (typeof field.type !== "string") {
    if (field.type.type !== "struct") return { nullCount: undefined };
    const fields: Record<string, ColumnStatistics> = {};
    for (const child of field.type.fields) {
      fields[child.name] = columnStatsOf(
        child,
        fieldOf(min, child.name),
        fieldOf(max, child.name),
        fieldOf(nulls, child.name),
      );
    }
    return { nullCount: undefined, fields };
  }
  const out: ColumnStatistics = {
    nullCount: typeof nulls === "bigint" || typeof nulls === "number" ? Number(nulls) : undefined,
  };
  if (min !== null && min !== undefined) out.min = min as Scalar;
  if (max !== null && max !== undefined) out.max = max as Scalar;
  return out;
}

/** The fields of both lists by name, nested structs merged; `a`'s type wins otherwise. */
function unionFields(a: readonly Field[], b: readonly Field[]): Field[] {
  const out = [...a];
  for (const field of b) {
    const i = out.findIndex((f) => f.name === field.name);
    if (i < 0) {
      out.push(field);
      continue;
    }
    const mine = out[i]!;
    if (
      typeof mine.type === "object" && mine.type.type === "struct" &&
      typeof field.type === "object" && field.type.type === "struct"
    ) {
      out[i] = {
        ...mine,
        type: { type: "struct", fields: unionFields(mine.type.fields, field.type.fields) },
      };
    }
  }
  return out;
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

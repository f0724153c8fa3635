/**
 * Protocol checks: which tables neuralake may read and which it may write.
 * A table that needs a feature this implementation lacks is refused with an
 * error naming the feature, so it is never read wrongly or half-read.
 *
 * Legacy protocol versions imply features (writer 2: appendOnly and
 * invariants; 3: checkConstraints; 4: changeDataFeed and generatedColumns;
 * 5: columnMapping; 6: identityColumns). An implied feature that the table
 * does not actually use is no obstacle, as in delta-rs and delta-kernel.
 */

import type { Metadata, Protocol } from "./actions.ts";
import { UnsupportedFeatureError } from "./errors.ts";
import { parseDecimal } from "../columnar/types.ts";
import {
  columnMappingMode,
  parseSchemaString,
  type StructField,
  type StructType,
} from "./schema.ts";

/** The protocol that new tables get. */
export const NEW_TABLE_PROTOCOL: Protocol = { minReaderVersion: 1, minWriterVersion: 2 };

/**
 * The protocol a new table with this schema and configuration needs: reader
 * 1 / writer 2; reader 2 / writer 5 with column mapping (legacy versions, as
 * Spark writes them); or reader 3 / writer 7 with the `timestampNtz` feature
 * (and `columnMapping`) when a column at any depth is a timestamp without
 * time zone, as the protocol requires.
 */
export function protocolForSchema(
  schema: StructType,
  configuration: Record<string, string> = {},
): Protocol {
  const usesNtz = anyField(schema, (f) => containsType(f.type, "timestamp_ntz"));
  const mapped = (configuration["delta.columnMapping.mode"] ?? "none") !== "none";
  if (!usesNtz) return mapped ? { minReaderVersion: 2, minWriterVersion: 5 } : NEW_TABLE_PROTOCOL;
  const features = mapped ? ["columnMapping", "timestampNtz"] : ["timestampNtz"];
  return {
    minReaderVersion: 3,
    minWriterVersion: 7,
    readerFeatures: features,
    writerFeatures: features,
  };
}

function containsType(type: StructField["type"], name: string): boolean {
  if (typeof type === "string") return type === name;
  if (type.type === "array") return containsType(type.elementType, name);
  if (type.type === "map") {
    return containsType(type.keyType, name) || containsType(type.valueType, name);
  }
  return type.fields.some((f) => containsType(f.type, name));
}

/** What neuralake does with one Delta table feature. */
export interface FeatureSupport {
  /** The feature's name in `readerFeatures` / `writerFeatures`. */
  name: string;
  /** `reader-writer` features appear in both lists; `writer` ones only in writerFeatures. */
  kind: "reader-writer" | "writer";
  /** Whether neuralake reads a table that has it. */
  read: "yes" | "refuse";
  /**
   * `yes`: writes honour it; `refuse`: writes are refused by name while the
   * feature is in use (see `featureInUse`); `refuse-always`: every write is refused.
   */
  write: "yes" | "refuse" | "refuse-always";
  /** What neuralake does, for the README's feature table. */
  note: string;
}

/**
 * Every table feature of PROTOCOL.md's "Valid Feature Names" (plus the
 * preview names Databricks writes), and what neuralake does with it. The
 * README's feature table is checked against this list.
 */
export const TABLE_FEATURES: readonly FeatureSupport[] = [
  {
    name: "appendOnly",
    kind: "writer",
    read: "yes",
    write: "yes",
    note:
      "with `delta.appendOnly=true`, overwrites are refused; appends, compaction and vacuum run",
  },
  {
    name: "invariants",
    kind: "writer",
    read: "yes",
    write: "yes",
    note:
      "`write` evaluates each column invariant on every row and refuses the whole write if one is false or null; an expression beyond neuralake's predicate language, or a writer that does not check rows (stream writers), is refused by name",
  },
  {
    name: "checkConstraints",
    kind: "writer",
    read: "yes",
    write: "yes",
    note: "`delta.constraints.*` enforced like invariants, each named in the error",
  },
  {
    name: "generatedColumns",
    kind: "writer",
    read: "yes",
    write: "refuse",
    note:
      "appends and overwrites are refused while a column has a generation expression (SQL is not evaluated); compaction and vacuum run",
  },
  {
    name: "allowColumnDefaults",
    kind: "writer",
    read: "yes",
    write: "refuse",
    note:
      "appends and overwrites are refused while a column has a default; compaction and vacuum run",
  },
  {
    name: "changeDataFeed",
    kind: "writer",
    read: "yes",
    write: "yes",
    note:
      "neuralake only appends, replaces whole files and compacts, which need no change data files",
  },
  {
    name: "columnMapping",
    kind: "reader-writer",
    read: "yes",
    write: "yes",
    note:
      "`name` and `id` modes: files are read by physical name or Parquet field id and written with both, output shows logical names, stats and partition values are keyed by physical names; `create`/`write --property delta.columnMapping.mode=name` makes such tables",
  },
  {
    name: "identityColumns",
    kind: "writer",
    read: "yes",
    write: "refuse",
    note:
      "appends and overwrites are refused while a column is an identity column; compaction and vacuum run",
  },
  {
    name: "deletionVectors",
    kind: "reader-writer",
    read: "yes",
    write: "yes",
    note:
      "inline, relative and absolute vectors are applied on read; appends need none; compaction rewrites files without deleted rows; vacuum keeps referenced DV files",
  },
  {
    name: "rowTracking",
    kind: "writer",
    read: "yes",
    write: "yes",
    note:
      "`write` gives new files `baseRowId` after the `delta.rowTracking` high water mark and `defaultRowCommitVersion`, and raises the mark; compaction and `optimize` keep every row's id and commit version in the materialized columns (as Spark's OPTIMIZE does; a large row group is still copied, with the two columns encoded beside it where its file lacks them; one with a partly null column or deleted rows is re-encoded) and give the merged file fresh ids; stream writers (`stream`, `ingest`) give each commit's files fresh ids after the mark as of the version it lands at, recomputed after every lost race; while `delta.rowTrackingSuspended=true` (Spark's first step in dropping the feature) nothing gets fresh ids and the mark stays, yet compaction still keeps the ids rows have in the materialized columns, so lifting the suspension finds them unchanged; a table that sets it beside `delta.enableRowTracking=true` is refused for every commit, as Spark refuses it",
  },
  {
    name: "timestampNtz",
    kind: "reader-writer",
    read: "yes",
    write: "yes",
    note: "`timestamp_ntz` columns read and written (Parquet `isAdjustedToUTC=false`)",
  },
  {
    name: "domainMetadata",
    kind: "writer",
    read: "yes",
    write: "yes",
    note: "domains are kept through every commit and checkpoint",
  },
  {
    name: "v2Checkpoint",
    kind: "reader-writer",
    read: "yes",
    write: "yes",
    note:
      "UUID-named JSON and Parquet checkpoints with sidecars are read; checkpoints of such tables are V2 (never multi-part); log cleanup keeps every sidecar a kept checkpoint names",
  },
  {
    name: "catalogManaged",
    kind: "reader-writer",
    read: "refuse",
    write: "refuse-always",
    note: "commits may live in a catalog that neuralake does not talk to",
  },
  {
    name: "catalogOwned-preview",
    kind: "reader-writer",
    read: "refuse",
    write: "refuse-always",
    note: "as catalogManaged",
  },
  {
    name: "icebergCompatV1",
    kind: "writer",
    read: "yes",
    write: "refuse",
    note:
      "writes are refused while `delta.enableIcebergCompatV1=true` (partition values are not materialized in data files)",
  },
  {
    name: "icebergCompatV2",
    kind: "writer",
    read: "yes",
    write: "refuse",
    note: "as icebergCompatV1, with `delta.enableIcebergCompatV2`",
  },
  {
    name: "clustering",
    kind: "writer",
    read: "yes",
    write: "yes",
    note:
      "appends and bin-packing compaction leave `clusteringProvider` unset, as the protocol asks of writers that do not cluster; the clustering domain is kept",
  },
  {
    name: "vacuumProtocolCheck",
    kind: "reader-writer",
    read: "yes",
    write: "yes",
    note: "vacuum checks the table's write protocol before deleting anything",
  },
  {
    name: "inCommitTimestamp",
    kind: "writer",
    read: "yes",
    write: "yes",
    note:
      "while `delta.enableInCommitTimestamps=true`, every commit (`write`, `stream`, `ingest`, compaction, `optimize`) puts `commitInfo` first with an `inCommitTimestamp` of the clock but above the previous commit's, taken again for the version of every attempt",
  },
  {
    name: "typeWidening",
    kind: "reader-writer",
    read: "yes",
    write: "yes",
    note:
      "files written before any widening PROTOCOL.md lists (integers to a wider integer, double or decimal; float to double; date to timestamp_ntz; decimal precision and scale), at any depth, are read at the new type, and their footer bounds are not used for skipping; any other recorded type change is refused by name; neuralake never changes types itself",
  },
  {
    name: "typeWidening-preview",
    kind: "reader-writer",
    read: "yes",
    write: "yes",
    note: "as typeWidening",
  },
  {
    name: "variantType",
    kind: "reader-writer",
    read: "yes",
    write: "refuse",
    note:
      "unshredded variant columns (a Parquet group of `value` and `metadata` binaries) are decoded: `scan` prints each as Spark's `to_json` of it (UTC), `--json` and NDJSON as that JSON value; appends and overwrites are refused (neuralake makes no variants); compaction copies both binaries unchanged and gives the column only a null count, as Spark does; vacuum and checkpoints run; shredded files are read as variantShredding says",
  },
  {
    name: "variantType-preview",
    kind: "reader-writer",
    read: "yes",
    write: "refuse",
    note: "as variantType",
  },
  {
    name: "variantShredding",
    kind: "reader-writer",
    read: "yes",
    write: "refuse",
    note:
      "shredded variant columns (a `typed_value` beside `value` and `metadata`: primitives of every shredded type, objects with shredded and unshredded fields, arrays, at any depth; VariantShredding.md) are rebuilt into the variant they hold and print as unshredded ones do; files may shred differently; appends and overwrites are refused; compaction writes the rebuilt variants unshredded (the protocol lets a writer choose not to shred), so a shredded row group is re-encoded, never copied; vacuum and checkpoints run",
  },
  {
    name: "variantShredding-preview",
    kind: "reader-writer",
    read: "yes",
    write: "refuse",
    note: "as variantShredding",
  },
  {
    name: "checkpointProtection",
    kind: "writer",
    read: "yes",
    write: "yes",
    note:
      "it binds only metadata cleanup, and neuralake's meets the exception PROTOCOL.md gives: it creates no checkpoint while it cleans up and deletes nothing at or after the checkpoint it keeps (checkpoints are only of the latest version)",
  },
];

const FEATURE_BY_NAME = new Map(TABLE_FEATURES.map((f) => [f.name, f]));

/** The reader-writer feature that a reader of version 2 supports without listing it. */
const LEGACY_READER_FEATURE = "columnMapping";

/**
 * What is wrong with a protocol action, or undefined if it is valid. The
 * rules are PROTOCOL.md's ("Table Features"), checked as delta-kernel-rs's
 * `Protocol::try_new` checks them, with its tolerances:
 *
 * - both versions are integers of at least 1;
 * - `readerFeatures` is present exactly when `minReaderVersion` is 3, and
 *   `writerFeatures` exactly when `minWriterVersion` is 7 (a JSON null counts
 *   as absent); each is a list of strings;
 * - a reader feature is a reader-writer feature (or one neuralake does not
 *   know) listed in `writerFeatures` too, so reader version 3 needs writer 7;
 * - a known reader-writer feature in `writerFeatures` is also a reader
 *   feature, except `columnMapping`: reader version 2 implies it, and
 *   delta-spark once wrote (3, 7) tables listing it only as a writer feature,
 *   which kernel reads.
 *
 * Versions above those neuralake implements are not a problem here; they are
 * refused as unsupported by `checkCanRead` and `checkCanWrite`.
 */
export function protocolProblem(protocol: Protocol): string | undefined {
  const { minReaderVersion: reader, minWriterVersion: writer } = protocol;
  if (!Number.isInteger(reader) || reader < 1) {
    return `minReaderVersion must be an integer of at least 1, got ${reader}`;
  }
  if (!Number.isInteger(writer) || writer < 1) {
    return `minWriterVersion must be an integer of at least 1, got ${writer}`;
  }
  const readerFeatures = protocol.readerFeatures ?? undefined;
  const writerFeatures = protocol.writerFeatures ?? undefined;
  for (
    const [name, list] of [["readerFeatures", readerFeatures], [
      "writerFeatures",
      writerFeatures,
    ]] as const
  ) {
    if (list !== undefined && (!Array.isArray(list) || list.some((f) => typeof f !== "string"))) {
      return `${name} must be a list of feature names, got ${JSON.stringify(list)}`;
    }
  }
  if (reader === 3 && readerFeatures === undefined) {
    return "readerFeatures must be present when minReaderVersion is 3";
  }
  if (reader !== 3 && readerFeatures !== undefined) {
    return `readerFeatures must be absent when minReaderVersion is ${reader} (only reader version 3 lists features), got ${
      JSON.stringify(readerFeatures)
    }`;
  }
  if (writer === 7 && writerFeatures === undefined) {
    return "writerFeatures must be present when minWriterVersion is 7";
  }
  if (writer !== 7 && writerFeatures !== undefined) {
    return `writerFeatures must be absent when minWriterVersion is ${writer} (only writer version 7 lists features), got ${
      JSON.stringify(writerFeatures)
    }`;
  }
  if (readerFeatures !== undefined && writerFeatures === undefined) {
    return `readerFeatures need minWriterVersion 7 with every reader feature also in writerFeatures, but minWriterVersion is ${writer}`;
  }
  const isReaderWriter = (f: string) => FEATURE_BY_NAME.get(f)?.kind === "reader-writer";
  if (readerFeatures !== undefined) {
    const writers = new Set(writerFeatures);
    for (const feature of readerFeatures) {
      if (FEATURE_BY_NAME.get(feature)?.kind === "writer") {
        return `reader feature "${feature}" is a writer-only feature, which belongs in writerFeatures only`;
      }
      if (!writers.has(feature)) {
        return `reader feature "${feature}" must also be listed in writerFeatures`;
      }
    }
    const readers = new Set(readerFeatures);
    for (const feature of writerFeatures ?? []) {
      if (isReaderWriter(feature) && !readers.has(feature) && feature !== LEGACY_READER_FEATURE) {
        return `"${feature}" is a reader-writer feature listed in writerFeatures but not in readerFeatures`;
      }
    }
    return undefined;
  }
  for (const feature of writerFeatures ?? []) {
    if (!isReaderWriter(feature)) continue;
    if (reader === 2 && feature === LEGACY_READER_FEATURE) continue;
    return `"${feature}" is a reader-writer feature listed in writerFeatures, but minReaderVersion is ${reader}, which lists no reader features (${feature} needs minReaderVersion 3 and readerFeatures)`;
  }
  return undefined;
}

export { UnsupportedFeatureError };

/**
 * Throws `UnsupportedFeatureError` unless every feature that reading the table
 * needs is implemented.
 */
export function checkCanRead(protocol: Protocol, metadata: Metadata): void {
  // Column mapping (name and id) is read; an unknown mode is refused by name.
  columnMappingMode(metadata.configuration);
  if (protocol.minReaderVersion > 3) {
    throw new UnsupportedFeatureError(
      `readerVersion${protocol.minReaderVersion}`,
      `Cannot read this table: it needs Delta reader version ${protocol.minReaderVersion} (readerVersion${protocol.minReaderVersion}), and neuralake implements up to 3`,
    );
  }
  if (protocol.minReaderVersion === 3) {
    for (const feature of protocol.readerFeatures ?? []) {
      if (FEATURE_BY_NAME.get(feature)?.read !== "yes") throw unsupportedRead(feature);
      if (feature === "typeWidening" || feature === "typeWidening-preview") {
        checkTypeChanges(feature, metadata);
      }
    }
  }
}

/** Integer types in order of width, for the widenings PROTOCOL.md allows. */
const INTEGERS = ["byte", "short", "integer", "long"];

/** Integer digits a decimal needs to take every value of an integer type (PROTOCOL.md). */
const INTEGER_DIGITS: Record<string, number> = { byte: 10, short: 10, integer: 10, long: 20 };

/**
 * Whether files written at type `from` are read at type `to`: the type
 * changes of PROTOCOL.md's "Type Widening" section (integer to a wider
 * integer, to double or to a decimal with enough integer digits; float to
 * double; date to timestamp_ntz; a decimal to one with no fewer integer
 * digits and no smaller scale), which the Parquet reader converts exactly.
 */
export function readsWidened(from: string, to: string): boolean {
  const fi = INTEGERS.indexOf(from);
  if (fi >= 0 && INTEGERS.indexOf(to) > fi) return true;
  if (to === "double") return from === "float" || (fi >= 0 && fi < 3);
  if (from === "date") return to === "timestamp_ntz";
  const wanted = parseDecimal(to);
  if (!wanted) return false;
  const integerDigits = wanted.precision - wanted.scale;
  const have = parseDecimal(from);
  if (have) return wanted.scale >= have.scale && integerDigits >= have.precision - have.scale;
  return fi >= 0 && integerDigits >= INTEGER_DIGITS[from]!;
}

/**
 * Refuses a table with a recorded type change (`delta.typeChanges`, on a
 * field at any depth, `fieldPath` naming an array element or map key or
 * value inside it) that the reader does not widen, naming the column and
 * the change.
 */
function checkTypeChanges(feature: string, metadata: Metadata): void {
  let schema: StructType;
  try {
    schema = parseSchemaString(metadata.schemaString);
  } catch {
    return; // The schema's own error is reported where it is parsed.
  }
  const visitType = (path: string, type: StructField["type"]): void => {
    if (typeof type === "string") return;
    if (type.type === "struct") visitFields(`${path}.`, type.fields);
    else if (type.type === "array") visitType(`${path}.element`, type.elementType);
    else if (type.type === "map") {
      visitType(`${path}.key`, type.keyType);
      visitType(`${path}.value`, type.valueType);
    }
  };
  const visitFields = (prefix: string, fields: readonly StructField[]): void => {
    for (const field of fields) {
      const path = prefix + field.name;
      const changes = field.metadata["delta.typeChanges"];
      for (const change of Array.isArray(changes) ? changes : []) {
        const from = String(change?.fromType);
        const to = String(change?.toType);
        if (!readsWidened(from, to)) {
          const at = typeof change?.fieldPath === "string" ? ` at ${change.fieldPath}` : "";
          throw new UnsupportedFeatureError(
            feature,
            `Cannot read this table: column "${path}" changed type from ${from} to ${to}${at} (${feature}), which is not a widening PROTOCOL.md allows, so neuralake cannot read its older files`,
          );
        }
      }
      visitType(path, field.type);
    }
  };
  visitFields("", schema.fields);
}

function unsupportedRead(feature: string): UnsupportedFeatureError {
  return new UnsupportedFeatureError(
    feature,
    `Cannot read this table: it uses the Delta feature "${feature}", which neuralake does not implement`,
  );
}

function unsupportedWrite(feature: string, detail = ""): UnsupportedFeatureError {
  return new UnsupportedFeatureError(
    feature,
    `Cannot write to this table: it uses the Delta feature "${feature}"${detail}, which neuralake does not implement for writing`,
  );
}

/**
 * What a write does, for the features whose rules depend on it: `append`
 * adds rows, `overwrite` replaces the table's rows, `rewrite` moves rows
 * between files without changing them (compaction), `vacuum` commits
 * nothing and deletes unreferenced files, `checkpoint` commits nothing and
 * writes a checkpoint of the latest version.
 */
export type WriteKind = "append" | "overwrite" | "rewrite" | "vacuum" | "checkpoint";

/** How a writer treats the rows it adds. */
export interface WriteCheckOptions {
  /** What the write does. @default "append" */
  kind?: WriteKind;
  /**
   * True when the writer checks every new row against the table's
   * invariants and CHECK constraints (ops/constraints.ts) and fails the
   * write on a violation. Otherwise a table with any is refused. @default false
   */
  enforcesConstraints?: boolean;
  /**
   * True when the writer's commits carry `inCommitTimestamp` while the
   * table enables it (CommitOptions.inCommitTimestamps). @default false
   */
  writesInCommitTimestamps?: boolean;
  /**
   * True when the writer assigns fresh row ids to the rows it adds, and
   * (for a rewrite) keeps the row ids and row commit versions of the rows it
   * moves (delta/row_tracking.ts) while the table tracks rows. @default false
   */
  assignsRowIds?: boolean;
}

/**
 * Throws `UnsupportedFeatureError` unless neuralake can make this kind of
 * write without breaking a rule of one of the table's features. Reading must
 * be possible too.
 */
export function checkCanWrite(
  protocol: Protocol,
  metadata: Metadata,
  schema: StructType,
  options: WriteCheckOptions = {},
): void {
  checkCanRead(protocol, metadata);
  const kind = options.kind ?? "append";
  const version = protocol.minWriterVersion;
  if (version > 7) {
    throw new UnsupportedFeatureError(
      `writerVersion${version}`,
      `Cannot write to this table: it needs Delta writer version ${version} (writerVersion${version}), and neuralake implements up to 7`,
    );
  }
  const config = metadata.configuration;
  const features = version === 7
    ? new Set(protocol.writerFeatures ?? [])
    : impliedWriterFeatures(version);
  const addsRows = kind === "append" || kind === "overwrite";
  // Neither commits: rules about the rows and commits a writer adds do not apply.
  const commitsNothing = kind === "vacuum" || kind === "checkpoint";
  for (const feature of features) {
    const support = FEATURE_BY_NAME.get(feature);
    if (support?.write === "refuse-always") throw unsupportedWrite(feature);
    if (!featureInUse(feature, config, schema)) continue;
    switch (feature) {
      case "appendOnly":
        if (kind === "overwrite" && isAppendOnly(metadata)) {
          throw new UnsupportedFeatureError(
            "appendOnly",
            `Cannot overwrite this table: it is append-only (delta.appendOnly=true); only appends and compaction may change it`,
          );
        }
        continue;
      case "invariants":
      case "checkConstraints":
        if (addsRows && !options.enforcesConstraints) {
          throw unsupportedWrite(
            feature,
            feature === "invariants"
              ? " (a column has an invariant, and this writer does not check rows)"
              : " (the table has CHECK constraints, and this writer does not check rows)",
          );
        }
        continue;
      case "generatedColumns":
      case "identityColumns":
      case "allowColumnDefaults":
        if (addsRows) throw unsupportedWrite(feature, " (a column uses it)");
        continue;
      case "rowTracking":
        if (commitsNothing) continue;
        if (rowTrackingConflict(metadata)) {
          // Spark refuses such writes too (DELTA_ROW_TRACKING_ILLEGAL_PROPERTY_COMBINATION):
          // rows would get no fresh id while the table promises stable ones.
          throw new UnsupportedFeatureError(
            feature,
            `Cannot write to this table: it sets both delta.enableRowTracking=true and delta.rowTrackingSuspended=true, which the rowTracking feature does not allow together; set one of them to false first`,
          );
        }
        if (options.assignsRowIds) continue;
        throw unsupportedWrite(
          feature,
          kind === "rewrite"
            ? " (this rewrite would not preserve row ids)"
            : " (this writer does not assign row ids)",
        );
      case "inCommitTimestamp":
        if (!commitsNothing && !options.writesInCommitTimestamps) {
          throw unsupportedWrite(feature, " (this writer does not write in-commit timestamps)");
        }
        continue;
      case "icebergCompatV1":
      case "icebergCompatV2":
        if (!commitsNothing) throw unsupportedWrite(feature);
        continue;
      case "variantType":
      case "variantType-preview":
      case "variantShredding":
      case "variantShredding-preview":
        // Compaction copies each variant's two binaries unchanged (whole row
        // groups, or decoded and re-encoded as the same Parquet group); a
        // shredded one is rebuilt and written unshredded, as a writer may;
        // vacuum and checkpoints never touch data files' columns.
        if (addsRows) throw unsupportedWrite(feature, " (neuralake makes no variant values)");
        continue;
      default:
        if (support?.write !== "yes") throw unsupportedWrite(feature);
    }
  }
}

function impliedWriterFeatures(version: number): Set<string> {
  const features = new Set<string>();
  if (version >= 2) features.add("appendOnly").add("invariants");
  if (version >= 3) features.add("checkConstraints");
  if (version >= 4) features.add("changeDataFeed").add("generatedColumns");
  if (version >= 5) features.add("columnMapping");
  if (version >= 6) features.add("identityColumns");
  return features;
}

/** Whether a legacy-implied or listed feature is actually in effect for this table. */
export function featureInUse(
  feature: string,
  config: Record<string, string>,
  schema: StructType,
): boolean {
  switch (feature) {
    case "appendOnly":
      return config["delta.appendOnly"] === "true";
    case "invariants":
      return anyField(schema, (f) => "delta.invariants" in f.metadata);
    case "checkConstraints":
      return Object.keys(config).some((k) => k.startsWith("delta.constraints."));
    case "changeDataFeed":
      return config["delta.enableChangeDataFeed"] === "true";
    case "generatedColumns":
      return anyField(schema, (f) => "delta.generationExpression" in f.metadata);
    case "allowColumnDefaults":
      return anyField(schema, (f) => "CURRENT_DEFAULT" in f.metadata);
    case "columnMapping": {
      const mode = config["delta.columnMapping.mode"];
      return mode !== undefined && mode !== "none";
    }
    case "identityColumns":
      return anyField(
        schema,
        (f) => Object.keys(f.metadata).some((k) => k.startsWith("delta.identity.")),
      );
    case "rowTracking":
      // Writers must assign row ids whenever the feature is supported, unless
      // suspended; a suspension beside delta.enableRowTracking=true is refused.
      return config["delta.rowTrackingSuspended"] !== "true" ||
        config["delta.enableRowTracking"] === "true";
    case "inCommitTimestamp":
      return config["delta.enableInCommitTimestamps"] === "true";
    case "icebergCompatV1":
      return config["delta.enableIcebergCompatV1"] === "true";
    case "icebergCompatV2":
      return config["delta.enableIcebergCompatV2"] === "true";
    default:
      // Any other listed feature is assumed to be in use.
      return true;
  }
}

function anyField(schema: StructType, test: (f: StructField) => boolean): boolean {
  const visit = (fields: readonly StructField[]): boolean =>
    fields.some((f) =>
      test(f) || (typeof f.type === "object" && f.type.type === "struct" && visit(f.type.fields))
    );
  return visit(schema.fields);
}

/**
 * True if writers must assign row ids: the table supports rowTracking and
 * has not suspended it.
 */
export function rowTrackingActive(protocol: Protocol, metadata: Metadata): boolean {
  return protocol.minWriterVersion === 7 &&
    (protocol.writerFeatures ?? []).includes("rowTracking") &&
    metadata.configuration["delta.rowTrackingSuspended"] !== "true";
}

/**
 * True if a rewrite keeps the rows' ids in the materialized columns although
 * no fresh ids are assigned: the table supports rowTracking, has suspended
 * it (`delta.rowTrackingSuspended=true`, as Spark does while dropping the
 * feature) and names both materialized columns. Rows that have ids keep
 * them, so lifting the suspension finds them unchanged.
 */
export function rowTrackingSuspendedWithIds(protocol: Protocol, metadata: Metadata): boolean {
  const config = metadata.configuration;
  return protocol.minWriterVersion === 7 &&
    (protocol.writerFeatures ?? []).includes("rowTracking") &&
    config["delta.rowTrackingSuspended"] === "true" &&
    !!config["delta.rowTracking.materializedRowIdColumnName"] &&
    !!config["delta.rowTracking.materializedRowCommitVersionColumnName"];
}

/** True if the configuration both enables and suspends row tracking, which no writer may meet. */
function rowTrackingConflict(metadata: Metadata): boolean {
  return metadata.configuration["delta.enableRowTracking"] === "true" &&
    metadata.configuration["delta.rowTrackingSuspended"] === "true";
}

/** True if commits to the table must carry `inCommitTimestamp`. */
export function inCommitTimestampsEnabled(metadata: Metadata): boolean {
  return metadata.configuration["delta.enableInCommitTimestamps"] === "true";
}

/** True if the table forbids removing data (`delta.appendOnly`). */
export function isAppendOnly(metadata: Metadata): boolean {
  return metadata.configuration["delta.appendOnly"] === "true";
}

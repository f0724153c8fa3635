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
import type { StructField, StructType } from "./schema.ts";

/** The protocol that new tables get. */
export const NEW_TABLE_PROTOCOL: Protocol = { minReaderVersion: 1, minWriterVersion: 2 };

/**
 * The protocol a new table with this schema needs: reader 1 / writer 2, or
 * reader 3 / writer 7 with the `timestampNtz` feature when a column (at any
 * depth) is a timestamp without time zone, as the protocol requires.
 */
export function protocolForSchema(schema: StructType): Protocol {
  const usesNtz = anyField(schema, (f) => containsType(f.type, "timestamp_ntz"));
  if (!usesNtz) return NEW_TABLE_PROTOCOL;
  return {
    minReaderVersion: 3,
    minWriterVersion: 7,
    readerFeatures: ["timestampNtz"],
    writerFeatures: ["timestampNtz"],
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

/** Reader features that this implementation reads correctly. */
const SUPPORTED_READER_FEATURES = new Set([
  "timestampNtz",
  // UUID-named JSON and Parquet checkpoints with sidecars are read.
  "v2Checkpoint",
  "vacuumProtocolCheck",
  "deletionVectors",
]);

/** Writer features that this implementation honours when writing. */
const SUPPORTED_WRITER_FEATURES = new Set([
  "appendOnly",
  // Checkpoints of such tables are V2 (never multi-part); log cleanup keeps
  // every sidecar that a kept checkpoint names.
  "v2Checkpoint",
  "invariants",
  "timestampNtz",
  "domainMetadata",
  "vacuumProtocolCheck",
  // Appends need no vectors; compaction drops deleted rows and vacuum keeps
  // every vector a live or retained file names.
  "deletionVectors",
]);

export { UnsupportedFeatureError };

/**
 * Throws `UnsupportedFeatureError` unless every feature that reading the table
 * needs is implemented.
 */
export function checkCanRead(protocol: Protocol, metadata: Metadata): void {
  const mode = metadata.configuration["delta.columnMapping.mode"];
  const mapped = mode !== undefined && mode !== "none";
  if (protocol.minReaderVersion > 3) {
    throw new UnsupportedFeatureError(
      `readerVersion${protocol.minReaderVersion}`,
      `Cannot read this table: it needs Delta reader version ${protocol.minReaderVersion} (readerVersion${protocol.minReaderVersion}), and neuralake implements up to 3`,
    );
  }
  if (protocol.minReaderVersion === 3) {
    for (const feature of protocol.readerFeatures ?? []) {
      if (feature === "columnMapping" && !mapped) continue;
      if (!SUPPORTED_READER_FEATURES.has(feature)) {
        throw unsupportedRead(feature);
      }
    }
  } else if (protocol.minReaderVersion === 2 && mapped) {
    throw unsupportedRead("columnMapping");
  }
  if (mapped) throw unsupportedRead("columnMapping");
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
 * Throws `UnsupportedFeatureError` unless neuralake can write to the table
 * without breaking a rule of one of its features. Reading must be possible too.
 */
export function checkCanWrite(protocol: Protocol, metadata: Metadata, schema: StructType): void {
  checkCanRead(protocol, metadata);
  const version = protocol.minWriterVersion;
  if (version > 7) {
    throw new UnsupportedFeatureError(
      `writerVersion${version}`,
      `Cannot write to this table: it needs Delta writer version ${version} (writerVersion${version}), and neuralake implements up to 7`,
    );
  }
  const config = metadata.configuration;
  const implied = version === 7 ? new Set(protocol.writerFeatures ?? []) : impliedWriterFeatures(
    version,
  );
  for (const feature of implied) {
    if (SUPPORTED_WRITER_FEATURES.has(feature)) continue;
    if (!featureInUse(feature, config, schema)) continue;
    throw unsupportedWrite(feature);
  }
  if (implied.has("invariants") && anyField(schema, (f) => "delta.invariants" in f.metadata)) {
    throw unsupportedWrite("invariants", " (a column has an invariant)");
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
function featureInUse(
  feature: string,
  config: Record<string, string>,
  schema: StructType,
): boolean {
  switch (feature) {
    case "checkConstraints":
      return Object.keys(config).some((k) => k.startsWith("delta.constraints."));
    case "changeDataFeed":
      return config["delta.enableChangeDataFeed"] === "true";
    case "generatedColumns":
      return anyField(schema, (f) => "delta.generationExpression" in f.metadata);
    case "columnMapping": {
      const mode = config["delta.columnMapping.mode"];
      return mode !== undefined && mode !== "none";
    }
    case "identityColumns":
      return anyField(
        schema,
        (f) => Object.keys(f.metadata).some((k) => k.startsWith("delta.identity.")),
      );
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

/** True if the table forbids removing data (`delta.appendOnly`). */
export function isAppendOnly(metadata: Metadata): boolean {
  return metadata.configuration["delta.appendOnly"] === "true";
}

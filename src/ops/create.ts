/**
 * Creating a table: validate the schema, partition columns and properties,
 * then commit version 0 (protocol and metadata) with put-if-absent, so two
 * concurrent creators cannot both succeed.
 */

import type { Action, Metadata } from "../delta/actions.ts";
import { commitKey } from "../delta/log_path.ts";
import { protocolForSchema } from "../delta/protocol.ts";
import { serializeActions } from "../delta/actions.ts";
import { parseInterval } from "../delta/checkpoint.ts";
import {
  assignColumnMapping,
  primitiveTypeOf,
  schemaToString,
  type StructType,
  typeName,
} from "../delta/schema.ts";
import { checkNewSchema } from "../delta/schema_check.ts";
import { ENGINE_INFO } from "../version.ts";
import type { Table } from "./table.ts";

/** What a new table looks like. */
export interface CreateOptions {
  schema: StructType;
  partitionColumns?: string[];
  properties?: Record<string, string>;
  name?: string;
  description?: string;
}

/** Raised when creating a table where one exists. */
export class TableExistsError extends Error {
  constructor(uri: string) {
    super(`A Delta table already exists at ${uri}`);
    this.name = "TableExistsError";
  }
}

/** Checks the schema, partition columns and properties; throws with what is wrong. */
export function validateTableDefinition(options: CreateOptions): void {
  checkNewSchema(options.schema);
  const partitions = options.partitionColumns ?? [];
  const seen = new Set<string>();
  for (const column of partitions) {
    const field = options.schema.fields.find((f) => f.name === column);
    if (!field) {
      throw new RangeError(
        `Partition column "${column}" is not in the schema; columns are: ${
          options.schema.fields.map((f) => f.name).join(", ")
        }`,
      );
    }
    if (!primitiveTypeOf(field)) {
      throw new RangeError(
        `Partition column "${column}" has type ${
          typeName(field.type)
        }; partition columns must be primitive`,
      );
    }
    if (seen.has(column)) throw new RangeError(`Partition column "${column}" is listed twice`);
    seen.add(column);
  }
  if (partitions.length > 0 && partitions.length === options.schema.fields.length) {
    throw new RangeError("A table needs at least one column that is not a partition column");
  }
  for (const [key, value] of Object.entries(options.properties ?? {})) {
    checkProperty(key, value);
  }
}

const INTERVAL_PROPERTIES = new Set([
  "delta.deletedFileRetentionDuration",
  "delta.logRetentionDuration",
]);

/**
 * The `delta.` properties a new table may have: those neuralake honours, and
 * those that only tell other engines how to write or optimize, kept as given.
 * Any other `delta.` key is refused, as Spark refuses unknown ones, rather
 * than stored as a setting nothing acts on.
 */
const KNOWN_DELTA_PROPERTIES = new Set([
  "delta.appendOnly",
  "delta.checkpointInterval",
  "delta.deletedFileRetentionDuration",
  "delta.logRetentionDuration",
  "delta.enableChangeDataFeed",
  "delta.enableDeletionVectors",
  "delta.columnMapping.mode",
  "delta.autoOptimize.optimizeWrite",
  "delta.autoOptimize.autoCompact",
  "delta.targetFileSize",
]);

function checkProperty(key: string, value: string): void {
  if (key === "delta.minReaderVersion" || key === "delta.minWriterVersion") {
    throw new RangeError(
      `Property ${key}=${value} sets the protocol, which neuralake chooses from the schema (reader 1, writer 2 for a plain table): leave it out`,
    );
  }
  if (key.startsWith("delta.feature.")) {
    throw new RangeError(
      `Property ${key}=${value} asks for a table feature; neuralake enables the features a new table needs itself: leave it out`,
    );
  }
  if (key.startsWith("delta.constraints.")) {
    throw new RangeError(
      `Property ${key} adds a CHECK constraint, which needs the checkConstraints table feature; neuralake does not create tables with it`,
    );
  }
  if (key.startsWith("delta.") && !KNOWN_DELTA_PROPERTIES.has(key)) {
    throw new RangeError(
      `Property ${key} is not a Delta table property neuralake knows or honours; known: ${
        [...KNOWN_DELTA_PROPERTIES].join(", ")
      }`,
    );
  }
  if (key === "delta.enableDeletionVectors") {
    if (value !== "false") {
      throw new RangeError(
        `Property ${key} must be false on a table neuralake creates, got "${value}"`,
      );
    }
  } else if (
    key === "delta.autoOptimize.optimizeWrite" || key === "delta.autoOptimize.autoCompact"
  ) {
    if (value !== "true" && value !== "false") {
      throw new RangeError(`Property ${key} must be true or false, got "${value}"`);
    }
  } else if (key === "delta.checkpointInterval") {
    if (!/^[1-9]\d*$/.test(value)) {
      throw new RangeError(`Property ${key} must be a positive integer, got "${value}"`);
    }
  } else if (key === "delta.appendOnly" || key === "delta.enableChangeDataFeed") {
    if (value !== "true" && value !== "false") {
      throw new RangeError(`Property ${key} must be true or false, got "${value}"`);
    }
    if (key === "delta.enableChangeDataFeed" && value === "true") {
      throw new RangeError("neuralake does not write change data feed tables");
    }
  } else if (INTERVAL_PROPERTIES.has(key)) {
    if (parseInterval(value) === undefined) {
      throw new RangeError(
        `Property ${key} must be an interval such as "interval 7 days", got "${value}"`,
      );
    }
  } else if (key === "delta.columnMapping.mode") {
    if (value !== "none" && value !== "name" && value !== "id") {
      throw new RangeError(`Property ${key} must be none, name or id, got "${value}"`);
    }
  }
}

/** The actions of version 0 of a new table. */
export function createTableActions(options: CreateOptions, now = Date.now()): Action[] {
  validateTableDefinition(options);
  const configuration = { ...options.properties ?? {} };
  let schema = options.schema;
  // With column mapping every field, at every depth, gets a physical name and
  // an id, and the table records the largest id given.
  const mapped = (configuration["delta.columnMapping.mode"] ?? "none") !== "none";
  if (mapped) {
    const assigned = assignColumnMapping(schema);
    schema = assigned.schema;
    configuration["delta.columnMapping.maxColumnId"] = String(assigned.maxColumnId);
  }
  const metadata: Metadata = {
    id: crypto.randomUUID(),
    name: options.name ?? null,
    description: options.description ?? null,
    format: { provider: "parquet", options: {} },
    schemaString: schemaToString(schema),
    partitionColumns: options.partitionColumns ?? [],
    createdTime: now,
    configuration,
  };
  return [
    {
      commitInfo: {
        timestamp: now,
        operation: "CREATE TABLE",
        operationParameters: {
          partitionBy: JSON.stringify(options.partitionColumns ?? []),
          properties: JSON.stringify(options.properties ?? {}),
        },
        isBlindAppend: true,
        engineInfo: ENGINE_INFO,
        txnId: crypto.randomUUID(),
      },
    },
    { protocol: protocolForSchema(schema, configuration) },
    { metaData: metadata },
  ];
}

/** Creates the table; throws `TableExistsError` if version 0 exists. */
export async function createTable(table: Table, options: CreateOptions): Promise<Metadata> {
  const actions = createTableActions(options);
  const body = new TextEncoder().encode(serializeActions(actions));
  const outcome = await table.store.putIfAbsent(commitKey(0), body);
  if (outcome === "exists") throw new TableExistsError(table.uri);
  return (actions[2] as { metaData: Metadata }).metaData;
}

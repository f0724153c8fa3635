/**
 * Delta log actions, typed exactly as PROTOCOL.md spells them in JSON, and
 * their parsing from and serialisation to newline-delimited commit files.
 *
 * Invariants:
 * - Field names are the protocol's (`partitionValues`, `dataChange`), so an
 *   action serialises with `JSON.stringify` unchanged.
 * - Parsing validates the fields that replay relies on and ignores unknown
 *   fields and unknown action kinds, as the protocol requires of readers.
 */

import { InputError } from "../util/errors.ts";

/** The `protocol` action. */
export interface Protocol {
  minReaderVersion: number;
  minWriterVersion: number;
  readerFeatures?: string[];
  writerFeatures?: string[];
}

/** The `format` of a `metaData` action. */
export interface Format {
  provider: string;
  options: Record<string, string>;
}

/** The `metaData` action. */
export interface Metadata {
  id: string;
  name?: string | null;
  description?: string | null;
  format: Format;
  schemaString: string;
  partitionColumns: string[];
  createdTime?: number | null;
  configuration: Record<string, string>;
}

/** A deletion vector descriptor (read only to refuse tables that use them). */
export interface DeletionVectorDescriptor {
  storageType: string;
  pathOrInlineDv: string;
  offset?: number;
  sizeInBytes: number;
  cardinality: number;
}

/** The `add` action. */
export interface Add {
  path: string;
  partitionValues: Record<string, string | null>;
  size: number;
  modificationTime: number;
  dataChange: boolean;
  stats?: string | null;
  tags?: Record<string, string | null> | null;
  deletionVector?: DeletionVectorDescriptor | null;
  baseRowId?: number | null;
  defaultRowCommitVersion?: number | null;
  clusteringProvider?: string | null;
}

/** The `remove` action. */
export interface Remove {
  path: string;
  deletionTimestamp?: number | null;
  dataChange: boolean;
  extendedFileMetadata?: boolean | null;
  partitionValues?: Record<string, string | null> | null;
  size?: number | null;
  stats?: string | null;
  tags?: Record<string, string | null> | null;
  deletionVector?: DeletionVectorDescriptor | null;
  baseRowId?: number | null;
  defaultRowCommitVersion?: number | null;
}

/** The `txn` action: an application's idempotency marker. */
export interface Txn {
  appId: string;
  version: number;
  lastUpdated?: number | null;
}

/** The `commitInfo` action: provenance, free-form beyond these fields. */
export interface CommitInfo {
  timestamp?: number;
  operation?: string;
  operationParameters?: Record<string, unknown>;
  engineInfo?: string;
  txnId?: string;
  isBlindAppend?: boolean;
  readVersion?: number;
  operationMetrics?: Record<string, unknown>;
  /** The commit's time under the inCommitTimestamp feature, in ms, strictly increasing. */
  inCommitTimestamp?: number;
  [key: string]: unknown;
}

/** The `domainMetadata` action. */
export interface DomainMetadata {
  domain: string;
  configuration: string;
  removed: boolean;
}

/** The `cdc` action (kept on read; neuralake does not write it). */
export interface Cdc {
  path: string;
  partitionValues: Record<string, string | null>;
  size: number;
  dataChange: boolean;
  tags?: Record<string, string | null> | null;
}

/** The `checkpointMetadata` action: only in v2 checkpoints (PROTOCOL.md, "Checkpoint Metadata"). */
export interface CheckpointMetadata {
  version: number;
  tags?: Record<string, string | null> | null;
}

/** The `sidecar` action: only in v2 checkpoints; names a file of `_delta_log/_sidecars/`. */
export interface Sidecar {
  path: string;
  sizeInBytes: number;
  modificationTime: number;
  tags?: Record<string, string | null> | null;
}

/** Any action this implementation understands. */
export type Action =
  | { protocol: Protocol }
  | { metaData: Metadata }
  | { add: Add }
  | { remove: Remove }
  | { txn: Txn }
  | { commitInfo: CommitInfo }
  | { domainMetadata: DomainMetadata }
  | { cdc: Cdc }
  | { checkpointMetadata: CheckpointMetadata }
  | { sidecar: Sidecar };

/** Serialises actions as the lines of a commit file. */
export function serializeActions(actions: readonly Action[]): string {
  let out = "";
  for (const action of actions) out += JSON.stringify(action) + "\n";
  return out;
}

/**
 * Parses the text of a commit file into actions. `where` names the file in
 * error messages.
 */
export function parseCommit(text: string, where: string): Action[] {
  const actions: Action[] = [];
  let line = 0;
  let start = 0;
  while (start <= text.length) {
    let end = text.indexOf("\n", start);
    if (end < 0) end = text.length;
    line++;
    const raw = text.slice(start, end).trim();
    start = end + 1;
    if (raw === "") continue;
    let value: unknown;
    try {
      value = JSON.parse(raw);
    } catch (error) {
      // The file and line as fields too, for `--json` and scripts.
      throw new InputError(`Cannot parse ${where}: line ${line} is not JSON`, {
        file: where,
        line,
      }, { cause: error });
    }
    const action = toAction(value, `${where}: line ${line}`);
    if (action) actions.push(action);
  }
  return actions;
}

/**
 * Validates one decoded action object (from JSON or a checkpoint row).
 * Returns `undefined` for action kinds that readers must ignore.
 */
export function toAction(value: unknown, where: string): Action | undefined {
  if (!isObject(value)) throw new Error(`Cannot read ${where}: an action must be a JSON object`);
  if ("add" in value && value.add != null) return { add: checkAdd(value.add, where) };
  if ("remove" in value && value.remove != null) {
    return { remove: checkRemove(value.remove, where) };
  }
  if ("metaData" in value && value.metaData != null) {
    return { metaData: checkMetadata(value.metaData, where) };
  }
  if ("protocol" in value && value.protocol != null) {
    return { protocol: checkProtocol(value.protocol, where) };
  }
  if ("txn" in value && value.txn != null) return { txn: checkTxn(value.txn, where) };
  if ("commitInfo" in value && value.commitInfo != null) {
    if (!isObject(value.commitInfo)) fail(where, "commitInfo", "an object");
    return { commitInfo: value.commitInfo as CommitInfo };
  }
  if ("domainMetadata" in value && value.domainMetadata != null) {
    const d = value.domainMetadata;
    if (!isObject(d)) fail(where, "domainMetadata", "an object");
    requireString(d, "domain", where);
    return {
      domainMetadata: {
        domain: d.domain as string,
        configuration: typeof d.configuration === "string" ? d.configuration : "",
        removed: d.removed === true,
      },
    };
  }
  if ("cdc" in value && value.cdc != null) {
    const c = value.cdc;
    if (!isObject(c)) fail(where, "cdc", "an object");
    requireString(c, "path", where);
    return { cdc: c as unknown as Cdc };
  }
  if ("checkpointMetadata" in value && value.checkpointMetadata != null) {
    const m = value.checkpointMetadata;
    if (!isObject(m)) fail(where, "checkpointMetadata", "an object");
    requireNumber(m, "version", where);
    return { checkpointMetadata: m as unknown as CheckpointMetadata };
  }
  if ("sidecar" in value && value.sidecar != null) {
    const c = value.sidecar;
    if (!isObject(c)) fail(where, "sidecar", "an object");
    requireString(c, "path", where);
    requireNumber(c, "sizeInBytes", where);
    return { sidecar: c as unknown as Sidecar };
  }
  return undefined;
}

function checkAdd(value: unknown, where: string): Add {
  if (!isObject(value)) fail(where, "add", "an object");
  requireString(value, "path", where);
  requireNumber(value, "size", where);
  if (value.modificationTime == null) value.modificationTime = 0;
  requireNumber(value, "modificationTime", where);
  if (typeof value.dataChange !== "boolean") value.dataChange = true;
  if (value.partitionValues == null) value.partitionValues = {};
  if (!isObject(value.partitionValues)) fail(where, "add.partitionValues", "an object");
  return value as unknown as Add;
}

function checkRemove(value: unknown, where: string): Remove {
  if (!isObject(value)) fail(where, "remove", "an object");
  requireString(value, "path", where);
  if (typeof value.dataChange !== "boolean") value.dataChange = true;
  return value as unknown as Remove;
}

function checkMetadata(value: unknown, where: string): Metadata {
  if (!isObject(value)) fail(where, "metaData", "an object");
  requireString(value, "id", where);
  requireString(value, "schemaString", where);
  if (value.partitionColumns == null) value.partitionColumns = [];
  if (!Array.isArray(value.partitionColumns)) {
    fail(where, "metaData.partitionColumns", "an array of strings");
  }
  if (value.configuration == null) value.configuration = {};
  if (value.format == null) value.format = { provider: "parquet", options: {} };
  return value as unknown as Metadata;
}

function checkProtocol(value: unknown, where: string): Protocol {
  if (!isObject(value)) fail(where, "protocol", "an object");
  requireNumber(value, "minReaderVersion", where);
  requireNumber(value, "minWriterVersion", where);
  return value as unknown as Protocol;
}

function checkTxn(value: unknown, where: string): Txn {
  if (!isObject(value)) fail(where, "txn", "an object");
  requireString(value, "appId", where);
  requireNumber(value, "version", where);
  return value as unknown as Txn;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function requireString(obj: Record<string, unknown>, key: string, where: string): void {
  if (typeof obj[key] !== "string") fail(where, key, "a string");
}

function requireNumber(obj: Record<string, unknown>, key: string, where: string): void {
  const v = obj[key];
  if (typeof v === "bigint") {
    obj[key] = Number(v);
    return;
  }
  if (typeof v !== "number" || !Number.isFinite(v)) fail(where, key, "a number");
}

function fail(where: string, field: string, expected: string): never {
  throw new Error(`Cannot read ${where}: field "${field}" must be ${expected}`);
}

/**
 * Nested records (Delta checkpoints and sidecars) read column by column:
 * each wanted leaf column is decoded by the typed-array decoder
 * (`decodeLeafChunk`) into its definition and repetition levels and its
 * non-null values, and records are assembled from the levels directly,
 * without an object per entry or a BigInt per level.
 *
 * Shapes: structs at any depth, and lists and maps (with primitive or struct
 * elements) that repeat one level deep, which is every shape of the Delta
 * checkpoint schema. A column that repeats deeper is refused with an error
 * naming it (data files' nested columns are read by `nested_columns.ts`).
 *
 * Values: structs become objects, lists arrays, maps plain objects keyed by
 * the key's text; 64-bit integers are bigint, timestamps bigint microseconds
 * (floored), dates days, decimals unscaled bigint, booleans booleans, UTF-8
 * strings strings and other byte arrays Uint8Array. A null struct, list or
 * map is null, as is a null leaf.
 */

import type { SchemaElement, SchemaTree } from "hyparquet";
import type { Field } from "../columnar/batch.ts";
import { allocateValues } from "../columnar/batch.ts";
import { decodeLeafChunk, fastPlanOf, type LeafTarget } from "./column_reader.ts";
import { planConversion } from "./convert.ts";
import type { FastPlan } from "./physical.ts";
import type { ParquetFile } from "./metadata.ts";
import { describeElement, leafKind } from "./schema.ts";

/** One leaf column of all row groups, ready for assembly. */
interface Leaf {
  maxDef: number;
  maxRep: number;
  def: Uint8Array;
  /** Entry index where each row starts (rows + 1 entries); only when the leaf repeats. */
  rowStart: Int32Array | undefined;
  /** The value at an entry, or null where the entry's definition level is below the maximum. */
  valueAt: (entry: number) => unknown;
}

/** What `readRecords` reads. */
export interface RecordOptions {
  /** Fields of the wanted top-level structs to leave out (never read), such as `stats_parsed`. */
  skipFields?: string[];
}

/**
 * Reads the named top-level columns (all when omitted) of every row as
 * records.
 *
 * @example
 * ```ts
 * const rows = await readRecords(await openParquet(source), ["add", "metaData"]);
 * ```
 */
export async function readRecords(
  file: ParquetFile,
  columns?: string[],
  options: RecordOptions = {},
): Promise<Record<string, unknown>[]> {
  const names = columns ?? file.schema.children.map((c) => c.element.name);
  const skip = new Set(options.skipFields ?? []);
  // Fields of the top-level structs that the caller does not want are left
  // out of the tree, so their leaves are never read.
  const trees = names.map((name) => {
    const tree = file.schema.children.find((c) => c.element.name === name);
    if (!tree) {
      throw new RangeError(
        `Cannot read column "${name}" of ${file.name}: the file has no such column`,
      );
    }
    return { ...tree, children: tree.children.filter((c) => !skip.has(c.element.name)) };
  });
  for (const tree of trees) checkShape(file, tree, [], 0);
  const leaves = new Map<SchemaTree, Leaf>();
  for (const tree of trees) {
    for (const path of leafPaths(tree, [file.schema])) {
      leaves.set(path.at(-1)!, await readLeaf(file, path));
    }
  }
  const rows: Record<string, unknown>[] = new Array(file.numRows);
  for (let r = 0; r < rows.length; r++) rows[r] = {};
  trees.forEach((tree, t) => {
    const name = names[t]!;
    const defLevels = new Map<SchemaTree, number>();
    computeDefLevels(tree, 0, defLevels);
    const read = compile(tree, leaves, defLevels);
    for (let r = 0; r < rows.length; r++) rows[r]![name] = read(r, 0);
  });
  return rows;
}

function checkShape(file: ParquetFile, tree: SchemaTree, path: string[], repeated: number): void {
  const here = [...path, tree.element.name];
  const r = repeated + (tree.element.repetition_type === "REPEATED" ? 1 : 0);
  if (r > 1) {
    throw new TypeError(
      `Cannot read column ${
        here.join(".")
      } of ${file.name} as records: it repeats ${r} levels deep, and records are read one level deep`,
    );
  }
  for (const c of tree.children) checkShape(file, c, here, r);
}

function leafPaths(tree: SchemaTree, prefix: SchemaTree[]): SchemaTree[][] {
  const path = [...prefix, tree];
  if (!tree.children.length) return [path];
  return tree.children.flatMap((c) => leafPaths(c, path));
}

/** The definition level at which each node counts as present. */
function computeDefLevels(tree: SchemaTree, parent: number, out: Map<SchemaTree, number>): void {
  const level = parent + (tree.element.repetition_type === "REQUIRED" ? 0 : 1);
  out.set(tree, level);
  for (const c of tree.children) computeDefLevels(c, level, out);
}

function firstLeaf(tree: SchemaTree): SchemaTree {
  return tree.children.length ? firstLeaf(tree.children[0]!) : tree;
}

/** Reads the value of a node at a row (and an element offset inside a repeated group). */
type NodeReader = (row: number, offset: number) => unknown;

function isMapNode(el: SchemaElement): boolean {
  return el.converted_type === "MAP" || el.converted_type === "MAP_KEY_VALUE" ||
    el.logical_type?.type === "MAP";
}

function isListNode(el: SchemaElement): boolean {
  return el.converted_type === "LIST" || el.logical_type?.type === "LIST";
}

/**
 * Compiles a node into a reader once, so that the per-row work is only level
 * comparisons and value look-ups. Presence of a node is decided by the
 * definition level of the first leaf under it.
 */
function compile(
  node: SchemaTree,
  leaves: Map<SchemaTree, Leaf>,
  defLevels: Map<SchemaTree, number>,
): NodeReader {
  const leaf = leaves.get(firstLeaf(node))!;
  const { def, rowStart, maxDef } = leaf;
  const el = node.element;
  const level = defLevels.get(node)!;
  const optional = el.repetition_type === "OPTIONAL";
  const entryOf = rowStart
    ? (row: number, offset: number) => rowStart[row]! + offset
    : (row: number) => row;
  const defAt = maxDef === 0 ? () => 0 : (entry: number) => def[entry]!;
  const child = node.children[0];
  const repeatedChild = node.children.length === 1 &&
    child!.element.repetition_type === "REPEATED";
  if (el.repetition_type === "REPEATED" || (repeatedChild && (isMapNode(el) || isListNode(el)))) {
    // A list or map: its entries are the row's entries of the repeated node.
    const repeated = el.repetition_type === "REPEATED" ? node : child!;
    const elementLevel = defLevels.get(repeated)!;
    const starts = rowStart!;
    const count = (row: number, d: number) =>
      d >= elementLevel ? starts[row + 1]! - starts[row]! : 0;
    const nullable = optional && repeated !== node;
    if (repeated !== node && isMapNode(el)) {
      const keyNode = repeated.children.find((c) => c.element.name === "key") ??
        repeated.children[0]!;
      const valueNode = repeated.children.find((c) => c !== keyNode);
      const key = compile(keyNode, leaves, defLevels);
      const value = valueNode ? compile(valueNode, leaves, defLevels) : () => null;
      return (row) => {
        const d = defAt(starts[row]!);
        if (nullable && d < level) return null;
        const out: Record<string, unknown> = {};
        const n = count(row, d);
        for (let j = 0; j < n; j++) out[key(row, j) as string] = value(row, j);
        return out;
      };
    }
    // The element: the repeated node itself (two-level lists), or its one child.
    const item = repeated === node || repeated.children.length !== 1
      ? elementOf(repeated, leaves, defLevels)
      : compile(repeated.children[0]!, leaves, defLevels);
    return (row) => {
      const d = defAt(starts[row]!);
      if (nullable && d < level) return null;
      const n = count(row, d);
      const out = new Array<unknown>(n);
      for (let j = 0; j < n; j++) out[j] = item(row, j);
      return out;
    };
  }
  if (!node.children.length) {
    const valueAt = leaf.valueAt;
    return (row, offset) => valueAt(entryOf(row, offset));
  }
  const names = node.children.map((c) => c.element.name);
  const fields = node.children.map((c) => compile(c, leaves, defLevels));
  return (row, offset) => {
    if (optional && defAt(entryOf(row, offset)) < level) return null;
    const out: Record<string, unknown> = {};
    for (let i = 0; i < fields.length; i++) out[names[i]!] = fields[i]!(row, offset);
    return out;
  };
}

/** The reader of one element of a repeated node that is its own element. */
function elementOf(
  repeated: SchemaTree,
  leaves: Map<SchemaTree, Leaf>,
  defLevels: Map<SchemaTree, number>,
): NodeReader {
  if (!repeated.children.length) {
    const valueAt = leaves.get(repeated)!.valueAt;
    const starts = leaves.get(repeated)!.rowStart!;
    return (row, offset) => valueAt(starts[row]! + offset);
  }
  const names = repeated.children.map((c) => c.element.name);
  const fields = repeated.children.map((c) => compile(c, leaves, defLevels));
  return (row, offset) => {
    const out: Record<string, unknown> = {};
    for (let i = 0; i < fields.length; i++) out[names[i]!] = fields[i]!(row, offset);
    return out;
  };
}

/** How a leaf's values are read: the field type its stored type maps to, decoded exactly. */
function leafPlan(file: ParquetFile, element: SchemaElement, dotted: string): [Field, FastPlan] {
  const kind = leafKind(element);
  const fail = (why: string): never => {
    throw new TypeError(`Cannot read column ${dotted} of ${file.name}: ${why}`);
  };
  if (!kind.type) return fail(`${describeElement(element)} is not a type records are read as`);
  const field: Field = { name: element.name, type: kind.type, nullable: true };
  const planned = planConversion(element, kind, field, file.name).element;
  const plan = fastPlanOf(planned, kind, field);
  if (typeof plan === "string") return fail(plan);
  return [field, plan];
}

/** Decodes one leaf column across all row groups. */
async function readLeaf(file: ParquetFile, path: SchemaTree[]): Promise<Leaf> {
  const element = path.at(-1)!.element;
  const names = path.slice(1).map((p) => p.element.name);
  const dotted = names.join(".");
  const maxDef = path.slice(1).filter((p) => p.element.repetition_type !== "REQUIRED").length;
  const maxRep = path.filter((p) => p.element.repetition_type === "REPEATED").length;
  if (maxDef > 255 || maxRep > 255) {
    throw new RangeError(`Cannot read column ${dotted} of ${file.name}: it nests too deep`);
  }
  const [field, plan] = leafPlan(file, element, dotted);
  const key = names.join("\u0000");
  const chunks = file.metadata.row_groups.map((group) => {
    const meta = group.columns.find((c) => c.meta_data?.path_in_schema.join("\u0000") === key)
      ?.meta_data;
    if (!meta) {
      throw new Error(`Cannot read ${file.name}: column ${dotted} is missing from a row group`);
    }
    return meta;
  });
  // Sized once from the footer: levels fit a byte each.
  const entries = chunks.reduce((n, meta) => n + Number(meta.num_values), 0);
  const target: LeafTarget = {
    maxDefinition: maxDef,
    maxRepetition: maxRep,
    def: new Uint8Array(maxDef ? entries : 0),
    rep: new Uint8Array(maxRep ? entries : 0),
    values: allocateValues(field.type, entries),
    entries: 0,
    count: 0,
  };
  for (const [g, meta] of chunks.entries()) {
    const dictOffset = meta.dictionary_page_offset;
    const start = Number(
      dictOffset !== undefined && dictOffset > 0n && dictOffset < meta.data_page_offset
        ? dictOffset
        : meta.data_page_offset,
    );
    const size = Number(meta.total_compressed_size);
    const bytes = await file.source.read(start, size);
    if (bytes.length !== size) {
      throw new RangeError(
        `Cannot read column ${dotted} of ${file.name} (row group ${g}): its bytes ${start}..${
          start + size
        } lie outside the file`,
      );
    }
    try {
      decodeLeafChunk(bytes, meta.codec, plan, Number(meta.num_values), target);
    } catch (error) {
      throw new Error(
        `Cannot read column ${dotted} of ${file.name} (row group ${g}): ${
          (error as Error).message
        }`,
        { cause: error },
      );
    }
  }
  const { def, rep, values } = target;
  let rowStart: Int32Array | undefined;
  if (maxRep) {
    rowStart = new Int32Array(file.numRows + 1);
    let r = 0;
    for (let e = 0; e < entries; e++) if (rep[e] === 0) rowStart[r++] = e;
    if (r !== file.numRows) {
      throw new RangeError(
        `Cannot read column ${dotted} of ${file.name}: it holds ${r} rows, the file ${file.numRows}`,
      );
    }
    rowStart[r] = entries;
  } else if (entries !== file.numRows) {
    throw new RangeError(
      `Cannot read column ${dotted} of ${file.name}: it holds ${entries} values, the file ${file.numRows} rows`,
    );
  }
  const get: (k: number) => unknown = plan.shape === "u8"
    ? (k) => (values as Uint8Array)[k] === 1
    : (k) => (values as ArrayLike<unknown>)[k];
  let valueAt: (entry: number) => unknown;
  if (maxDef === 0) valueAt = get;
  else if (target.count === entries) {
    valueAt = (e) => def[e] === maxDef ? get(e) : null;
  } else {
    const valueIndex = new Int32Array(entries);
    let v = 0;
    for (let e = 0; e < entries; e++) {
      valueIndex[e] = v;
      if (def[e] === maxDef) v++;
    }
    valueAt = (e) => def[e] === maxDef ? get(valueIndex[e]!) : null;
  }
  return { maxDef, maxRep, def, rowStart, valueAt };
}

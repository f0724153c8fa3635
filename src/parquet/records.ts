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
  /** For a 64-bit integer leaf: `valueAt` as a number, without a BigInt. */
  int64AsNumber?: (entry: number) => number | null;
  /** For a string leaf read with hashes: the `stringHash` of the value at an entry (0 if null). */
  hashAt?: (entry: number) => number;
}

/** What `readRecords` reads. */
export interface RecordOptions {
  /**
   * Fields of the wanted top-level structs to leave out (never read), such as
   * `stats_parsed`; a dotted path leaves out a field further down
   * (`stats_parsed.minValues`).
   */
  skipFields?: string[];
  /**
   * String leaves, as dotted paths from the top-level column (`add.path`),
   * whose values are also hashed as they are decoded (`stringHash`, from
   * the bytes of ASCII values), for `RecordColumns.stringHash`.
   */
  hashFields?: string[];
}

/** The value of a node at a row (top-level rows: the offset is 0). */
export type RowReader = (row: number, offset: number) => unknown;

/**
 * Decoded leaves of a file's nested columns, read node by node: a caller
 * that needs a few fields of each record (a checkpoint's `add.path`,
 * `add.size`, ...) reads them straight from the leaves without assembling
 * the records around them.
 */
export interface RecordColumns {
  readonly numRows: number;
  /**
   * The reader of the node at `path` (a top-level column, then field names
   * inside its structs), or undefined if the file has no such node or it was
   * skipped. Readers are compiled once; call them per row. A reader answers
   * for rows where every struct above the node is present (check with
   * `presence`); below a null struct a required map may read as empty.
   */
  reader(path: readonly string[]): RowReader | undefined;
  /**
   * Whether the node at `path` (no list or map above it) is non-null at a
   * row, or undefined if there is no such node.
   */
  presence(path: readonly string[]): ((row: number) => boolean) | undefined;
  /**
   * The value of a 64-bit integer leaf at `path` (no list or map above it)
   * as a number (rounded beyond 2^53, as `Number(bigint)`), null where the
   * leaf is null, without a BigInt per value; undefined if there is no such
   * leaf or it is not a 64-bit integer.
   */
  int64AsNumber(path: readonly string[]): ((row: number) => number | null) | undefined;
  /**
   * The `stringHash` of a string leaf's value at a row (no list or map
   * above it), for a leaf that `RecordOptions.hashFields` names; undefined
   * otherwise. Call it only for rows where the value is a string.
   */
  stringHash(path: readonly string[]): ((row: number) => number) | undefined;
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
  const decoded = await readRecordColumns(file, names, options);
  const rows: Record<string, unknown>[] = new Array(file.numRows);
  for (let r = 0; r < rows.length; r++) rows[r] = {};
  for (const name of names) {
    const read = decoded.reader([name])!;
    for (let r = 0; r < rows.length; r++) rows[r]![name] = read(r, 0);
  }
  return rows;
}

/**
 * Decodes the leaves of the named top-level columns (all when omitted), for
 * reading node by node (`RecordColumns`). Leaves that `skipFields` names are
 * never read.
 */
export async function readRecordColumns(
  file: ParquetFile,
  columns?: string[],
  options: RecordOptions = {},
): Promise<RecordColumns> {
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
    return prune(tree, "", skip);
  });
  for (const tree of trees) checkShape(file, tree, [], 0);
  // Each leaf's bytes are fetched now and decoded on first use: a caller
  // that never reads a field (a checkpoint's stats, until a scan wants them)
  // never pays for decoding it.
  const hashed = new Set(options.hashFields ?? []);
  const leaves = new Leaves();
  for (const tree of trees) {
    for (const path of leafPaths(tree, [file.schema])) {
      const dotted = path.slice(1).map((p) => p.element.name).join(".");
      leaves.set(path.at(-1)!, await fetchLeaf(file, path, hashed.has(dotted)));
    }
  }
  const defLevels = new Map<SchemaTree, number>();
  for (const tree of trees) computeDefLevels(tree, 0, defLevels);
  const find = (path: readonly string[]): SchemaTree | undefined => {
    let node = trees[names.indexOf(path[0]!)];
    for (let i = 1; node && i < path.length; i++) {
      node = node.children.find((c) => c.element.name === path[i]);
    }
    return node;
  };
  /** A node with no repeated node above or at it: its entries are its rows. */
  const flat = (path: readonly string[]): SchemaTree | undefined => {
    const node = find(path);
    if (!node) return undefined;
    return leaves.maxRep(firstLeaf(node)) === 0 ? node : undefined;
  };
  return {
    numRows: file.numRows,
    reader(path) {
      const node = find(path);
      if (!node) return undefined;
      // Compiled (and its leaves decoded) on the first call.
      let compiled: NodeReader | undefined;
      return (row, offset) => (compiled ??= compile(node, leaves, defLevels))(row, offset);
    },
    presence(path) {
      const node = flat(path);
      if (!node) return undefined;
      // A required node has its parent's level: present wherever the parent is.
      const level = defLevels.get(node)!;
      if (level === 0) return () => true;
      let def: Uint8Array | undefined;
      return (row) => (def ??= leaves.get(firstLeaf(node)).def)[row]! >= level;
    },
    int64AsNumber(path) {
      const node = flat(path);
      if (!node || node.children.length) return undefined;
      if (!leaves.isInt64(node)) return undefined;
      let read: ((row: number) => number | null) | undefined;
      return (row) => (read ??= leaves.get(node).int64AsNumber!)(row);
    },
    stringHash(path) {
      const node = flat(path);
      if (!node || node.children.length || !leaves.isHashed(node)) return undefined;
      let read: ((row: number) => number) | undefined;
      return (row) => (read ??= leaves.get(node).hashAt!)(row);
    },
  };
}

/** The tree without the fields whose dotted paths (below the top-level column) are in `skip`. */
function prune(tree: SchemaTree, prefix: string, skip: ReadonlySet<string>): SchemaTree {
  const children: SchemaTree[] = [];
  for (const child of tree.children) {
    const path = prefix + child.element.name;
    if (skip.has(path)) continue;
    if (!child.children.length) {
      children.push(child);
      continue;
    }
    const pruned = prune(child, `${path}.`, skip);
    // A group left without fields would read as a leaf: leave it out too.
    if (pruned.children.length) children.push(pruned);
  }
  return { ...tree, children };
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
  leaves: Leaves,
  defLevels: Map<SchemaTree, number>,
): NodeReader {
  const leaf = leaves.get(firstLeaf(node));
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
  leaves: Leaves,
  defLevels: Map<SchemaTree, number>,
): NodeReader {
  if (!repeated.children.length) {
    const valueAt = leaves.get(repeated).valueAt;
    const starts = leaves.get(repeated).rowStart!;
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

/** A leaf whose bytes are fetched, decoded on first use. */
interface FetchedLeaf {
  maxRep: number;
  int64: boolean;
  /** Whether its values are hashed as they are decoded (`Leaf.hashAt`). */
  hashed: boolean;
  decode: () => Leaf;
}

/** The leaves of the wanted nodes, each decoded once, when first asked for. */
class Leaves {
  readonly #fetched = new Map<SchemaTree, FetchedLeaf>();
  readonly #decoded = new Map<SchemaTree, Leaf>();

  set(node: SchemaTree, leaf: FetchedLeaf): void {
    this.#fetched.set(node, leaf);
  }

  /** The decoded leaf (decoding it now if it is not yet). */
  get(node: SchemaTree): Leaf {
    let leaf = this.#decoded.get(node);
    if (!leaf) {
      leaf = this.#fetched.get(node)!.decode();
      this.#decoded.set(node, leaf);
    }
    return leaf;
  }

  maxRep(node: SchemaTree): number {
    return this.#fetched.get(node)!.maxRep;
  }

  isInt64(node: SchemaTree): boolean {
    return this.#fetched.get(node)?.int64 ?? false;
  }

  isHashed(node: SchemaTree): boolean {
    return this.#fetched.get(node)?.hashed ?? false;
  }
}

/**
 * Fetches the bytes of one leaf column across all row groups, and returns
 * how to decode them.
 */
async function fetchLeaf(
  file: ParquetFile,
  path: SchemaTree[],
  hash: boolean,
): Promise<FetchedLeaf> {
  const element = path.at(-1)!.element;
  const names = path.slice(1).map((p) => p.element.name);
  const dotted = names.join(".");
  const maxDef = path.slice(1).filter((p) => p.element.repetition_type !== "REQUIRED").length;
  const maxRep = path.filter((p) => p.element.repetition_type === "REPEATED").length;
  if (maxDef > 255 || maxRep > 255) {
    throw new RangeError(`Cannot read column ${dotted} of ${file.name}: it nests too deep`);
  }
  const [field, plan] = leafPlan(file, element, dotted);
  const hashed = hash && field.type === "string";
  const key = names.join("\u0000");
  const chunks = file.metadata.row_groups.map((group) => {
    const meta = group.columns.find((c) => c.meta_data?.path_in_schema.join("\u0000") === key)
      ?.meta_data;
    if (!meta) {
      throw new Error(`Cannot read ${file.name}: column ${dotted} is missing from a row group`);
    }
    return meta;
  });
  // Levels are sized once from the footer (they fit a byte each); values
  // from the footer's null counts where every chunk has one (a column of a
  // checkpoint that is null in every row then costs nothing), growing if the
  // pages hold more.
  const entries = chunks.reduce((n, meta) => n + Number(meta.num_values), 0);
  const nulls = chunks.reduce(
    (n, meta) => n + Number(meta.statistics?.null_count ?? Number.NaN),
    0,
  );
  // Without null counts in the footer (neuralake's own checkpoints), values
  // start small and grow: a checkpoint's columns are mostly null in every row.
  const expected = nulls >= 0 && nulls <= entries
    ? entries - nulls
    : Math.min(entries, UNKNOWN_VALUES_START);
  const fetched: Uint8Array[] = [];
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
    fetched.push(bytes);
  }
  const decode = (): Leaf => {
    const target: LeafTarget = {
      maxDefinition: maxDef,
      maxRepetition: maxRep,
      def: new Uint8Array(maxDef ? entries : 0),
      rep: new Uint8Array(maxRep ? entries : 0),
      values: allocateValues(field.type, expected),
      entries: 0,
      count: 0,
      hashes: hashed ? new Int32Array(expected) : undefined,
    };
    for (const [g, meta] of chunks.entries()) {
      try {
        decodeLeafChunk(fetched[g]!, meta.codec, plan, Number(meta.num_values), target);
      } catch (error) {
        throw new Error(
          `Cannot read column ${dotted} of ${file.name} (row group ${g}): ${
            (error as Error).message
          }`,
          { cause: error },
        );
      }
    }
    return assemble(file, dotted, plan, maxDef, maxRep, entries, target);
  };
  return {
    maxRep,
    int64: allocateValues(field.type, 0) instanceof BigInt64Array,
    hashed,
    decode,
  };
}

/** Values are first sized for this many when the footer does not say how many are null. */
const UNKNOWN_VALUES_START = 1024;

/** The leaf of decoded levels and values, checked against the file's row count. */
function assemble(
  file: ParquetFile,
  dotted: string,
  plan: FastPlan,
  maxDef: number,
  maxRep: number,
  entries: number,
  target: LeafTarget,
): Leaf {
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
  const at = valueIndexOf(def, maxDef, entries, target.count);
  const leaf: Leaf = { maxDef, maxRep, def, rowStart, valueAt: () => null };
  if (at === undefined) {
    if (values instanceof BigInt64Array) leaf.int64AsNumber = () => null;
    if (target.hashes) leaf.hashAt = () => 0;
    return leaf;
  }
  const hashes = target.hashes;
  if (hashes) {
    leaf.hashAt = (e) => {
      const k = at(e);
      return k < 0 ? 0 : hashes[k]!;
    };
  }
  if (plan.shape === "u8") {
    const bools = values as Uint8Array;
    leaf.valueAt = (e) => {
      const k = at(e);
      return k < 0 ? null : bools[k] === 1;
    };
  } else {
    const list = values as ArrayLike<unknown>;
    leaf.valueAt = (e) => {
      const k = at(e);
      return k < 0 ? null : list[k];
    };
  }
  if (values instanceof BigInt64Array) {
    const words = new Int32Array(values.buffer, values.byteOffset, 2 * values.length);
    leaf.int64AsNumber = (e) => {
      const k = at(e);
      return k < 0 ? null : (words[2 * k]! >>> 0) + words[2 * k + 1]! * 4294967296;
    };
  }
  return leaf;
}

/**
 * Where the value of each entry lies among the dense values (negative for a
 * null entry), or undefined when every entry is null.
 */
function valueIndexOf(
  def: Uint8Array,
  maxDef: number,
  entries: number,
  count: number,
): ((entry: number) => number) | undefined {
  if (count === 0 && entries > 0) return undefined;
  if (maxDef === 0) return (e) => e;
  if (count === entries) return (e) => def[e] === maxDef ? e : -1;
  const valueIndex = new Int32Array(entries);
  let v = 0;
  for (let e = 0; e < entries; e++) {
    if (def[e] === maxDef) valueIndex[e] = v++;
    else valueIndex[e] = -1;
  }
  return (e) => valueIndex[e]!;
}

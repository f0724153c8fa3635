/**
 * Nested records read column by column: each wanted leaf column is decoded
 * with its definition and repetition levels (hyparquet's page decoders), and
 * records are assembled from the levels directly. This is the fast path of
 * `readRecords` for the shapes Delta checkpoints use (structs, and maps and
 * lists one level deep), several times faster than assembling whole rows.
 *
 * Invariants: the output equals `readRecords`' (plain objects for structs
 * and maps, arrays for lists, bigint for 64-bit integers, no Date, strings
 * for UTF-8); columns whose leaves repeat more than once nest are refused
 * with `undefined` so the caller falls back.
 */

import type { SchemaTree } from "hyparquet";
import {
  convert,
  convertWithDictionary,
  decompressPage,
  DEFAULT_PARSERS,
  parquetHeader,
  readDataPage,
  readDataPageV2,
  readPlain,
} from "./_hyparquet.ts";
import { DECOMPRESSORS } from "./codecs.ts";
import type { ParquetFile } from "./metadata.ts";

/** One leaf column of all row groups: levels, and the non-null values in order. */
interface Leaf {
  maxDef: number;
  maxRep: number;
  def: Uint8Array;
  rep: Uint8Array;
  values: unknown[];
  /** Entry index where each row starts (rows + 1 entries). */
  rowStart: Int32Array;
  /** Index into `values` of each entry (meaningful where def == maxDef). */
  valueIndex: Int32Array;
}

const PARSERS = {
  ...DEFAULT_PARSERS,
  timestampFromMilliseconds: (v: bigint) => v * 1000n,
  timestampFromMicroseconds: (v: bigint) => v,
  timestampFromNanoseconds: (v: bigint) => v / 1000n,
  dateFromDays: (v: number) => v,
};

/**
 * Reads the named top-level columns as records, or returns undefined if one
 * of them has a shape this path does not assemble (a decimal, or repetition
 * deeper than one level). `skipFields` names fields of those columns (such
 * as `stats_parsed`) to leave out.
 */
export async function readRecordsByColumns(
  file: ParquetFile,
  columns: string[],
  options: { skipFields?: string[] } = {},
): Promise<Record<string, unknown>[] | undefined> {
  const skip = new Set(options.skipFields ?? []);
  // Fields of the top-level structs that the caller does not want are left
  // out of the tree, so their leaves are never read.
  const trees = columns.map((name) => {
    const tree = file.schema.children.find((c) => c.element.name === name)!;
    return { ...tree, children: tree.children.filter((c) => !skip.has(c.element.name)) };
  });
  for (const tree of trees) if (!supported(tree, 0)) return undefined;
  const leaves = new Map<SchemaTree, Leaf>();
  for (const tree of trees) {
    for (const path of leafPaths(tree, [file.schema])) {
      leaves.set(path.at(-1)!, await readLeaf(file, path));
    }
  }
  const rows: Record<string, unknown>[] = Array.from({ length: file.numRows }, () => ({}));
  trees.forEach((tree, t) => {
    const name = columns[t]!;
    const defLevels = new Map<SchemaTree, number>();
    computeDefLevels(tree, 0, defLevels);
    const read = compile(tree, leaves, defLevels);
    for (let r = 0; r < rows.length; r++) rows[r]![name] = read(r, 0);
  });
  return rows;
}

function supported(tree: SchemaTree, repeated: number): boolean {
  const el = tree.element;
  if (el.converted_type === "DECIMAL" || el.logical_type?.type === "DECIMAL") return false;
  const r = repeated + (el.repetition_type === "REPEATED" ? 1 : 0);
  if (r > 1) return false;
  return tree.children.every((c) => supported(c, r));
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
  const defAt = maxDef === 0 ? () => 0 : (entry: number) => def[entry]!;
  if (!node.children.length) {
    const { values, valueIndex } = leaf;
    return (row, offset) => {
      const entry = rowStart[row]! + offset;
      return defAt(entry) === maxDef ? values[valueIndex[entry]!] : null;
    };
  }
  const child = node.children[0]!;
  const isMap = (el.converted_type === "MAP" || el.converted_type === "MAP_KEY_VALUE" ||
    el.logical_type?.type === "MAP") &&
    node.children.length === 1 &&
    child.element.repetition_type === "REPEATED";
  const isList = (el.converted_type === "LIST" || el.logical_type?.type === "LIST") &&
    node.children.length === 1 && child.element.repetition_type === "REPEATED";
  if (isMap || isList) {
    const elementLevel = defLevels.get(child)!;
    const count = (row: number, d: number) =>
      d >= elementLevel ? rowStart[row + 1]! - rowStart[row]! : 0;
    if (isMap) {
      const keyNode = child.children.find((c) => c.element.name === "key") ?? child.children[0]!;
      const valueNode = child.children.find((c) => c !== keyNode);
      const key = compile(keyNode, leaves, defLevels);
      const value = valueNode ? compile(valueNode, leaves, defLevels) : () => null;
      return (row) => {
        const d = defAt(rowStart[row]!);
        if (optional && d < level) return null;
        const out: Record<string, unknown> = {};
        const n = count(row, d);
        for (let j = 0; j < n; j++) out[key(row, j) as string] = value(row, j);
        return out;
      };
    }
    const element = compile(
      child.children.length === 1 ? child.children[0]! : child,
      leaves,
      defLevels,
    );
    return (row) => {
      const d = defAt(rowStart[row]!);
      if (optional && d < level) return null;
      const n = count(row, d);
      const out = new Array<unknown>(n);
      for (let j = 0; j < n; j++) out[j] = element(row, j);
      return out;
    };
  }
  const names = node.children.map((c) => c.element.name);
  const fields = node.children.map((c) => compile(c, leaves, defLevels));
  return (row, offset) => {
    if (optional && defAt(rowStart[row]! + offset) < level) return null;
    const out: Record<string, unknown> = {};
    for (let i = 0; i < fields.length; i++) out[names[i]!] = fields[i]!(row, offset);
    return out;
  };
}

/** Copies levels into a typed array (a plain loop beats `set` from an array). */
function copyLevels(out: Uint8Array, levels: ArrayLike<number>, at: number): void {
  for (let i = 0; i < levels.length; i++) out[at + i] = levels[i]!;
}

/** Decodes one leaf column across all row groups. */
async function readLeaf(file: ParquetFile, path: SchemaTree[]): Promise<Leaf> {
  const element = path.at(-1)!.element;
  const names = path.slice(1).map((p) => p.element.name);
  const maxDef = path.slice(1).filter((p) => p.element.repetition_type !== "REQUIRED").length;
  const maxRep = path.filter((p) => p.element.repetition_type === "REPEATED").length;
  // Sized once from the footer: levels fit a byte each (nesting is shallow).
  let entries = 0;
  for (const group of file.metadata.row_groups) {
    for (const c of group.columns) {
      if (c.meta_data?.path_in_schema.join("\u0000") === names.join("\u0000")) {
        entries += Number(c.meta_data.num_values);
      }
    }
  }
  const def = new Uint8Array(maxDef ? entries : 0);
  const rep = new Uint8Array(maxRep ? entries : 0);
  const values: unknown[] = new Array(entries);
  let valueCount = 0;
  let at = 0;
  for (const group of file.metadata.row_groups) {
    const chunk = group.columns.find((c) =>
      c.meta_data?.path_in_schema.join("\u0000") === names.join("\u0000")
    );
    const meta = chunk?.meta_data;
    if (!meta) {
      throw new Error(
        `Cannot read ${file.name}: column ${names.join(".")} is missing from a row group`,
      );
    }
    const dictOffset = meta.dictionary_page_offset;
    const start = Number(
      dictOffset !== undefined && dictOffset > 0n && dictOffset < meta.data_page_offset
        ? dictOffset
        : meta.data_page_offset,
    );
    const bytes = await file.source.read(start, Number(meta.total_compressed_size));
    const reader = {
      view: new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength),
      offset: 0,
    };
    const decoder = {
      pathInSchema: names,
      type: element.type!,
      element,
      schemaPath: path,
      codec: meta.codec,
      parsers: PARSERS,
      compressors: DECOMPRESSORS,
      utf8: false,
    };
    let dictionary: unknown[] | undefined;
    let seen = 0;
    const total = Number(meta.num_values);
    while (seen < total && reader.offset < bytes.length) {
      const header = parquetHeader(reader);
      const pageBytes = bytes.subarray(reader.offset, reader.offset + header.compressed_page_size);
      reader.offset += header.compressed_page_size;
      if (header.type === "DICTIONARY_PAGE") {
        const page = decompressPage(
          pageBytes,
          Number(header.uncompressed_page_size),
          meta.codec,
          DECOMPRESSORS,
        );
        const r = { view: new DataView(page.buffer, page.byteOffset, page.byteLength), offset: 0 };
        const raw = readPlain(
          r,
          element.type!,
          header.dictionary_page_header!.num_values,
          element.type_length,
        );
        // Dictionary entries get the column's conversions once (bytes to strings).
        dictionary = convert(raw, decoder) as unknown[];
        continue;
      }
      let page;
      let encoding;
      if (header.type === "DATA_PAGE") {
        const decompressed = decompressPage(
          pageBytes,
          Number(header.uncompressed_page_size),
          meta.codec,
          DECOMPRESSORS,
        );
        page = readDataPage(decompressed, header.data_page_header!, decoder);
        encoding = header.data_page_header!.encoding;
      } else if (header.type === "DATA_PAGE_V2") {
        page = readDataPageV2(pageBytes, header, decoder);
        encoding = header.data_page_header_v2!.encoding;
      } else continue;
      const converted = convertWithDictionary(
        page.dataPage,
        dictionary as never,
        encoding,
        decoder,
      );
      const defs = page.definitionLevels ?? [];
      const reps = page.repetitionLevels;
      const n = defs.length || reps.length || converted.length;
      // hyparquet returns no definition levels for a v1 page without nulls
      // (a checkpoint part or sidecar that holds only adds): all are defined.
      if (maxDef) {
        if (defs.length) copyLevels(def, defs, at);
        else def.fill(maxDef, at, at + n);
      }
      if (maxRep) copyLevels(rep, reps, at);
      for (let i = 0; i < converted.length; i++) values[valueCount++] = converted[i];
      at += n;
      seen += n;
    }
  }
  values.length = valueCount;
  const valueIndex = new Int32Array(entries);
  let v = 0;
  for (let e = 0; e < entries; e++) {
    valueIndex[e] = v;
    if (maxDef === 0 || def[e] === maxDef) v++;
  }
  const rowStart = new Int32Array(file.numRows + 1);
  if (maxRep === 0) {
    for (let r = 0; r <= file.numRows; r++) rowStart[r] = r;
  } else {
    let r = 0;
    for (let e = 0; e < entries; e++) if (rep[e] === 0) rowStart[r++] = e;
    rowStart[r] = entries;
  }
  return { maxDef, maxRep, def, rep, values, rowStart, valueIndex };
}

/**
 * A second, independent reading of flat columns for tests and the decode
 * benchmark: hyparquet's columnar reader (`parquetRead`) decodes the chunks,
 * and each value is converted to our representation here. neuralake itself
 * reads flat columns with its typed-array decoder only; this is the oracle it
 * is compared with, bit for bit.
 */

import { parquetRead } from "hyparquet";
import {
  allocateValues,
  type Column,
  type ColumnBatch,
  type Field,
} from "../../src/columnar/batch.ts";
import { parseDecimal, representationOf } from "../../src/columnar/types.ts";
import { asyncBufferOf } from "../../src/parquet/byte_source.ts";
import { DECOMPRESSORS } from "../../src/parquet/codecs.ts";
import { planConversion } from "../../src/parquet/convert.ts";
import type { ParquetFile, RowGroupInfo } from "../../src/parquet/decode.ts";
import { findColumnTree } from "../../src/parquet/nested_columns.ts";
import type { LeafKind } from "../../src/parquet/schema.ts";
import { bigintFromBytes, floorDiv } from "../../src/parquet/stats.ts";

const PARSERS = {
  timestampFromMilliseconds: (v: bigint) => v,
  timestampFromMicroseconds: (v: bigint) => v,
  timestampFromNanoseconds: (v: bigint) => v,
  dateFromDays: (v: number) => v,
};

const INTEGER_DIGITS: Record<string, number> = { byte: 3, short: 5, integer: 10, long: 19 };
const utf8 = new TextDecoder();

/** Converts one value as hyparquet decoded it (from the planned element) into ours. */
function converter(kind: LeafKind, field: Field): (v: unknown) => unknown {
  const to = field.type as Exclude<Field["type"], object>;
  switch (representationOf(to)) {
    case "int32":
    case "float32":
    case "float64":
      return (v) => Number(v);
    case "bool":
      return (v) => v ? 1 : 0;
    case "string":
      return (v) => typeof v === "string" ? v : utf8.decode(v as Uint8Array);
    case "binary":
      return (v) => typeof v === "string" ? new TextEncoder().encode(v) : (v as Uint8Array).slice();
    case "int64": {
      if (to !== "long" && kind.type === "date") {
        return (v) => BigInt(v as number) * 86_400_000_000n;
      }
      if (to === "long") return (v) => BigInt(v as number | bigint);
      switch (kind.timestampUnit) {
        case "MILLIS":
          return (v) => (v as bigint) * 1000n;
        case "NANOS":
        case "INT96":
          return (v) => floorDiv(v as bigint, 1000n);
      }
      return (v) => BigInt(v as bigint);
    }
    default: {
      const wanted = parseDecimal(to)!;
      const have = kind.type ? parseDecimal(kind.type) : undefined;
      const up = have ? wanted.scale - have.scale : wanted.scale;
      if (!have && INTEGER_DIGITS[kind.type ?? ""] === undefined) {
        throw new TypeError(`no reference conversion from ${kind.type} to ${to}`);
      }
      const factor = 10n ** BigInt(up);
      return (v) => {
        const unscaled = typeof v === "bigint"
          ? v
          : typeof v === "number"
          ? BigInt(v)
          : bigintFromBytes(v as Uint8Array);
        return unscaled * factor;
      };
    }
  }
}

/** Reads flat `fields` of the selected row groups with hyparquet, as `readColumns` reads them. */
export async function readReference(
  file: ParquetFile,
  fields: Field[],
  options: { rowGroups?: number[]; rowGroupFilter?: (g: RowGroupInfo) => boolean } = {},
): Promise<ColumnBatch> {
  let groups = file.rowGroups;
  if (options.rowGroups) groups = groups.filter((g) => options.rowGroups!.includes(g.index));
  if (options.rowGroupFilter) groups = groups.filter(options.rowGroupFilter);
  groups = groups.filter((g) => g.numRows > 0);
  const length = groups.reduce((n, g) => n + g.numRows, 0);
  const schema = file.metadata.schema.slice();
  const plans = new Map<string, { column: Column; convert: (v: unknown) => unknown }>();
  const columns: Column[] = fields.map((field) => {
    const values = allocateValues(field.type, length);
    const tree = findColumnTree(file, field);
    const stored = tree && file.columns.find((c) => c.element === tree.element);
    if (!stored) return { values, nulls: new Uint8Array(length).fill(1) };
    const column: Column = { values, nulls: new Uint8Array(length) };
    const element = planConversion(stored.element, stored.kind, field, file.name).element;
    schema[schema.indexOf(stored.element)] = element;
    plans.set(stored.name, { column, convert: converter(stored.kind, field) });
    return column;
  });
  let base = 0;
  for (const group of groups) {
    const offset = base - group.rowStart;
    if (plans.size) {
      await parquetRead({
        file: asyncBufferOf(file.source),
        metadata: { ...file.metadata, schema },
        columns: [...plans.keys()],
        rowStart: group.rowStart,
        rowEnd: group.rowStart + group.numRows,
        compressors: DECOMPRESSORS,
        utf8: false,
        parsers: PARSERS,
        onChunk: ({ columnName, columnData, rowStart }) => {
          const { column, convert } = plans.get(columnName)!;
          const out = column.values as unknown as { [i: number]: unknown };
          for (let i = 0; i < columnData.length; i++) {
            const v = columnData[i];
            const at = rowStart + offset + i;
            if (v === null || v === undefined) column.nulls![at] = 1;
            else out[at] = convert(v);
          }
        },
      });
    }
    base += group.numRows;
  }
  for (const column of columns) {
    if (column.nulls && !column.nulls.includes(1)) column.nulls = undefined;
  }
  return { fields, columns, length };
}

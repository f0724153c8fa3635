/**
 * Column invariants and CHECK constraints (PROTOCOL.md, "Column Invariants"
 * and "CHECK Constraints"): compiled once per write from the table's schema
 * and metadata with the `--where` predicate language, then evaluated on
 * every batch a writer adds. A row for which one evaluates to false or null
 * fails the write, naming the constraint, the row and the input; nothing is
 * committed.
 *
 * An expression the predicate language cannot evaluate (a function call, a
 * nested column) is refused when the write starts, by feature and constraint
 * name: neuralake never writes rows it could not check.
 */

import type { ColumnBatch, Field } from "../columnar/batch.ts";
import type { Metadata } from "../delta/actions.ts";
import { UnsupportedFeatureError } from "../delta/errors.ts";
import type { StructType } from "../delta/schema.ts";
import { InputError } from "../util/errors.ts";
import { bindPredicate, type BoundPredicate, filterRows, parsePredicate } from "./predicate.ts";

/** One compiled constraint. */
export interface TableConstraint {
  /** `invariants` or `checkConstraints`. */
  feature: "invariants" | "checkConstraints";
  /** The constraint's name (`delta.constraints.<name>`) or the column of an invariant. */
  name: string;
  expression: string;
  predicate: BoundPredicate;
}

/**
 * Compiles a table's invariants and CHECK constraints against `fields` (the
 * table's columns). Throws `UnsupportedFeatureError` naming the first one
 * that the predicate language cannot evaluate.
 */
export function tableConstraints(
  metadata: Metadata,
  schema: StructType,
  fields: readonly Field[],
): TableConstraint[] {
  const out: TableConstraint[] = [];
  const compile = (
    feature: TableConstraint["feature"],
    name: string,
    expression: string,
  ) => {
    try {
      out.push({
        feature,
        name,
        expression,
        predicate: bindPredicate(parsePredicate(expression), fields),
      });
    } catch (error) {
      throw new UnsupportedFeatureError(
        feature,
        `Cannot write to this table: its ${
          feature === "invariants" ? "invariant on column" : "CHECK constraint"
        } "${name}" (${expression}) is beyond what neuralake can evaluate (${feature}): ${
          (error as Error).message
        }`,
      );
    }
  };
  const visit = (prefix: string, struct: StructType) => {
    for (const field of struct.fields) {
      const path = prefix + field.name;
      const raw = field.metadata["delta.invariants"];
      if (raw !== undefined) {
        compile("invariants", path, invariantExpression(raw, path));
      }
      if (typeof field.type === "object" && field.type.type === "struct") {
        visit(`${path}.`, field.type);
      }
    }
  };
  visit("", schema);
  for (const [key, value] of Object.entries(metadata.configuration)) {
    if (key.startsWith("delta.constraints.")) {
      compile("checkConstraints", key.slice("delta.constraints.".length), value);
    }
  }
  return out;
}

function invariantExpression(raw: unknown, column: string): string {
  try {
    const parsed = typeof raw === "string" ? JSON.parse(raw) : raw;
    const expression = parsed?.expression?.expression;
    if (typeof expression === "string") return expression;
  } catch (error) {
    throw new UnsupportedFeatureError(
      "invariants",
      `Cannot write to this table: the invariant of column "${column}" is not JSON (invariants)`,
      { cause: error },
    );
  }
  throw new UnsupportedFeatureError(
    "invariants",
    `Cannot write to this table: the invariant of column "${column}" has no expression.expression (invariants)`,
  );
}

/**
 * Throws an `InputError` at the first row of `batch` that violates a
 * constraint (false or null). `firstRow` is the batch's 1-based row number
 * in the input named `source`.
 */
export function checkConstraints(
  constraints: readonly TableConstraint[],
  batch: ColumnBatch,
  source: string,
  firstRow: number,
): void {
  for (const c of constraints) {
    const passing = filterRows(c.predicate, batch);
    if (passing.length === batch.length) continue;
    let row = 0;
    while (row < passing.length && passing[row] === row) row++;
    const what = c.feature === "invariants"
      ? `the invariant of column "${c.name}"`
      : `CHECK constraint "${c.name}"`;
    throw new InputError(
      `Row ${firstRow + row} of ${source} violates ${what} (${c.expression}): nothing was written`,
      c.feature === "invariants" ? { file: source, column: c.name } : { file: source },
    );
  }
}

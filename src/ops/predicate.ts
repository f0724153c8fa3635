/**
 * The `--where` predicate of a scan: parsing, binding to a table's columns,
 * row evaluation over column batches, and file pruning over statistics.
 *
 * Grammar: comparisons (`=`, `!=`, `<>`, `<`, `<=`, `>`, `>=`) between a
 * column and a literal (or two columns), `IS [NOT] NULL`, `[NOT] IN (...)`,
 * joined by `and`, `or`, `not` and parentheses. Literals: numbers,
 * 'strings' (with '' for a quote), true, false, null, and
 * `timestamp '...'` / `date '...'`. Keywords ignore case.
 *
 * Invariant: pruning is conservative. `mayMatch` returns false only when no
 * row of a file can satisfy the predicate, under SQL's three-valued logic,
 * with timestamp maxima widened by 999 µs (they are truncated to
 * milliseconds), string maxima of 32 code points or more widened to every
 * string with their 32-code-point prefix (they may be truncated), and no
 * assumption about NaN in floating columns beyond what engines' bounds say.
 *
 * Floating values compare as Spark SQL (and DataFusion, PostgreSQL, DuckDB)
 * compare them: NaN equals NaN and sorts above every other number. Spark
 * writes "NaN" as the maximum of a file that holds one (an unreadable, so
 * unknown, bound); delta-rs and neuralake leave NaN out of their bounds, and
 * a maximum below the literal prunes such a file, as Spark and delta-rs
 * themselves prune it.
 */

import type { ColumnBatch, Field } from "../columnar/batch.ts";
import { compareScalars, type Scalar, scalarAt } from "../columnar/scalar.ts";
import { readDate, readDecimal, readTimestampMicros } from "../columnar/text_values.ts";
import {
  describeType,
  parseDecimal,
  type PrimitiveType,
  representationOf,
} from "../columnar/types.ts";
import { STRING_PREFIX_LENGTH } from "../delta/stats.ts";

/** A comparison operator. */
export type CompareOp = "=" | "!=" | "<" | "<=" | ">" | ">=";

/** A parsed operand. */
export type Operand =
  | { kind: "column"; name: string }
  | {
    kind: "literal";
    value: string | number | boolean | null;
    text: string;
    hint?: "timestamp" | "date";
  };

/** A parsed predicate. */
export type Predicate =
  | { kind: "and" | "or"; left: Predicate; right: Predicate }
  | { kind: "not"; inner: Predicate }
  | { kind: "compare"; op: CompareOp; left: Operand; right: Operand }
  | { kind: "isNull"; operand: Operand; negated: boolean }
  | { kind: "in"; operand: Operand; values: Operand[]; negated: boolean };

/** A predicate whose columns are resolved and literals typed. */
export type BoundPredicate =
  | { kind: "and" | "or"; left: BoundPredicate; right: BoundPredicate }
  | { kind: "not"; inner: BoundPredicate }
  | { kind: "compareLiteral"; op: CompareOp; column: string; type: PrimitiveType; value: Scalar }
  | { kind: "compareColumns"; op: CompareOp; left: string; right: string }
  | { kind: "isNull"; column: string; negated: boolean }
  | { kind: "in"; column: string; type: PrimitiveType; values: Scalar[]; negated: boolean }
  | { kind: "constant"; value: boolean | null };

/** Raised for a predicate that cannot be parsed or bound; says where. */
export class PredicateError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "PredicateError";
  }
}

// ---------------------------------------------------------------- parsing

type Token =
  | { t: "ident"; v: string; at: number }
  | { t: "number"; v: string; at: number }
  | { t: "string"; v: string; at: number }
  | { t: "op"; v: string; at: number }
  | { t: "end"; at: number };

function tokenize(text: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  while (i < text.length) {
    const c = text[i]!;
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    const at = i;
    if (c === "'") {
      let v = "";
      i++;
      for (;;) {
        if (i >= text.length) {
          throw new PredicateError(`Unterminated string starting at column ${at + 1}`);
        }
        if (text[i] === "'") {
          if (text[i + 1] === "'") {
            v += "'";
            i += 2;
            continue;
          }
          i++;
          break;
        }
        v += text[i++];
      }
      out.push({ t: "string", v, at });
    } else if (c === '"' || c === "`") {
      const end = text.indexOf(c, i + 1);
      if (end < 0) {
        throw new PredicateError(`Unterminated quoted name starting at column ${at + 1}`);
      }
      out.push({ t: "ident", v: text.slice(i + 1, end), at });
      i = end + 1;
    } else if (/[0-9]/.test(c) || ((c === "-" || c === ".") && /[0-9.]/.test(text[i + 1] ?? ""))) {
      const m = /^-?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?/.exec(text.slice(i))!;
      out.push({ t: "number", v: m[0], at });
      i += m[0].length;
    } else if (/[A-Za-z_]/.test(c)) {
      const m = /^[A-Za-z_][A-Za-z0-9_.]*/.exec(text.slice(i))!;
      out.push({ t: "ident", v: m[0], at });
      i += m[0].length;
    } else {
      const two = text.slice(i, i + 2);
      if (["<=", ">=", "!=", "<>", "=="].includes(two)) {
        out.push({ t: "op", v: two, at });
        i += 2;
      } else if ("=<>(),".includes(c)) {
        out.push({ t: "op", v: c, at });
        i++;
      } else {
        throw new PredicateError(`Unexpected character "${c}" at column ${at + 1}`);
      }
    }
  }
  out.push({ t: "end", at: text.length });
  return out;
}

/** Parses a `--where` expression. */
export function parsePredicate(text: string): Predicate {
  const tokens = tokenize(text);
  let pos = 0;
  const peek = () => tokens[pos]!;
  const isWord = (tok: Token, word: string) => tok.t === "ident" && tok.v.toLowerCase() === word;
  const expectOp = (v: string) => {
    const tok = peek();
    if (tok.t !== "op" || tok.v !== v) throw unexpected(tok, `"${v}"`);
    pos++;
  };
  const unexpected = (tok: Token, wanted: string) =>
    new PredicateError(
      tok.t === "end"
        ? `Unexpected end of predicate: expected ${wanted}`
        : `Unexpected "${"v" in tok ? tok.v : ""}" at column ${tok.at + 1}: expected ${wanted}`,
    );

  const parseOr = (): Predicate => {
    let left = parseAnd();
    while (isWord(peek(), "or")) {
      pos++;
      left = { kind: "or", left, right: parseAnd() };
    }
    return left;
  };
  const parseAnd = (): Predicate => {
    let left = parseNot();
    while (isWord(peek(), "and")) {
      pos++;
      left = { kind: "and", left, right: parseNot() };
    }
    return left;
  };
  const parseNot = (): Predicate => {
    if (isWord(peek(), "not")) {
      pos++;
      return { kind: "not", inner: parseNot() };
    }
    return parseAtom();
  };
  const parseAtom = (): Predicate => {
    const tok = peek();
    if (tok.t === "op" && tok.v === "(") {
      pos++;
      const inner = parseOr();
      expectOp(")");
      return inner;
    }
    const left = parseOperand();
    const next = peek();
    if (isWord(next, "is")) {
      pos++;
      let negated = false;
      if (isWord(peek(), "not")) {
        pos++;
        negated = true;
      }
      if (!isWord(peek(), "null")) throw unexpected(peek(), "NULL");
      pos++;
      return { kind: "isNull", operand: left, negated };
    }
    let negatedIn = false;
    if (isWord(next, "not") && isWord(tokens[pos + 1]!, "in")) {
      pos++;
      negatedIn = true;
    }
    if (isWord(peek(), "in")) {
      pos++;
      expectOp("(");
      const values = [parseOperand()];
      while (peek().t === "op" && (peek() as { v: string }).v === ",") {
        pos++;
        values.push(parseOperand());
      }
      expectOp(")");
      return { kind: "in", operand: left, values, negated: negatedIn };
    }
    if (next.t !== "op" || !["=", "==", "!=", "<>", "<", "<=", ">", ">="].includes(next.v)) {
      throw unexpected(next, "a comparison operator");
    }
    pos++;
    const op = (next.v === "==" ? "=" : next.v === "<>" ? "!=" : next.v) as CompareOp;
    return { kind: "compare", op, left, right: parseOperand() };
  };
  const parseOperand = (): Operand => {
    const tok = peek();
    pos++;
    if (tok.t === "number") return { kind: "literal", value: Number(tok.v), text: tok.v };
    if (tok.t === "string") return { kind: "literal", value: tok.v, text: tok.v };
    if (tok.t === "ident") {
      const lower = tok.v.toLowerCase();
      if (lower === "true" || lower === "false") {
        return { kind: "literal", value: lower === "true", text: lower };
      }
      if (lower === "null") return { kind: "literal", value: null, text: "null" };
      if ((lower === "timestamp" || lower === "date") && peek().t === "string") {
        const s = peek() as { v: string };
        pos++;
        return { kind: "literal", value: s.v, text: s.v, hint: lower };
      }
      return { kind: "column", name: tok.v };
    }
    pos--;
    throw unexpected(tok, "a column or a literal");
  };

  const result = parseOr();
  if (peek().t !== "end") throw unexpected(peek(), "and, or, or the end");
  return result;
}

// ---------------------------------------------------------------- binding

const FLIP: Record<CompareOp, CompareOp> = {
  "=": "=",
  "!=": "!=",
  "<": ">",
  "<=": ">=",
  ">": "<",
  ">=": "<=",
};

/** Resolves columns against `fields` and types the literals. */
export function bindPredicate(predicate: Predicate, fields: readonly Field[]): BoundPredicate {
  const byName = new Map(fields.map((f) => [f.name, f]));
  const column = (name: string): PrimitiveField => {
    const field = byName.get(name);
    if (field && typeof field.type !== "string") {
      throw new PredicateError(
        `Column "${name}" is nested (${
          describeType(field.type)
        }): a predicate can compare primitive columns only`,
      );
    }
    if (!field) {
      throw new PredicateError(
        `Unknown column "${name}" in the predicate; the table has: ${
          fields.map((f) => f.name).join(", ")
        }`,
      );
    }
    return field as PrimitiveField;
  };
  const bind = (p: Predicate): BoundPredicate => {
    switch (p.kind) {
      case "and":
      case "or":
        return { kind: p.kind, left: bind(p.left), right: bind(p.right) };
      case "not":
        return { kind: "not", inner: bind(p.inner) };
      case "isNull": {
        if (p.operand.kind !== "column") {
          return { kind: "constant", value: (p.operand.value === null) !== p.negated };
        }
        return { kind: "isNull", column: column(p.operand.name).name, negated: p.negated };
      }
      case "in": {
        if (p.operand.kind !== "column") throw new PredicateError("IN needs a column on its left");
        const field = column(p.operand.name);
        const values = p.values.map((v) => {
          if (v.kind !== "literal") throw new PredicateError("IN takes literals only");
          return coerceLiteral(v, field);
        });
        return { kind: "in", column: field.name, type: field.type, values, negated: p.negated };
      }
      case "compare": {
        const { left, right } = p;
        if (left.kind === "column" && right.kind === "column") {
          const a = column(left.name);
          const b = column(right.name);
          if (representationOf(a.type) !== representationOf(b.type)) {
            throw new PredicateError(
              `Cannot compare column "${a.name}" (${a.type}) with column "${b.name}" (${b.type})`,
            );
          }
          return { kind: "compareColumns", op: p.op, left: a.name, right: b.name };
        }
        if (left.kind === "literal" && right.kind === "literal") {
          throw new PredicateError(
            `A comparison needs a column: ${left.text} ${p.op} ${right.text}`,
          );
        }
        const [col, lit, op] = left.kind === "column"
          ? [left, right as Operand & { kind: "literal" }, p.op]
          : [right as Operand & { kind: "column" }, left, FLIP[p.op]];
        const field = column(col.name);
        const value = coerceLiteral(lit, field);
        if (value === null) return { kind: "constant", value: null };
        return { kind: "compareLiteral", op, column: field.name, type: field.type, value };
      }
    }
  };
  return bind(predicate);
}

/** Names of the columns a bound predicate reads. */
export function predicateColumns(p: BoundPredicate): Set<string> {
  const out = new Set<string>();
  const visit = (q: BoundPredicate) => {
    switch (q.kind) {
      case "and":
      case "or":
        visit(q.left);
        visit(q.right);
        break;
      case "not":
        visit(q.inner);
        break;
      case "compareLiteral":
      case "isNull":
      case "in":
        out.add(q.column);
        break;
      case "compareColumns":
        out.add(q.left).add(q.right);
        break;
    }
  };
  visit(p);
  return out;
}

/** A field of a primitive type: the only kind a predicate compares. */
type PrimitiveField = Field & { type: PrimitiveType };

function coerceLiteral(lit: Operand & { kind: "literal" }, field: PrimitiveField): Scalar {
  const { value } = lit;
  if (value === null) return null;
  const bad = (why = "") =>
    new PredicateError(
      `Cannot compare column "${field.name}" (${field.type}) with ${
        lit.hint ? `${lit.hint} '${value}'` : typeof value === "string" ? `'${value}'` : lit.text
      }${why}`,
    );
  const type = field.type;
  if (lit.hint && type !== "date" && type !== "timestamp" && type !== "timestamp_ntz") {
    throw bad(`: a ${lit.hint} literal compares with date and timestamp columns only`);
  }
  switch (representationOf(type)) {
    case "int32": {
      if (type === "date") {
        const days = typeof value === "string" ? readDate(value) : undefined;
        if (days === undefined) throw bad(": use date 'YYYY-MM-DD'");
        return days;
      }
      // Out-of-range integers still compare correctly as plain numbers.
      if (typeof value !== "number" || !Number.isInteger(value)) throw bad();
      return value;
    }
    case "int64": {
      if (type === "long") {
        if (typeof value !== "number" || !/^-?\d+$/.test(lit.text)) throw bad();
        return BigInt(lit.text);
      }
      if (typeof value === "string") {
        const micros = readTimestampMicros(value);
        if (micros !== undefined) return micros;
        const days = readDate(value);
        if (days !== undefined) return BigInt(days) * 86_400_000_000n;
        throw bad(": use an ISO-8601 timestamp such as '2024-01-02T03:04:05Z'");
      }
      // A bare number against a timestamp reads as microseconds since the
      // epoch, which is never what "ts >= 2026" means: ask for a timestamp.
      throw bad(
        ": use a quoted ISO-8601 timestamp such as '2024-01-02T03:04:05Z' or a date such as '2024-01-02'",
      );
    }
    case "float32":
    case "float64":
      if (typeof value !== "number") throw bad();
      return value;
    case "bool":
      if (typeof value !== "boolean") throw bad();
      return value;
    case "string":
      if (typeof value !== "string") throw bad(": quote the value, as in 'M1'");
      return value;
    case "binary":
      if (typeof value !== "string") throw bad();
      return new TextEncoder().encode(value);
    case "decimal": {
      const spec = parseDecimal(type)!;
      const v = readDecimal(lit.text, spec.precision, spec.scale);
      if (v === undefined) throw bad(`: it does not fit ${type}`);
      return v;
    }
  }
}

// ---------------------------------------------------------------- evaluation

/**
 * Orders two values as Spark SQL does: NaN equals NaN and is above every
 * other number; anything else as `compareScalars`.
 */
function compareSql(a: Scalar, b: Scalar): number {
  if (typeof a === "number" && a !== a) return typeof b === "number" && b !== b ? 0 : 1;
  if (typeof b === "number" && b !== b) return -1;
  return compareScalars(a, b);
}

const TRUE = 1;
const FALSE = 0;
const UNKNOWN = 2;

function compareOk(op: CompareOp, c: number): boolean {
  switch (op) {
    case "=":
      return c === 0;
    case "!=":
      return c !== 0;
    case "<":
      return c < 0;
    case "<=":
      return c <= 0;
    case ">":
      return c > 0;
    case ">=":
      return c >= 0;
  }
}

/**
 * Evaluates a bound predicate on every row of a batch, returning the indexes
 * of the rows where it is TRUE (NULL and FALSE rows are dropped).
 */
export function filterRows(p: BoundPredicate, batch: ColumnBatch): Uint32Array {
  const truth = evaluate(p, batch);
  let n = 0;
  for (let i = 0; i < truth.length; i++) if (truth[i] === TRUE) n++;
  const out = new Uint32Array(n);
  let k = 0;
  for (let i = 0; i < truth.length; i++) if (truth[i] === TRUE) out[k++] = i;
  return out;
}

function evaluate(p: BoundPredicate, batch: ColumnBatch): Uint8Array {
  const n = batch.length;
  const out = new Uint8Array(n);
  const col = (name: string) => {
    const index = batch.fields.findIndex((f) => f.name === name);
    if (index < 0) throw new PredicateError(`Column "${name}" is missing from the data`);
    return { column: batch.columns[index]!, type: batch.fields[index]!.type as PrimitiveType };
  };
  switch (p.kind) {
    case "constant":
      out.fill(p.value === null ? UNKNOWN : p.value ? TRUE : FALSE);
      return out;
    case "and":
    case "or": {
      const a = evaluate(p.left, batch);
      const b = evaluate(p.right, batch);
      for (let i = 0; i < n; i++) {
        const x = a[i]!;
        const y = b[i]!;
        if (p.kind === "and") {
          out[i] = x === FALSE || y === FALSE ? FALSE : x === TRUE && y === TRUE ? TRUE : UNKNOWN;
        } else {
          out[i] = x === TRUE || y === TRUE ? TRUE : x === FALSE && y === FALSE ? FALSE : UNKNOWN;
        }
      }
      return out;
    }
    case "not": {
      const a = evaluate(p.inner, batch);
      for (let i = 0; i < n; i++) {
        out[i] = a[i] === UNKNOWN ? UNKNOWN : a[i] === TRUE ? FALSE : TRUE;
      }
      return out;
    }
    case "isNull": {
      const { column } = col(p.column);
      for (let i = 0; i < n; i++) {
        const isNull = column.nulls !== undefined && column.nulls[i] === 1;
        out[i] = isNull !== p.negated ? TRUE : FALSE;
      }
      return out;
    }
    case "compareLiteral": {
      const { column, type } = col(p.column);
      for (let i = 0; i < n; i++) {
        const v = scalarAt(column, type, i);
        if (v === null) out[i] = UNKNOWN;
        else out[i] = compareOk(p.op, compareSql(v, p.value)) ? TRUE : FALSE;
      }
      return out;
    }
    case "compareColumns": {
      const a = col(p.left);
      const b = col(p.right);
      for (let i = 0; i < n; i++) {
        const x = scalarAt(a.column, a.type, i);
        const y = scalarAt(b.column, b.type, i);
        if (x === null || y === null) out[i] = UNKNOWN;
        else out[i] = compareOk(p.op, compareSql(x, y)) ? TRUE : FALSE;
      }
      return out;
    }
    case "in": {
      const { column, type } = col(p.column);
      const hasNullValue = p.values.some((v) => v === null);
      const values = p.values.filter((v) => v !== null);
      for (let i = 0; i < n; i++) {
        const v = scalarAt(column, type, i);
        if (v === null) {
          out[i] = UNKNOWN;
          continue;
        }
        const found = values.some((x) => compareSql(v, x) === 0);
        const r = found ? TRUE : hasNullValue ? UNKNOWN : FALSE;
        out[i] = p.negated ? (r === UNKNOWN ? UNKNOWN : r === TRUE ? FALSE : TRUE) : r;
      }
      return out;
    }
  }
}

// ---------------------------------------------------------------- pruning

/** What is known about one column of one file. */
export interface ColumnBounds {
  min?: Scalar | undefined;
  max?: Scalar | undefined;
  nullCount?: number | undefined;
  /**
   * Every value is null, whatever the row count: a null partition value,
   * known for a file whose row count is not (it has no statistics).
   */
  allNull?: boolean | undefined;
}

/** What is known about one file: its row count and per-column bounds. */
export interface FileBounds {
  numRecords?: number | undefined;
  column(name: string): ColumnBounds | undefined;
}

/**
 * True unless the bounds prove that no row of the file satisfies the
 * predicate. Conservative: unknown bounds never prune.
 */
export function mayMatch(p: BoundPredicate, file: FileBounds): boolean {
  return canBe(p, file, true);
}

/**
 * True only if the bounds prove that every row of the file satisfies the
 * predicate: no row can make it FALSE, and no column it reads holds a null
 * (which could make it NULL). Conservative: unknown bounds never prove it.
 */
export function mustMatch(p: BoundPredicate, file: FileBounds): boolean {
  if (!canBe(p, file, true) || canBe(p, file, false)) return false;
  for (const name of predicateColumns(p)) {
    if (file.column(name)?.nullCount !== 0) return false;
  }
  return true;
}

/** Whether some row can make `p` evaluate to `want` (TRUE or FALSE). */
function canBe(p: BoundPredicate, file: FileBounds, want: boolean): boolean {
  switch (p.kind) {
    case "constant":
      return p.value === want;
    case "not":
      return canBe(p.inner, file, !want);
    case "and":
      return want
        ? canBe(p.left, file, true) && canBe(p.right, file, true)
        : canBe(p.left, file, false) || canBe(p.right, file, false);
    case "or":
      return want
        ? canBe(p.left, file, true) || canBe(p.right, file, true)
        : canBe(p.left, file, false) && canBe(p.right, file, false);
    case "isNull": {
      const b = file.column(p.column);
      const nulls = b?.nullCount;
      const rows = file.numRecords;
      const someNull = b?.allNull === true || nulls === undefined || nulls > 0;
      const someNotNull = b?.allNull !== true &&
        (nulls === undefined || rows === undefined || nulls < rows);
      // IS NULL is TRUE for null rows; IS NOT NULL is TRUE for the others.
      return want !== p.negated ? someNull : someNotNull;
    }
    case "compareColumns":
      return true;
    case "compareLiteral":
      return canCompare(p.op, p.type, p.value, file.column(p.column), file.numRecords, want);
    case "in": {
      if (want === p.negated) {
        // Looking for rows where the value is NOT in the list: conservative.
        return true;
      }
      return p.values.some((v) =>
        v !== null && canCompare("=", p.type, v, file.column(p.column), file.numRecords, true)
      );
    }
  }
}

/**
 * Whether a string maximum may have been truncated by a Delta writer and
 * `value` may lie below the true maximum. Writers cut string bounds to a
 * prefix of 32 code points and append a tie-breaker to the maximum (we append
 * U+10FFFF; others have used characters below supplementary ones), so any
 * string that starts with the 32-code-point prefix may still be within the
 * file's values.
 */
function truncatedMaxCovers(max: string, value: string): boolean {
  if (max.length < STRING_PREFIX_LENGTH) return false;
  const prefix = Array.from(max).slice(0, STRING_PREFIX_LENGTH);
  if (prefix.length < STRING_PREFIX_LENGTH) return false;
  return value.startsWith(prefix.join(""));
}

function canCompare(
  op: CompareOp,
  type: PrimitiveType,
  value: Scalar,
  bounds: ColumnBounds | undefined,
  rows: number | undefined,
  want: boolean,
): boolean {
  if (!bounds) return true;
  if (
    bounds.allNull === true ||
    (bounds.nullCount !== undefined && rows !== undefined && bounds.nullCount >= rows)
  ) {
    // Every value is null: comparisons are NULL, never TRUE or FALSE (SQL:
    // `null = 1` is not true, nor is `null != 1`).
    return false;
  }
  const floating = type === "float" || type === "double";
  // A NaN row is TRUE for >, >= and != (and for = NaN), and a writer may
  // have left it out of the bounds. != and NOT are never pruned; > and >=
  // prune on a maximum that leaves NaN out, as Spark and delta-rs prune
  // (see the header).
  if (floating && (!want || op === "!=")) return true;
  let { min, max } = bounds;
  if (min === undefined || min === null || max === undefined || max === null) return true;
  if (type === "timestamp" || type === "timestamp_ntz") {
    // Maxima are truncated to milliseconds.
    max = (max as bigint) + 999n;
  }
  const cMin = compareSql(min, value);
  let cMax = compareSql(max, value);
  if (cMax < 0 && typeof max === "string" && typeof value === "string") {
    cMax = truncatedMaxCovers(max, value) ? 1 : cMax;
  }
  if (want) {
    switch (op) {
      case "=":
        return cMin <= 0 && cMax >= 0;
      case "!=":
        return !(cMin === 0 && cMax === 0 && type !== "timestamp" && type !== "timestamp_ntz");
      case "<":
        return cMin < 0;
      case "<=":
        return cMin <= 0;
      case ">":
        return cMax > 0;
      case ">=":
        return cMax >= 0;
    }
  }
  // Some row where the comparison is FALSE.
  switch (op) {
    case "=":
      return !(cMin === 0 && cMax === 0 && type !== "timestamp" && type !== "timestamp_ntz");
    case "!=":
      return cMin <= 0 && cMax >= 0;
    case "<":
      return cMax >= 0;
    case "<=":
      return cMax > 0;
    case ">":
      return cMin <= 0;
    case ">=":
      return cMin < 0;
  }
}

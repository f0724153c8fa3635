/**
 * A scanner for one NDJSON line holding a JSON object: keys with string,
 * number, boolean or null values, or objects and arrays (kept as their text
 * for the column's type to read).
 *
 * Why not `JSON.parse`: it turns numbers into doubles, so a long beyond 2^53
 * or a decimal would be rounded before it could be coerced. The scanner keeps
 * each scalar's source text instead (numbers exactly as written), and fills
 * arrays it owns and reuses, so a line costs no objects but its strings.
 *
 * Invariants:
 * - accepts exactly the JSON grammar (RFC 8259) for an object's scalar
 *   members; anything else is refused with the reason `JSON.parse` gives for
 *   it, or a plainer one (not an object); nested members are checked when
 *   they are parsed;
 * - string values and keys are unescaped exactly as `JSON.parse` would.
 */

/** The kind of a JSON member value: a scalar, or `json` for an object or array (its text). */
export type JsonKind = "string" | "number" | "boolean" | "null" | "json";

/** Parses flat JSON objects, one line at a time, into reused arrays. */
export class JsonLineScanner {
  /** Members of the last object parsed. */
  count = 0;
  /** Keys, in the order of the line. */
  readonly keys: string[] = [];
  /** Each value's text: the unescaped string, the number as written, `true`, `false` or `null`. */
  readonly texts: string[] = [];
  /** Each value's kind. */
  readonly kinds: JsonKind[] = [];
  #line = "";
  #at = 0;

  /**
   * Parses one line. Returns undefined on success, or why the line is not a
   * flat JSON object (in lower case, for the caller to put after a location).
   */
  scan(line: string): string | undefined {
    this.#line = line;
    this.count = 0;
    this.#at = 0;
    this.#skipSpace();
    if (line.charCodeAt(this.#at) !== 123 /* { */) return explain(line);
    this.#at++;
    this.#skipSpace();
    if (line.charCodeAt(this.#at) === 125 /* } */) {
      this.#at++;
      return this.#end();
    }
    for (;;) {
      if (line.charCodeAt(this.#at) !== 34 /* " */) return explain(line);
      const key = this.#string();
      if (key === undefined) return explain(line);
      this.#skipSpace();
      if (line.charCodeAt(this.#at) !== 58 /* : */) return explain(line);
      this.#at++;
      this.#skipSpace();
      const c = line.charCodeAt(this.#at);
      let text: string | undefined;
      let kind: JsonKind;
      if (c === 34) {
        text = this.#string();
        kind = "string";
      } else if (c === 123 || c === 91 /* [ */) {
        text = this.#nestedValue();
        kind = "json";
      } else if (c === 116 /* t */) {
        text = this.#literal("true");
        kind = "boolean";
      } else if (c === 102 /* f */) {
        text = this.#literal("false");
        kind = "boolean";
      } else if (c === 110 /* n */) {
        text = this.#literal("null");
        kind = "null";
      } else {
        text = this.#number();
        kind = "number";
      }
      if (text === undefined) return explain(line);
      const k = this.count++;
      this.keys[k] = key;
      this.texts[k] = text;
      this.kinds[k] = kind;
      this.#skipSpace();
      const next = line.charCodeAt(this.#at++);
      if (next === 125) return this.#end();
      if (next !== 44 /* , */) return explain(line);
      this.#skipSpace();
    }
  }

  #end(): string | undefined {
    this.#skipSpace();
    return this.#at === this.#line.length ? undefined : explain(this.#line);
  }

  #skipSpace(): void {
    const line = this.#line;
    let i = this.#at;
    for (;;) {
      const c = line.charCodeAt(i);
      if (c !== 32 && c !== 9 && c !== 10 && c !== 13) break;
      i++;
    }
    this.#at = i;
  }

  /** Reads the string that starts at the current quote. */
  #string(): string | undefined {
    const line = this.#line;
    const start = this.#at + 1;
    let escaped = false;
    for (let i = start; i < line.length; i++) {
      const c = line.charCodeAt(i);
      if (c === 34) {
        this.#at = i + 1;
        if (!escaped) return line.slice(start, i);
        try {
          return JSON.parse(line.slice(start - 1, i + 1)) as string;
        } catch {
          return undefined;
        }
      }
      if (c === 92 /* \ */) {
        escaped = true;
        i++;
      } else if (c < 0x20) {
        return undefined;
      }
    }
    return undefined;
  }

  /**
   * Skips an object or array by its brackets and strings, returning its
   * text; its grammar is checked when it is parsed against its column.
   */
  #nestedValue(): string | undefined {
    const line = this.#line;
    const start = this.#at;
    let depth = 0;
    for (let i = start; i < line.length; i++) {
      const c = line.charCodeAt(i);
      if (c === 34) {
        this.#at = i;
        if (this.#string() === undefined) return undefined;
        i = this.#at - 1;
      } else if (c === 123 || c === 91) depth++;
      else if (c === 125 || c === 93) {
        if (--depth === 0) {
          this.#at = i + 1;
          return line.slice(start, i + 1);
        }
      }
    }
    return undefined;
  }

  #literal(word: string): string | undefined {
    if (!this.#line.startsWith(word, this.#at)) return undefined;
    this.#at += word.length;
    return word;
  }

  /** Reads a number by the JSON grammar, returning its text. */
  #number(): string | undefined {
    const line = this.#line;
    const start = this.#at;
    let i = start;
    if (line.charCodeAt(i) === 45 /* - */) i++;
    if (line.charCodeAt(i) === 48 /* 0 */) {
      i++;
    } else {
      const first = i;
      while (isDigit(line.charCodeAt(i))) i++;
      if (i === first) return undefined;
    }
    if (line.charCodeAt(i) === 46 /* . */) {
      const first = ++i;
      while (isDigit(line.charCodeAt(i))) i++;
      if (i === first) return undefined;
    }
    if ((line.charCodeAt(i) | 0x20) === 0x65 /* e */) {
      i++;
      const sign = line.charCodeAt(i);
      if (sign === 43 || sign === 45) i++;
      const first = i;
      while (isDigit(line.charCodeAt(i))) i++;
      if (i === first) return undefined;
    }
    this.#at = i;
    return line.slice(start, i);
  }
}

function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}

/** Says why a line that the scanner refused is not a flat object. */
function explain(line: string): string {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch (error) {
    return `the line is not valid JSON: ${(error as Error).message}`;
  }
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    const what = value === null ? "null" : Array.isArray(value) ? "an array" : `a ${typeof value}`;
    return `the line is ${what}, not a JSON object: write one object per line`;
  }
  return "the line is not a JSON object";
}

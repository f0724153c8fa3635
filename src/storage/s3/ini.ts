/**
 * The INI dialect of `~/.aws/credentials` and `~/.aws/config`, parsed the way
 * the AWS CLI and SDKs read it.
 *
 * Invariants:
 * - Section names are trimmed with inner runs of spaces collapsed, so
 *   `[profile  dev ]` is `profile dev`; keys are lower-cased, values trimmed.
 * - A key with an empty value followed by indented `k = v` lines opens a
 *   nested block (`s3 =\n  endpoint_url = ...`); other indented lines continue
 *   the previous value.
 * - Whole-line comments start with `#` or `;`; an inline comment needs
 *   whitespace before its `#` or `;`, so base64 secrets stay intact.
 * - A repeated section merges into the first; a later key wins.
 */

/** One `[section]` of an AWS INI file. */
export interface IniSection {
  /** `key = value` pairs of the section. */
  values: Record<string, string>;
  /** Nested blocks such as `s3 =` followed by indented pairs. */
  nested: Record<string, Record<string, string>>;
}

/**
 * Parses an AWS INI file into its sections, keyed by normalised name.
 * `file` is only used in error messages.
 *
 * @example
 * ```ts
 * const sections = parseAwsIni("[default]\naws_access_key_id = AKID\n");
 * sections.get("default")?.values.aws_access_key_id; // "AKID"
 * ```
 */
export function parseAwsIni(text: string, file = "AWS config file"): Map<string, IniSection> {
  const sections = new Map<string, IniSection>();
  let section: IniSection | undefined;
  let lastKey: string | undefined;
  let nestedKey: string | undefined;
  const lines = text.split(/\r?\n/);
  for (let n = 0; n < lines.length; n++) {
    const raw = lines[n]!;
    const trimmed = raw.trim();
    if (trimmed === "" || trimmed.startsWith("#") || trimmed.startsWith(";")) continue;
    const line = stripInlineComment(raw);
    const indented = /^\s/.test(line);
    if (!indented && trimmed.startsWith("[")) {
      if (!trimmed.endsWith("]")) {
        throw new SyntaxError(`Cannot parse ${file} line ${n + 1}: a section header needs "]"`);
      }
      const name = trimmed.slice(1, -1).trim().replace(/\s+/g, " ");
      section = sections.get(name);
      if (!section) {
        section = { values: {}, nested: {} };
        sections.set(name, section);
      }
      lastKey = undefined;
      nestedKey = undefined;
      continue;
    }
    if (!section) {
      throw new SyntaxError(
        `Cannot parse ${file} line ${n + 1}: a setting before any [section] header`,
      );
    }
    const eq = line.indexOf("=");
    if (indented && lastKey !== undefined) {
      if (nestedKey !== undefined && eq > 0) {
        const key = line.slice(0, eq).trim().toLowerCase();
        section.nested[nestedKey]![key] = line.slice(eq + 1).trim();
      } else {
        section.values[lastKey] = `${section.values[lastKey] ?? ""}\n${line.trim()}`.trim();
      }
      continue;
    }
    if (eq <= 0) {
      throw new SyntaxError(`Cannot parse ${file} line ${n + 1}: expected "key = value"`);
    }
    const key = line.slice(0, eq).trim().toLowerCase();
    const value = line.slice(eq + 1).trim();
    lastKey = key;
    if (value === "") {
      nestedKey = key;
      section.nested[key] ??= {};
    } else {
      nestedKey = undefined;
    }
    section.values[key] = value;
  }
  return sections;
}

function stripInlineComment(line: string): string {
  const match = /\s[#;]/.exec(line);
  return match ? line.slice(0, match.index) : line;
}

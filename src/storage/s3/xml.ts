/**
 * The little XML that S3 speaks: a small, strict parser for response bodies
 * and an escaper for request bodies.
 *
 * Invariants:
 * - The parser accepts only well-formed documents with one root element. A
 *   mismatched or unclosed tag, an unknown entity or stray text outside the
 *   root throws a `SyntaxError` that names the offset; it never guesses.
 * - Entities (`&amp;` and friends, `&#NN;`, `&#xNN;`) are decoded, and CDATA
 *   is kept verbatim. Namespaces are ignored: S3 uses one default namespace,
 *   so an element is known by its local name.
 */

/** One element: its local name, child elements and concatenated text. */
export interface XmlElement {
  name: string;
  children: XmlElement[];
  text: string;
}

const NAMED_ENTITIES: Record<string, string> = {
  amp: "&",
  lt: "<",
  gt: ">",
  quot: '"',
  apos: "'",
};

/**
 * Parses an XML document and returns its root element.
 *
 * @example
 * ```ts
 * const root = parseXml("<Error><Code>NoSuchKey</Code></Error>");
 * childText(root, "Code"); // "NoSuchKey"
 * ```
 */
export function parseXml(text: string): XmlElement {
  const stack: XmlElement[] = [];
  let top: XmlElement | undefined;
  let root: XmlElement | undefined;
  let i = 0;
  const length = text.length;
  const fail = (what: string): never => {
    throw new SyntaxError(`Cannot parse S3 XML at offset ${i}: ${what}`);
  };
  // One pass with `indexOf` and `charCodeAt`: a listing of 1,000 keys is
  // 6,000 elements, so this loop allocates nothing but the elements and
  // their text.
  while (i < length) {
    const lt = text.indexOf("<", i);
    const end = lt < 0 ? length : lt;
    if (end > i) {
      if (top) top.text += decodeEntities(text.slice(i, end), i);
      else if (!isBlank(text, i, end)) fail("text outside the root element");
      i = end;
      continue;
    }
    const next = text.charCodeAt(i + 1);
    if (next === SLASH) {
      const close = text.indexOf(">", i + 2);
      if (close < 0) fail("unterminated closing tag");
      const name = localName(text.slice(i + 2, close).trim());
      const open = stack.pop();
      if (!open) fail(`closing tag </${name}> without an opening tag`);
      if (open!.name !== name) fail(`expected </${open!.name}>, found </${name}>`);
      top = stack[stack.length - 1];
      if (!top) root = open;
      i = close + 1;
    } else if (next === QUESTION) {
      const close = text.indexOf("?>", i + 2);
      if (close < 0) fail("unterminated processing instruction");
      i = close + 2;
    } else if (next === BANG) {
      if (text.startsWith("<!--", i)) {
        const close = text.indexOf("-->", i + 4);
        if (close < 0) fail("unterminated comment");
        i = close + 3;
      } else if (text.startsWith("<![CDATA[", i)) {
        const close = text.indexOf("]]>", i + 9);
        if (close < 0) fail("unterminated CDATA section");
        if (!top) fail("CDATA outside the root element");
        top!.text += text.slice(i + 9, close);
        i = close + 3;
      } else {
        fail("document type declarations are not accepted");
      }
    } else {
      // The name runs to whitespace, `/` or `>`; only a tag with attributes
      // needs the quote-aware scan for its end.
      let j = i + 1;
      let c = text.charCodeAt(j);
      while (j < length && c !== GT && c !== SLASH && !isSpace(c)) c = text.charCodeAt(++j);
      if (j === i + 1) fail("a tag without a name");
      const close = c === GT ? j : findTagEnd(text, j);
      if (close < 0) fail("unterminated tag");
      const selfClosing = text.charCodeAt(close - 1) === SLASH;
      if (!top && root !== undefined) fail("a second root element");
      const element: XmlElement = {
        name: localName(text.slice(i + 1, j)),
        children: [],
        text: "",
      };
      if (top) top.children.push(element);
      if (selfClosing) {
        if (!top) root = element;
      } else {
        stack.push(element);
        top = element;
      }
      i = close + 1;
    }
  }
  if (top) fail(`unclosed element <${top.name}>`);
  if (!root) fail("no root element");
  return root!;
}

const SLASH = 0x2f;
const QUESTION = 0x3f;
const BANG = 0x21;
const GT = 0x3e;

function isSpace(c: number): boolean {
  return c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;
}

function isBlank(text: string, from: number, to: number): boolean {
  for (let j = from; j < to; j++) if (!isSpace(text.charCodeAt(j))) return false;
  return true;
}

/** Returns the first child element called `name`, if any. */
export function child(element: XmlElement, name: string): XmlElement | undefined {
  return element.children.find((c) => c.name === name);
}

/** Returns every child element called `name`, in document order. */
export function children(element: XmlElement, name: string): XmlElement[] {
  return element.children.filter((c) => c.name === name);
}

/** Returns the text of the first child called `name`, or `undefined`. */
export function childText(element: XmlElement, name: string): string | undefined {
  return child(element, name)?.text;
}

/** Escaping for request bodies: the one implementation, shared with the report. */
export { escapeXml } from "../../util/xml.ts";

/**
 * True if XML 1.0 can carry `text` at all. Control characters other than tab,
 * line feed and carriage return (and lone surrogates) cannot appear in a
 * document, not even as character references.
 */
export function isXmlSafe(text: string): boolean {
  // deno-lint-ignore no-control-regex
  return !/[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]/.test(text) &&
    text.isWellFormed();
}

function localName(qualified: string): string {
  const colon = qualified.indexOf(":");
  return colon < 0 ? qualified : qualified.slice(colon + 1);
}

function findTagEnd(text: string, from: number): number {
  let quote = "";
  for (let j = from; j < text.length; j++) {
    const c = text[j];
    if (quote) {
      if (c === quote) quote = "";
    } else if (c === '"' || c === "'") {
      quote = c;
    } else if (c === ">") {
      return j;
    }
  }
  return -1;
}

function decodeEntities(text: string, offset: number): string {
  if (!text.includes("&")) return text;
  return text.replace(/&([^;&\s]*);?/g, (match, name: string) => {
    if (!match.endsWith(";")) {
      throw new SyntaxError(`Cannot parse S3 XML at offset ${offset}: a bare "&"`);
    }
    if (name.startsWith("#x") || name.startsWith("#X")) {
      return codePoint(Number.parseInt(name.slice(2), 16), match, offset);
    }
    if (name.startsWith("#")) return codePoint(Number.parseInt(name.slice(1), 10), match, offset);
    const named = NAMED_ENTITIES[name];
    if (named === undefined) {
      throw new SyntaxError(`Cannot parse S3 XML at offset ${offset}: unknown entity ${match}`);
    }
    return named;
  });
}

function codePoint(value: number, match: string, offset: number): string {
  if (!Number.isInteger(value) || value < 0 || value > 0x10ffff) {
    throw new SyntaxError(`Cannot parse S3 XML at offset ${offset}: bad reference ${match}`);
  }
  return String.fromCodePoint(value);
}

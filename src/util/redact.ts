/**
 * Removes the user name and password of URLs from text, so that a secret
 * embedded in an endpoint (`http://user:pass@host`) never reaches an error
 * message, a log line, `config show` or `health`.
 *
 * Invariants:
 * - Works on text that is not a valid URL too: a URL that cannot be parsed is
 *   exactly the one that gets echoed in an error.
 * - Errs towards hiding: for http(s) and other network schemes everything
 *   between `://` and the last `@` of the token is hidden, because an
 *   unencoded `/` or `?` in a password ends a URL's authority early. Only for
 *   table URIs (`s3://`, `s3a://`, `file://`), where an `@` in a key is
 *   plausible and credentials are not, just an `@` before the first `/` counts.
 */

/** What stands in for hidden user information. */
export const REDACTED_USERINFO = "<redacted>";

// scheme://, then a token up to white space or a quote, ending at its last `@`.
const NETWORK = /\b((?!(?:s3a?|file):\/\/)[a-z][a-z0-9+.-]*:\/\/)[^\s"'`<>]*@/gi;
// s3://, s3a://, file://: user information only within the authority.
const TABLE = /\b((?:s3a?|file):\/\/)[^\s"'`<>/]*@/gi;

/** Replaces the user information of every URL in `text` by `<redacted>`. */
export function redactUserinfo(text: string): string {
  if (!text.includes("@")) return text;
  return text.replace(NETWORK, `$1${REDACTED_USERINFO}@`).replace(
    TABLE,
    `$1${REDACTED_USERINFO}@`,
  );
}

/**
 * One URL-like value with its user information hidden, however malformed:
 * everything between `://` (or the start, without a scheme) and the last `@`.
 */
export function redactUrlValue(value: string): string {
  const at = value.lastIndexOf("@");
  if (at < 0) return value;
  const scheme = value.indexOf("://");
  const start = scheme >= 0 && scheme < at ? scheme + 3 : 0;
  return `${value.slice(0, start)}${REDACTED_USERINFO}${value.slice(at)}`;
}

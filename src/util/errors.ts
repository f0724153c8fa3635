/**
 * Error helpers shared by every layer: the `Caused by` chain printer and the
 * one error class that every layer may raise for bad user input.
 */

/**
 * Bad input that the user can fix: a malformed record, a value that does not
 * fit its column, an unknown column. It carries where the problem is, so the
 * command line can print `file:line:column` and exit with status 1.
 */
export class InputError extends Error {
  /** The file (or `-` for stdin) that held the bad input. */
  readonly file: string | undefined;
  /** 1-based line number, when known. */
  readonly line: number | undefined;
  /** The column name or 1-based column number, when known. */
  readonly column: string | undefined;

  constructor(
    message: string,
    where: { file?: string; line?: number; column?: string } = {},
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = "InputError";
    this.file = where.file;
    this.line = where.line;
    this.column = where.column;
  }
}

/** Returns the messages of an error and its causes, outermost first. */
export function errorChain(error: unknown): string[] {
  const messages: string[] = [];
  const seen = new Set<unknown>();
  let current: unknown = error;
  while (current !== undefined && current !== null && !seen.has(current)) {
    seen.add(current);
    if (current instanceof Error) {
      // A cause that an earlier message already quotes says nothing new.
      if (!quoted(messages, current.message)) messages.push(current.message);
      current = current.cause;
    } else {
      messages.push(String(current));
      break;
    }
  }
  return messages;
}

/**
 * Whether `message` (or, for a message of several sentences, its first,
 * when that is not short) is already part of one of `earlier`.
 */
function quoted(earlier: string[], message: string): boolean {
  const text = message.trim();
  if (text.length === 0) return true;
  const head = text.split(/\.(?:\s|$)/, 1)[0]!.trim();
  return earlier.some((m) =>
    m.includes(text) || (head !== text && head.length >= 12 && m.includes(head))
  );
}

/** Formats an error as one line plus `Caused by` lines, for people. */
export function formatError(error: unknown): string {
  const [first, ...causes] = errorChain(error);
  return [first ?? "Unknown error", ...causes.map((c) => `  Caused by: ${c}`)]
    .join("\n");
}

/** Returns the message of any thrown value. */
export function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * A table URI that cannot name a table (a bad scheme, bucket or prefix): a
 * mistake in how a command was called, which the command line answers with
 * exit status 2.
 */
export class InvalidUriError extends TypeError {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "InvalidUriError";
  }
}

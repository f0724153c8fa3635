/**
 * The progress line of a long command (`verify`, `vacuum`, `scan` into a file):
 * one line on stderr, rewritten in place, on a terminal only and never with
 * `--json`, so that it never lands in a file, a pipe or a script's parse.
 *
 * Invariants:
 * - At most one update per `intervalMs` reaches the terminal, except a forced
 *   one (the last of a phase); the first always does.
 * - `clear` erases the line only if one was shown, before the result prints.
 */

const encoder = new TextEncoder();

/** Writes to stderr, all of it. */
function toStderr(text: string): void {
  const bytes = encoder.encode(text);
  let written = 0;
  while (written < bytes.length) written += Deno.stderr.writeSync(bytes.subarray(written));
}

/** A throttled progress line. */
export class ProgressLine {
  readonly enabled: boolean;
  readonly #out: (text: string) => void;
  readonly #now: () => number;
  readonly #intervalMs: number;
  #shownAt: number | undefined;

  /**
   * @param enabled Whether anything is written at all.
   * @param out Where the line goes. @default stderr
   * @param now The clock, in ms. @default performance.now
   * @param intervalMs The least time between two updates. @default 200
   */
  constructor(
    enabled: boolean,
    out: (text: string) => void = toStderr,
    now: () => number = () => performance.now(),
    intervalMs = 200,
  ) {
    this.enabled = enabled;
    this.#out = out;
    this.#now = now;
    this.#intervalMs = intervalMs;
  }

  /** Shows `text`, unless the last update is too recent and `force` is not set. */
  update(text: string, force = false): void {
    if (!this.enabled) return;
    const now = this.#now();
    if (!force && this.#shownAt !== undefined && now - this.#shownAt < this.#intervalMs) return;
    this.#shownAt = now;
    this.#out(`\r\x1b[2K${text}`);
  }

  /** Erases the line, if one was shown. */
  clear(): void {
    if (this.#shownAt === undefined) return;
    this.#shownAt = undefined;
    this.#out("\r\x1b[2K");
  }
}

/** The progress line of a command: on a terminal, unless `--json`. */
export function progressLine(json: boolean): ProgressLine {
  return new ProgressLine(!json && Deno.stderr.isTerminal());
}

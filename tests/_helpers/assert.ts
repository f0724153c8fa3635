/**
 * Small assertion helpers for tests (the standard library's assert module is
 * not reachable here). Each throws with a message that shows both sides.
 */

/** Fails unless `actual` deep-equals `expected` (JSON-like values, bigint, typed arrays). */
export function assertEquals(actual: unknown, expected: unknown, message?: string): void {
  if (!deepEqual(actual, expected)) {
    throw new Error(
      `${message ? message + ": " : ""}values differ\n  actual:   ${show(actual)}\n  expected: ${
        show(expected)
      }`,
    );
  }
}

/** Fails if `actual` deep-equals `expected`. */
export function assertNotEquals(actual: unknown, expected: unknown, message?: string): void {
  if (deepEqual(actual, expected)) {
    throw new Error(`${message ? message + ": " : ""}values are equal: ${show(actual)}`);
  }
}

/** Fails unless the condition holds. */
export function assert(condition: unknown, message = "assertion failed"): asserts condition {
  if (!condition) throw new Error(message);
}

/** Fails unless `fn` throws an error whose message includes `includes`; returns it. */
export function assertThrows(fn: () => unknown, includes?: string | RegExp): Error {
  let error: unknown;
  try {
    fn();
  } catch (e) {
    error = e;
  }
  return checkError(error, includes);
}

/** Fails unless the promise rejects with an error whose message includes `includes`. */
export async function assertRejects(
  fn: () => Promise<unknown>,
  includes?: string | RegExp,
): Promise<Error> {
  let error: unknown;
  try {
    await fn();
  } catch (e) {
    error = e;
  }
  return checkError(error, includes);
}

function checkError(error: unknown, includes?: string | RegExp): Error {
  if (error === undefined) throw new Error("expected an error, but none was thrown");
  if (!(error instanceof Error)) throw new Error(`expected an Error, got ${show(error)}`);
  if (includes !== undefined) {
    const ok = typeof includes === "string"
      ? error.message.includes(includes)
      : includes.test(error.message);
    if (!ok) {
      throw new Error(`error message ${JSON.stringify(error.message)} does not match ${includes}`);
    }
  }
  return error;
}

function deepEqual(a: unknown, b: unknown): boolean {
  if (Object.is(a, b)) return true;
  if (typeof a !== typeof b || a === null || b === null) return false;
  if (typeof a !== "object") return false;
  if (ArrayBuffer.isView(a) && ArrayBuffer.isView(b)) {
    const x = a as unknown as ArrayLike<unknown>;
    const y = b as unknown as ArrayLike<unknown>;
    if (a.constructor !== b.constructor || x.length !== y.length) return false;
    for (let i = 0; i < x.length; i++) if (!Object.is(x[i], y[i])) return false;
    return true;
  }
  if (a instanceof Map && b instanceof Map) {
    if (a.size !== b.size) return false;
    for (const [k, v] of a) if (!b.has(k) || !deepEqual(v, b.get(k))) return false;
    return true;
  }
  if (a instanceof Set && b instanceof Set) {
    if (a.size !== b.size) return false;
    for (const v of a) if (!b.has(v)) return false;
    return true;
  }
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  const ka = Object.keys(a as object).filter((k) =>
    (a as Record<string, unknown>)[k] !== undefined
  );
  const kb = Object.keys(b as object).filter((k) =>
    (b as Record<string, unknown>)[k] !== undefined
  );
  if (ka.length !== kb.length) return false;
  for (const k of ka) {
    if (!deepEqual((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k])) {
      return false;
    }
  }
  return true;
}

function show(v: unknown): string {
  return Deno.inspect(v, { depth: 6, colors: false, iterableLimit: 50 });
}

/** Fails unless `actual` matches the pattern. */
export function assertMatch(actual: string, expected: RegExp, message?: string): void {
  if (!expected.test(actual)) {
    throw new Error(
      `${message ? message + ": " : ""}${show(actual)} does not match ${expected}`,
    );
  }
}

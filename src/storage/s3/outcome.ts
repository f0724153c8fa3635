/**
 * The one place where S3 answers become outcomes. Every caller branches on the
 * `S3Outcome` that `classifyResponse` or `classifyFailure` returns, never on a
 * status code or on an error's message text.
 *
 * Invariants:
 * - Both functions are pure and total: every status, code and thrown value
 *   maps to exactly one outcome.
 * - Only 429, 5xx (500, 502, 503, 504 and any other), S3's RequestTimeout and
 *   OperationAborted, and network failures are `retryable`. No other 4xx is
 *   ever retried.
 * - A 404 is `not-found` only when it is about the key: a missing bucket
 *   (NoSuchBucket) or multipart upload (NoSuchUpload) is `fatal`, so that a
 *   wrong bucket never reads as an empty table.
 */

/** What an S3 response or failure means to the caller. */
export type S3Outcome =
  /** 2xx: the request did what it asked. */
  | { kind: "ok" }
  /** 404 for the key: it is absent. */
  | { kind: "not-found" }
  /** 412: a condition (`If-None-Match: *`) did not hold; nothing was written. */
  | { kind: "precondition-failed" }
  /**
   * 409 ConditionalRequestConflict: another conditional write to the key is
   * in flight. Nothing was written; retry after a backoff.
   */
  | { kind: "conflict" }
  /** 416: the object exists but the range starts past its end. */
  | { kind: "range-not-satisfiable" }
  /**
   * Worth retrying after a backoff. `throttled` marks 429 and 503 SlowDown.
   * `mayHaveApplied` is true when the server may have acted on the request
   * (5xx, timeouts, connection resets), which makes a conditional write
   * ambiguous.
   */
  | { kind: "retryable"; throttled: boolean; mayHaveApplied: boolean }
  /** Anything else: retrying cannot help. */
  | { kind: "fatal" };

/** The outcomes that carry no data, shared so that callers can compare them. */
const OK: S3Outcome = { kind: "ok" };
const NOT_FOUND: S3Outcome = { kind: "not-found" };
const PRECONDITION_FAILED: S3Outcome = { kind: "precondition-failed" };
const CONFLICT: S3Outcome = { kind: "conflict" };
const RANGE: S3Outcome = { kind: "range-not-satisfiable" };
const FATAL: S3Outcome = { kind: "fatal" };

/**
 * Maps an HTTP status and the S3 error code from the response body (absent
 * for HEAD and for bodies that are not S3 errors) to an outcome.
 *
 * @example
 * ```ts
 * classifyResponse(412, "PreconditionFailed"); // { kind: "precondition-failed" }
 * classifyResponse(503, "SlowDown").kind; // "retryable"
 * ```
 */
export function classifyResponse(status: number, code?: string): S3Outcome {
  if (status >= 200 && status < 300) {
    // CompleteMultipartUpload and CopyObject can fail with 200 and an error body.
    return code === undefined ? OK : classifyResponse(errorStatusForCode(code), code);
  }
  switch (status) {
    case 404:
      return code === "NoSuchBucket" || code === "NoSuchUpload" ? FATAL : NOT_FOUND;
    case 412:
      return PRECONDITION_FAILED;
    case 409:
      if (code === "ConditionalRequestConflict") return CONFLICT;
      if (code === "OperationAborted") return retryable(false, false);
      return FATAL;
    case 416:
      return RANGE;
    case 429:
      return retryable(true, false);
    case 400:
      // The server gave up waiting for the body: the request was not applied.
      return code === "RequestTimeout" ? retryable(false, false) : FATAL;
    case 403:
      // An S3 quirk: a throttled request is sometimes refused with 403 SlowDown.
      return code === "SlowDown" ? retryable(true, false) : FATAL;
  }
  if (status >= 500 && status < 600) {
    // 501 NotImplemented is the server saying "never", not "not now".
    if (status === 501) return FATAL;
    const throttled = status === 503 && (code === "SlowDown" || code === undefined);
    return retryable(throttled, true);
  }
  return FATAL;
}

/**
 * Maps a value thrown by the transport (`fetch`, or reading a response body)
 * to an outcome, by its type and name only. A network failure (`TypeError`
 * from fetch, a reset or cut-off connection) and a per-request timeout are
 * retryable and may have been applied; a refused connection is retryable and
 * was not applied; an abort asked for by the caller, and anything else, is
 * fatal.
 */
export function classifyFailure(error: unknown): S3Outcome {
  if (error instanceof DOMException) {
    return error.name === "TimeoutError" ? retryable(false, true) : FATAL;
  }
  if (error instanceof TypeError) return retryable(false, true);
  if (error instanceof Deno.errors.ConnectionReset) return retryable(false, true);
  if (error instanceof Deno.errors.ConnectionAborted) return retryable(false, true);
  if (error instanceof Deno.errors.ConnectionRefused) return retryable(false, false);
  if (error instanceof Deno.errors.BrokenPipe) return retryable(false, true);
  if (error instanceof Deno.errors.TimedOut) return retryable(false, true);
  if (error instanceof Deno.errors.UnexpectedEof) return retryable(false, true);
  return FATAL;
}

/** The status that S3 would have sent with an error code found in a 200 body. */
function errorStatusForCode(code: string): number {
  if (code === "SlowDown") return 503;
  if (code === "InternalError") return 500;
  return 400;
}

function retryable(throttled: boolean, mayHaveApplied: boolean): S3Outcome {
  return { kind: "retryable", throttled, mayHaveApplied };
}

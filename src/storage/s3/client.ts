/**
 * The HTTP layer of the S3 backend: builds, signs and sends one request
 * (through `HttpTransport`), reads the answer, and retries what is worth
 * retrying.
 *
 * Invariants:
 * - Every attempt is signed afresh (new date) and bounded by
 *   `requestTimeoutMs`, body included.
 * - Retries follow `classifyResponse` / `classifyFailure` only: 429, 5xx and
 *   network failures, with jittered exponential backoff, within
 *   `maxRetries` and `retryBudgetMs`. No other 4xx is retried.
 * - Every error message goes through `S3Credentials.redact`, and no raw
 *   response body is ever put in a message.
 * - The server's `Date` header of the latest response is kept, so that clock
 *   skew can be reported.
 */

import { createHash } from "node:crypto";
import { backoffDelay, sleep } from "../../util/backoff.ts";
import type { S3Config } from "./config.ts";
import type { S3Credentials } from "./credentials.ts";
import { CLIENT_CODES, describeFailure, S3Error, type S3ErrorDetails } from "./errors.ts";
import { type BucketAddress, bucketAddress, requestPath, requestUrl } from "./location.ts";
import { classifyFailure, classifyResponse, type S3Outcome } from "./outcome.ts";
import { canonicalQuery, EMPTY_SHA256, RequestSigner, UNSIGNED_PAYLOAD } from "./signer.ts";
import { type HttpAnswer, sendHttp } from "./transport.ts";
import { childText, parseXml } from "./xml.ts";

/** The HTTP methods that S3 requests use. */
export type S3Method = "GET" | "HEAD" | "PUT" | "POST" | "DELETE";

/** One S3 request. */
export interface S3Request {
  /** The S3 operation name, for messages: `GetObject`, `PutObject`. */
  operation: string;
  method: S3Method;
  /** The full object key in the bucket; absent for bucket-level requests. */
  objectKey?: string | undefined;
  /** The key relative to the store root, for messages and `S3Error.key`. */
  storeKey?: string | undefined;
  /** Decoded query parameters. */
  query?: Record<string, string>;
  /** Extra headers, lower-case names; they are signed. */
  headers?: Record<string, string>;
  body?: Uint8Array | undefined;
  /**
   * The body's `x-amz-content-sha256`, if the caller computed it already
   * with `payloadHash` (to overlap the hashing with other work).
   */
  payloadHash?: string | undefined;
  /**
   * The operation may fail with status 200 and an `<Error>` body
   * (CompleteMultipartUpload does). Never set it for GetObject: an object
   * may hold any bytes.
   */
  errorIn200?: boolean;
}

/** A complete response. */
export interface S3Response {
  status: number;
  headers: Headers;
  /** The body (empty for HEAD). */
  body: Uint8Array;
  outcome: S3Outcome;
  /** The S3 error code from the body, if it was an error document. */
  code: string | undefined;
  serverMessage: string | undefined;
  requestId: string | undefined;
  serverDate: Date | undefined;
  localDate: Date;
  latencyMs: number;
}

/** The result of one attempt: a response, or a failure before one arrived. */
export type AttemptResult =
  | { kind: "response"; outcome: S3Outcome; response: S3Response }
  | { kind: "failure"; outcome: S3Outcome; error: unknown; latencyMs: number };

/** Options for `S3Client`. */
export interface S3ClientOptions {
  /** The root URI for messages (`s3://bucket/prefix`). */
  uri: string;
  /** Turns a store key into the target of a message. */
  describeKey?: (storeKey: string) => string;
}

/** Sends signed requests to one bucket. */
export class S3Client {
  readonly config: S3Config;
  readonly bucket: string;
  readonly address: BucketAddress;
  readonly uri: string;
  /** Local clock minus server clock in ms, from the latest `Date` header. */
  clockSkewMs: number | undefined;
  readonly #credentials: S3Credentials;
  readonly #signer: RequestSigner;
  readonly #describeKey: (storeKey: string) => string;

  constructor(config: S3Config, bucket: string, options: S3ClientOptions) {
    if (!config.credentials) {
      throw new TypeError(
        `No S3 credentials for ${options.uri}: set AWS_ACCESS_KEY_ID and ` +
          `AWS_SECRET_ACCESS_KEY, or AWS_PROFILE with a profile in ~/.aws/credentials`,
      );
    }
    this.config = config;
    this.bucket = bucket;
    this.uri = options.uri;
    this.address = bucketAddress(config, bucket);
    this.#credentials = config.credentials;
    this.#signer = new RequestSigner({
      service: "s3",
      region: config.region,
      credentials: config.credentials,
      uriEscapePath: false,
    });
    this.#describeKey = options.describeKey ?? ((key) => `${options.uri}/${key}`);
  }

  /**
   * Sends a request, retrying retryable outcomes within the budget. Resolves
   * with any non-fatal response (ok, not-found, precondition-failed,
   * conflict, range-not-satisfiable); rejects with an `S3Error` otherwise.
   */
  async send(request: S3Request): Promise<S3Response> {
    const started = performance.now();
    // Hashed once for every attempt.
    const payloadHash = request.payloadHash ?? this.payloadHash(request.body);
    for (let attempt = 0;; attempt++) {
      const result = await this.attempt(request, payloadHash);
      if (
        result.kind === "response" && result.outcome.kind !== "retryable" &&
        result.outcome.kind !== "fatal"
      ) {
        return result.response;
      }
      const elapsed = performance.now() - started;
      if (result.outcome.kind === "retryable") {
        const delay = this.retryDelay(attempt, result.outcome.throttled);
        if (this.mayRetry(attempt, elapsed + delay)) {
          await sleep(delay);
          continue;
        }
      }
      throw this.errorFor(request, result, attempt + 1, elapsed);
    }
  }

  /** True if retry number `attempt` (0-based) may start at `elapsedMs`. */
  mayRetry(attempt: number, elapsedMs: number): boolean {
    return attempt < this.config.maxRetries && elapsedMs < this.config.retryBudgetMs;
  }

  /** The backoff before retry number `attempt`; throttling waits longer. */
  retryDelay(attempt: number, throttled: boolean): number {
    return backoffDelay(throttled ? attempt + 2 : attempt, this.config.backoff);
  }

  /** The `x-amz-content-sha256` value for a body, per `payloadSigning`. */
  payloadHash(body: Uint8Array | undefined): string {
    if (body === undefined || body.length === 0) return EMPTY_SHA256;
    if (this.config.payloadSigning === "unsigned") return UNSIGNED_PAYLOAD;
    // node:crypto hashes about twice as fast as crypto.subtle here, without a copy.
    return createHash("sha256").update(body).digest("hex");
  }

  /** Makes one attempt. Never rejects for network failures or timeouts. */
  async attempt(request: S3Request, payloadHash?: string): Promise<AttemptResult> {
    const path = requestPath(this.address, request.objectKey);
    const query = canonicalQuery(request.query ?? {});
    const headers = await this.#signer.sign({
      method: request.method,
      protocol: this.address.protocol,
      host: this.address.host,
      path,
      query: request.query ?? {},
      headers: {
        ...request.headers,
        "x-amz-content-sha256": payloadHash ?? this.payloadHash(request.body),
      },
    });
    delete headers["host"];
    // Stored objects are bytes: never let fetch decompress them.
    headers["accept-encoding"] = "identity";

    const controller = new AbortController();
    const timeoutMs = this.config.requestTimeoutMs;
    const timer = setTimeout(() => {
      controller.abort(new DOMException(`No response within ${timeoutMs} ms`, "TimeoutError"));
    }, timeoutMs);
    const sent = performance.now();
    try {
      const answer = await sendHttp({
        method: request.method,
        url: requestUrl(this.address, path, query),
        headers,
        body: request.body,
        signal: controller.signal,
      });
      const response = this.#readResponse(answer, sent, request.errorIn200 === true);
      return { kind: "response", outcome: response.outcome, response };
    } catch (error) {
      return {
        kind: "failure",
        outcome: classifyFailure(error),
        error,
        latencyMs: performance.now() - sent,
      };
    } finally {
      clearTimeout(timer);
    }
  }

  /** Builds the `S3Error` for a final attempt. */
  errorFor(request: S3Request, result: AttemptResult, attempts: number, elapsedMs: number) {
    let details: S3ErrorDetails;
    let cause: unknown;
    let serverDate: Date | undefined;
    let localDate: Date | undefined;
    if (result.kind === "response") {
      const r = result.response;
      details = {
        status: r.status,
        code: r.code ?? statusCode(r.status),
        requestId: r.requestId,
        operation: request.operation,
        key: request.storeKey,
        serverMessage: r.serverMessage,
        attempts,
      };
      serverDate = r.serverDate;
      localDate = r.localDate;
    } else {
      const timedOut = result.error instanceof DOMException &&
        result.error.name === "TimeoutError";
      details = {
        status: 0,
        code: timedOut ? CLIENT_CODES.timeout : CLIENT_CODES.network,
        operation: request.operation,
        key: request.storeKey,
        attempts,
      };
      cause = result.error;
    }
    return this.makeError(details, { serverDate, localDate, elapsedMs }, cause);
  }

  /** Builds an `S3Error` with advice, secrets redacted. */
  makeError(
    details: S3ErrorDetails,
    extra: { serverDate?: Date | undefined; localDate?: Date | undefined; elapsedMs?: number },
    cause?: unknown,
  ): S3Error {
    const target = details.key === undefined
      ? `s3://${this.bucket}`
      : this.#describeKey(details.key);
    const message = describeFailure(details, {
      target,
      bucket: this.bucket,
      endpoint: this.config.endpoint,
      accessKeyId: this.#credentials.accessKeyId,
      credentialSource: this.#credentials.source,
      serverDate: extra.serverDate,
      localDate: extra.localDate,
      requestTimeoutMs: this.config.requestTimeoutMs,
      elapsedMs: extra.elapsedMs ?? 0,
    });
    const options = cause === undefined ? undefined : { cause: this.#redactCause(cause) };
    return new S3Error(this.#credentials.redact(message), details, options);
  }

  /** A JSON view without secrets. */
  toJSON(): Record<string, unknown> {
    return { uri: this.uri, bucket: this.bucket, address: this.address, config: this.config };
  }

  [Symbol.for("Deno.customInspect")](
    inspect: (value: unknown, options?: unknown) => string,
    options: unknown,
  ): string {
    return `S3Client ${inspect(this.toJSON(), options)}`;
  }

  #readResponse(res: HttpAnswer, sent: number, errorIn200: boolean): S3Response {
    const body = res.body;
    const received = performance.now();
    const localDate = new Date();
    const dateHeader = res.headers.get("date");
    const serverDate = dateHeader ? new Date(dateHeader) : undefined;
    if (serverDate && !Number.isNaN(serverDate.getTime())) {
      // The server stamped its Date somewhere between sending and receiving.
      const midpoint = localDate.getTime() - (received - sent) / 2;
      this.clockSkewMs = Math.round(midpoint - serverDate.getTime());
    }
    let code: string | undefined;
    let serverMessage: string | undefined;
    let requestId = res.headers.get("x-amz-request-id") ?? undefined;
    const mayBeError = res.status >= 300 || (errorIn200 && isErrorDocument(body));
    if (mayBeError && body.length > 0) {
      const parsed = parseErrorDocument(body);
      if (parsed) {
        code = parsed.code;
        serverMessage = parsed.message && this.#credentials.redact(parsed.message);
        requestId = parsed.requestId ?? requestId;
      }
    }
    return {
      status: res.status,
      headers: res.headers,
      body,
      outcome: classifyResponse(res.status, code),
      code,
      serverMessage,
      requestId,
      serverDate,
      localDate,
      latencyMs: received - sent,
    };
  }

  #redactCause(cause: unknown): unknown {
    if (!(cause instanceof Error)) return cause;
    const redacted = this.#credentials.redact(cause.message);
    if (redacted === cause.message) return cause;
    const copy = new Error(redacted);
    copy.name = cause.name;
    return copy;
  }
}

/** A short name for a status that came without an S3 error code. */
function statusCode(status: number): string {
  const names: Record<number, string> = {
    301: "MovedPermanently",
    307: "TemporaryRedirect",
    400: "BadRequest",
    403: "Forbidden",
    404: "NotFound",
    405: "MethodNotAllowed",
    409: "Conflict",
    412: "PreconditionFailed",
    416: "InvalidRange",
    429: "TooManyRequests",
    500: "InternalError",
    501: "NotImplemented",
    502: "BadGateway",
    503: "ServiceUnavailable",
    504: "GatewayTimeout",
  };
  return names[status] ?? `Http${status}`;
}

/** True if a 2xx body is an S3 `<Error>` document in disguise. */
function isErrorDocument(body: Uint8Array): boolean {
  if (body.length === 0 || body.length > 64 * 1024) return false;
  const head = new TextDecoder().decode(body.subarray(0, 256));
  return /^\s*(<\?xml[^>]*\?>)?\s*<Error>/.test(head);
}

/** Reads code, message and request id from an S3 error document, if it is one. */
export function parseErrorDocument(
  body: Uint8Array,
):
  | { code: string | undefined; message: string | undefined; requestId: string | undefined }
  | undefined {
  try {
    const root = parseXml(new TextDecoder().decode(body));
    if (root.name !== "Error") return undefined;
    return {
      code: childText(root, "Code")?.trim() || undefined,
      message: childText(root, "Message")?.trim() || undefined,
      requestId: childText(root, "RequestId")?.trim() || undefined,
    };
  } catch {
    // Not XML (a proxy's HTML page, say): the status alone must do.
    return undefined;
  }
}

/**
 * The S3 object store: the `ObjectStore` seam over S3's REST API, for a table
 * rooted at `s3://bucket/prefix`.
 *
 * Invariants:
 * - Every key passes `checkKey`; store key `k` is object key `prefix/k`.
 * - `get` and `head` resolve `undefined` only for a 404 about the key; a
 *   missing bucket is an error, never an empty table.
 * - `putIfAbsent` never reports "exists" for a write of its own that landed,
 *   and never "created" for a write that did not: an ambiguous attempt is
 *   settled by reading the key back (see `putIfAbsent`).
 * - `putIfAbsent` refuses to run against a server that does not enforce
 *   `If-None-Match: *`, probed once per store instance.
 * - `list` yields keys in byte order, recursively, skipping directory
 *   markers (`dir/`) and keys that no store operation could address.
 */

import { sleep } from "../../util/backoff.ts";
import { checkKey, compareKeys, isSafeKey } from "../keys.ts";
import type {
  ByteRange,
  DeleteOutcome,
  ObjectMeta,
  ObjectStore,
  PutIfAbsentOutcome,
} from "../object_store.ts";
import { S3Client, type S3Request } from "./client.ts";
import { resolveS3ConfigFromEnvironment, type S3Config, type S3Options } from "./config.ts";
import { CLIENT_CODES, ConditionalWriteNotEnforcedError, S3Error } from "./errors.ts";
import { formatS3Uri, parseS3Uri, type S3Location } from "./location.ts";
import { listMultipartUploads, type MultipartUploadInfo, putMultipart } from "./multipart.ts";
import { deleteObjects } from "./delete.ts";
import { children, childText, parseXml } from "./xml.ts";

/** The result of probing whether the server enforces `If-None-Match: *`. */
export interface ConditionalWriteVerdict {
  /** True if a second conditional PUT of the probe key was refused. */
  enforced: boolean;
  /** The status of that second PUT: 412 (or 409) if enforced, 200 if not. */
  secondStatus: number;
  /** Time for the whole probe (two PUTs and a DELETE), in ms. */
  latencyMs: number;
}

/** The name prefix of the keys that the conditional-write probe uses. */
export const PROBE_KEY_PREFIX = ".neuralake-probe-";

const inspectSymbol = Symbol.for("Deno.customInspect");

/** Keys per ListObjectsV2 page: the most S3 returns. */
const LIST_PAGE_SIZE = 1000;

/** A store over one S3 bucket and prefix. */
export class S3Store implements ObjectStore {
  /** `s3://bucket/prefix`. */
  readonly uri: string;
  readonly bucket: string;
  /** The root's key prefix, without slashes at either end; `""` for the bucket root. */
  readonly prefix: string;
  readonly config: S3Config;
  /** The low-level client; for health checks and tests. */
  readonly client: S3Client;
  #verdict: Promise<ConditionalWriteVerdict> | undefined;

  /**
   * Opens a store on `location` (`s3://bucket/prefix` or a parsed location)
   * with a resolved configuration.
   *
   * @example
   * ```ts
   * const store = new S3Store("s3://lab/recordings", await resolveS3ConfigFromEnvironment());
   * await store.put("hello.txt", new TextEncoder().encode("hi"));
   * ```
   */
  constructor(location: string | S3Location, config: S3Config) {
    const parsed = typeof location === "string" ? parseS3Uri(location) : location;
    this.bucket = parsed.bucket;
    this.prefix = parsed.prefix;
    this.uri = formatS3Uri(parsed);
    this.config = config;
    this.client = new S3Client(config, this.bucket, {
      uri: this.uri,
      describeKey: (key) => `${this.uri}/${key}`,
    });
  }

  /** Opens a store with configuration from the process environment and `options`. */
  static async fromEnvironment(uri: string, options: S3Options = {}): Promise<S3Store> {
    return new S3Store(uri, await resolveS3ConfigFromEnvironment(options));
  }

  /** The full object key in the bucket for a store key. */
  objectKey(key: string): string {
    return this.prefix ? `${this.prefix}/${key}` : key;
  }

  async get(key: string, range?: ByteRange): Promise<Uint8Array | undefined> {
    checkKey(key);
    const headers: Record<string, string> = {};
    if (range) {
      checkRange(range);
      if (range.length === 0) return (await this.head(key)) ? new Uint8Array(0) : undefined;
      if (range.offset > 0 || range.length !== undefined) {
        const last = range.length === undefined ? "" : String(range.offset + range.length - 1);
        headers["range"] = `bytes=${range.offset}-${last}`;
      }
    }
    const res = await this.client.send(
      this.#request("GetObject", "GET", key, { headers }),
    );
    switch (res.outcome.kind) {
      case "ok":
        // A server that ignores Range answers 200 with the whole object.
        if (headers["range"] && res.status === 200 && range) {
          const end = range.length === undefined ? undefined : range.offset + range.length;
          return res.body.slice(range.offset, end);
        }
        return res.body;
      case "not-found":
        return undefined;
      case "range-not-satisfiable":
        return new Uint8Array(0);
      default:
        throw this.#unexpected("GetObject", key, res.status);
    }
  }

  async head(key: string): Promise<ObjectMeta | undefined> {
    checkKey(key);
    const res = await this.client.send(this.#request("HeadObject", "HEAD", key));
    if (res.outcome.kind === "not-found") return undefined;
    if (res.outcome.kind !== "ok") throw this.#unexpected("HeadObject", key, res.status);
    return {
      key,
      size: Number(res.headers.get("content-length") ?? 0),
      lastModified: Date.parse(res.headers.get("last-modified") ?? "") || 0,
    };
  }

  async put(key: string, bytes: Uint8Array): Promise<void> {
    checkKey(key);
    if (bytes.length >= this.config.multipartThreshold) {
      await putMultipart(this.client, this.objectKey(key), key, bytes);
      return;
    }
    const res = await this.client.send(this.#request("PutObject", "PUT", key, { body: bytes }));
    if (res.outcome.kind !== "ok") throw this.#unexpected("PutObject", key, res.status);
  }

  /**
   * Writes `bytes` under `key` only if no object is there, with
   * `If-None-Match: *`: "created" if this call wrote it, "exists" if another
   * object was there.
   *
   * An attempt that fails after it may have reached the server (a timeout, a
   * reset connection, a 5xx), or a 412 after such an attempt, is ambiguous:
   * the earlier attempt may have landed. It is settled by reading the key
   * back: our exact bytes mean "created", other bytes mean "exists", and no
   * object means the PUT is retried. **Callers must make `bytes` unique per
   * call** (Delta commits carry a unique `txnId` in commitInfo), since byte
   * equality is the test for "our write landed".
   *
   * The first call on a store probes that the server enforces conditional
   * writes, and throws `ConditionalWriteNotEnforcedError` if it does not.
   * The body is always sent in one PUT (commits are small).
   */
  async putIfAbsent(key: string, bytes: Uint8Array): Promise<PutIfAbsentOutcome> {
    checkKey(key);
    if (this.config.verifyConditionalWrites) {
      const verdict = await this.verifyConditionalWrites();
      if (!verdict.enforced) {
        throw new ConditionalWriteNotEnforcedError(this.uri, this.config.endpoint);
      }
    }
    const request = this.#request("PutObject", "PUT", key, {
      headers: { "if-none-match": "*" },
      body: bytes,
    });
    const payloadHash = this.client.payloadHash(bytes);
    const started = performance.now();
    let ambiguous = false;
    for (let attempt = 0;; attempt++) {
      const result = await this.client.attempt(request, payloadHash);
      const outcome = result.outcome;
      let settle = false;
      switch (outcome.kind) {
        case "ok":
          return "created";
        case "precondition-failed":
          if (!ambiguous) return "exists";
          settle = true;
          break;
        case "conflict":
          break;
        case "retryable":
          if (outcome.mayHaveApplied) ambiguous = settle = true;
          break;
        default:
          throw this.client.errorFor(request, result, attempt + 1, performance.now() - started);
      }
      if (settle) {
        const found = await this.#readBack(key, bytes);
        if (found !== "absent") return found;
      }
      const elapsed = performance.now() - started;
      const delay = this.client.retryDelay(
        attempt,
        outcome.kind === "retryable" && outcome.throttled,
      );
      if (!this.client.mayRetry(attempt, elapsed + delay)) {
        const error = this.client.errorFor(request, result, attempt + 1, elapsed);
        // An attempt that timed out may still land after we give up.
        throw ambiguous ? this.#ambiguousError(key, "the retries ran out", error) : error;
      }
      await sleep(delay);
    }
  }

  async *list(prefix: string, startAfter?: string): AsyncIterable<ObjectMeta> {
    checkKey(prefix, true);
    const root = this.prefix ? `${this.prefix}/` : "";
    const query: Record<string, string> = {
      "list-type": "2",
      prefix: root + prefix,
      "encoding-type": "url",
      // S3's largest page, asked for explicitly: some S3-compatible servers
      // default to fewer keys, and every page is a round trip.
      "max-keys": String(LIST_PAGE_SIZE),
    };
    if (startAfter !== undefined) query["start-after"] = root + startAfter;
    let token: string | undefined;
    do {
      const res = await this.client.send({
        operation: "ListObjectsV2",
        method: "GET",
        storeKey: prefix,
        query: token === undefined ? query : { ...query, "continuation-token": token },
      });
      if (res.outcome.kind !== "ok") throw this.#unexpected("ListObjectsV2", prefix, res.status);
      const page = this.#parseListing(res.body, prefix);
      for (const item of page.items) {
        if (!item.objectKey.startsWith(root)) continue;
        const key = item.objectKey.slice(root.length);
        if (key.endsWith("/") || !isSafeKey(key)) continue;
        if (startAfter !== undefined && compareKeys(key, startAfter) <= 0) continue;
        yield { key, size: item.size, lastModified: item.lastModified };
      }
      token = page.nextToken;
    } while (token !== undefined);
  }

  delete(keys: string[]): Promise<DeleteOutcome> {
    for (const key of keys) checkKey(key);
    return deleteObjects(this.client, keys, (key) => this.objectKey(key));
  }

  /**
   * Probes once per store whether the server enforces `If-None-Match: *`:
   * PUTs a fresh key under the root twice with it, expects the second to be
   * refused, then deletes the key. A failed probe is not cached.
   */
  verifyConditionalWrites(): Promise<ConditionalWriteVerdict> {
    this.#verdict ??= this.#probe().catch((error) => {
      this.#verdict = undefined;
      throw error;
    });
    return this.#verdict;
  }

  /** Lists multipart uploads still open under this store's root. */
  listMultipartUploads(): Promise<MultipartUploadInfo[]> {
    return listMultipartUploads(this.client, this.prefix ? `${this.prefix}/` : "");
  }

  /** A JSON view without secrets. */
  toJSON(): Record<string, unknown> {
    return { uri: this.uri, bucket: this.bucket, prefix: this.prefix, config: this.config };
  }

  [inspectSymbol](inspect: (value: unknown, options?: unknown) => string, options: unknown) {
    return `S3Store ${inspect(this.toJSON(), options)}`;
  }

  async #probe(): Promise<ConditionalWriteVerdict> {
    const key = `${PROBE_KEY_PREFIX}${crypto.randomUUID()}`;
    const started = performance.now();
    const put = (n: number) =>
      this.client.send(this.#request("PutObject", "PUT", key, {
        headers: { "if-none-match": "*" },
        body: new TextEncoder().encode(`neuralake conditional-write probe ${n} ${key}\n`),
      }));
    try {
      const first = await put(1);
      if (first.outcome.kind !== "ok") throw this.#unexpected("PutObject", key, first.status);
      const second = await put(2);
      const enforced = second.outcome.kind === "precondition-failed" ||
        second.outcome.kind === "conflict";
      if (!enforced && second.outcome.kind !== "ok") {
        throw this.#unexpected("PutObject", key, second.status);
      }
      return { enforced, secondStatus: second.status, latencyMs: performance.now() - started };
    } finally {
      await this.client.send(this.#request("DeleteObject", "DELETE", key)).catch(() => {
        // The probe key is harmless; a failed clean-up must not hide the verdict.
      });
    }
  }

  /** Settles an ambiguous conditional write by comparing what is stored with `bytes`. */
  async #readBack(key: string, bytes: Uint8Array): Promise<"created" | "exists" | "absent"> {
    let stored: Uint8Array | undefined;
    try {
      stored = await this.get(key);
    } catch (error) {
      throw this.#ambiguousError(key, "reading the key back failed", error);
    }
    if (stored === undefined) return "absent";
    return equalBytes(stored, bytes) ? "created" : "exists";
  }

  #ambiguousError(key: string, why: string, cause: unknown): S3Error {
    return new S3Error(
      `Cannot tell whether the conditional write of ${this.uri}/${key} landed: an attempt ` +
        `failed after it may have reached the server, and ${why}; read the key later and ` +
        `compare its content with the commit before retrying`,
      { status: 0, code: CLIENT_CODES.ambiguous, operation: "PutObject", key },
      { cause },
    );
  }

  #parseListing(body: Uint8Array, prefix: string) {
    try {
      const root = parseXml(new TextDecoder().decode(body));
      if (root.name !== "ListBucketResult") throw new SyntaxError(`unexpected <${root.name}>`);
      const items = children(root, "Contents").map((c) => ({
        objectKey: decodeListedKey(childText(c, "Key") ?? ""),
        size: Number(childText(c, "Size") ?? 0),
        lastModified: Date.parse(childText(c, "LastModified") ?? "") || 0,
      }));
      const truncated = childText(root, "IsTruncated") === "true";
      const nextToken = truncated ? childText(root, "NextContinuationToken") : undefined;
      if (truncated && !nextToken) throw new SyntaxError("truncated without a continuation token");
      return { items, nextToken };
    } catch (error) {
      throw this.client.makeError(
        {
          status: 200,
          code: CLIENT_CODES.badResponse,
          operation: "ListObjectsV2",
          key: prefix,
          serverMessage: `cannot read the listing: ${
            error instanceof Error ? error.message : error
          }`,
        },
        {},
        error,
      );
    }
  }

  #request(
    operation: string,
    method: S3Request["method"],
    key: string,
    extra: Partial<Pick<S3Request, "headers" | "body" | "query">> = {},
  ): S3Request {
    return { operation, method, objectKey: this.objectKey(key), storeKey: key, ...extra };
  }

  #unexpected(operation: string, key: string, status: number): S3Error {
    return this.client.makeError({
      status,
      code: CLIENT_CODES.badResponse,
      operation,
      key,
      serverMessage: `unexpected status ${status}`,
    }, {});
  }
}

/** Decodes a key from a listing made with `encoding-type=url` (S3 writes spaces as `+`). */
export function decodeListedKey(encoded: string): string {
  // Most keys need no decoding; skipping it makes a listing page 2x cheaper.
  if (!encoded.includes("%") && !encoded.includes("+")) return encoded;
  return decodeURIComponent(encoded.replace(/\+/g, " "));
}

function checkRange(range: ByteRange): void {
  if (!Number.isSafeInteger(range.offset) || range.offset < 0) {
    throw new RangeError(`Invalid byte range: offset ${range.offset} is not an integer >= 0`);
  }
  if (
    range.length !== undefined && (!Number.isSafeInteger(range.length) || range.length < 0)
  ) {
    throw new RangeError(`Invalid byte range: length ${range.length} is not an integer >= 0`);
  }
}

function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

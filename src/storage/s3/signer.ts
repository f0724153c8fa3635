/**
 * AWS Signature Version 4 for our requests, through `@smithy/signature-v4`,
 * plus the URI encoding that makes the signed request and the sent request
 * byte-identical.
 *
 * Invariants:
 * - A request's path and query are encoded once, here, with `escapeUri`
 *   (RFC 3986: everything but `A-Z a-z 0-9 - _ . ~` is percent-encoded as
 *   UTF-8). The URL that `fetch` sends is built from the same strings, so
 *   what the server canonicalises is exactly what was signed, for any key
 *   character (space, `=`, `%`, `+`, unicode) and any query value.
 * - For S3 the path is signed as sent (`uriEscapePath: false`); for other
 *   services smithy normalises and double-encodes it, as SigV4 specifies.
 * - The signer holds no secret in a field that output could reach: it asks an
 *   `S3Credentials` for them at signing time.
 */

import { Sha256 } from "@aws-crypto/sha256-js";
import { SignatureV4 } from "@smithy/signature-v4";
import type { S3Credentials } from "./credentials.ts";
import { escapeUri } from "./location.ts";

export { encodePath, escapeUri } from "./location.ts";

/** The hash of an empty body, as SigV4 writes it. */
export const EMPTY_SHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

/** The payload hash that S3 accepts in place of a body hash. */
export const UNSIGNED_PAYLOAD = "UNSIGNED-PAYLOAD";

/** A request as the signer sees it. Header names are lower-case. */
export interface SignableRequest {
  method: string;
  /** `https:` or `http:`. */
  protocol: string;
  /** The `Host` header value: host name plus any non-default port. */
  host: string;
  /** The path, already encoded with `encodePath` (S3) or raw (other services). */
  path: string;
  /** Decoded query parameters; the signer encodes them. */
  query: Record<string, string>;
  headers: Record<string, string>;
  /** The body, hashed only if no `x-amz-content-sha256` header is given. */
  body?: Uint8Array | string | undefined;
}

/** What a signer needs besides the request. */
export interface SignerOptions {
  service: string;
  region: string;
  credentials: S3Credentials;
  /**
   * Normalise and double-encode the path, as every service but S3 expects.
   * @default true
   */
  uriEscapePath?: boolean;
  /**
   * Add an `x-amz-content-sha256` header with the body's hash when the
   * request has none (S3 wants it; the generic test suite does not).
   * @default false
   */
  applyChecksum?: boolean;
}

/**
 * Serialises query parameters in canonical SigV4 order (sorted by encoded
 * name, then value). The same string is the canonical query and the URL's
 * query, so they cannot disagree.
 */
export function canonicalQuery(query: Record<string, string>): string {
  return Object.entries(query)
    .map(([k, v]) => [escapeUri(k), escapeUri(v)] as const)
    .sort(([ak, av], [bk, bv]) => ak < bk ? -1 : ak > bk ? 1 : av < bv ? -1 : av > bv ? 1 : 0)
    .map(([k, v]) => `${k}=${v}`)
    .join("&");
}

/** Signs requests for one service and region. */
export class RequestSigner {
  readonly service: string;
  readonly region: string;
  readonly #signer: SignatureV4;

  constructor(options: SignerOptions) {
    this.service = options.service;
    this.region = options.region;
    const credentials = options.credentials;
    this.#signer = new SignatureV4({
      service: options.service,
      region: options.region,
      credentials: () => Promise.resolve(toSmithy(credentials)),
      sha256: Sha256,
      uriEscapePath: options.uriEscapePath ?? true,
      applyChecksum: options.applyChecksum ?? false,
    });
  }

  /**
   * Signs a request at `date` and returns its headers with `authorization`,
   * `x-amz-date` and (for temporary credentials) `x-amz-security-token` added.
   * The `host` header is included, as it was signed.
   */
  async sign(request: SignableRequest, date: Date = new Date()): Promise<Record<string, string>> {
    const [hostname, port] = splitHost(request.host);
    const signed = await this.#signer.sign({
      method: request.method,
      protocol: request.protocol,
      hostname,
      ...(port === undefined ? {} : { port }),
      path: request.path,
      query: request.query,
      headers: { ...request.headers, host: request.host },
      body: request.body,
    }, { signingDate: date });
    return signed.headers as Record<string, string>;
  }
}

function toSmithy(credentials: S3Credentials) {
  const values = credentials.reveal();
  return values.sessionToken === undefined
    ? { accessKeyId: values.accessKeyId, secretAccessKey: values.secretAccessKey }
    : values as { accessKeyId: string; secretAccessKey: string; sessionToken: string };
}

function splitHost(host: string): [string, number | undefined] {
  // `name`, `name:port`, `[v6]` or `[v6]:port`.
  const match = /^(\[[^\]]*\]|[^:]*)(?::(\d+))?$/.exec(host);
  if (!match) return [host, undefined];
  return [match[1]!, match[2] === undefined ? undefined : Number(match[2])];
}

/**
 * Where objects live: parsing `s3://bucket/prefix` table URIs, and addressing a
 * bucket path-style (`endpoint/bucket/key`) or virtual-hosted
 * (`bucket.endpoint/key`).
 *
 * Invariants:
 * - A table prefix is a safe key (see `checkKey`) without a trailing slash;
 *   the object key of store key `k` is `prefix/k` (or `k` at the bucket root).
 * - Virtual-hosted addressing is used only for DNS-compatible bucket names,
 *   and never for dotted names over https (their certificates would not
 *   match); such buckets fall back to path-style.
 */

import { checkKey } from "../keys.ts";
import { InvalidUriError } from "../../util/errors.ts";
import type { S3Config } from "./config.ts";

/** A bucket and the prefix of the table's root inside it. */
export interface S3Location {
  bucket: string;
  /** The root's key prefix, without leading or trailing slash; `""` for the bucket root. */
  prefix: string;
}

/**
 * Parses `s3://bucket/some/prefix` (or `s3a://`). The prefix is taken
 * literally (no percent-decoding) and must be a safe key.
 *
 * @example
 * ```ts
 * parseS3Uri("s3://lab/recordings/session-1/");
 * // { bucket: "lab", prefix: "recordings/session-1" }
 * ```
 */
export function parseS3Uri(uri: string): S3Location {
  const match = /^(s3a?):\/\/([^/]*)(?:\/(.*))?$/i.exec(uri);
  if (!match) {
    throw new InvalidUriError(`Invalid S3 URI ${JSON.stringify(uri)}: expected s3://bucket/prefix`);
  }
  const bucket = match[2]!;
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]{1,254}$/.test(bucket)) {
    throw new InvalidUriError(
      `Invalid S3 URI ${uri}: ${JSON.stringify(bucket)} is not a bucket name (letters, ` +
        `digits, dots and hyphens, at least 2 characters)`,
    );
  }
  const prefix = (match[3] ?? "").replace(/\/+$/, "");
  try {
    checkKey(prefix, true);
  } catch (error) {
    throw new InvalidUriError(`Invalid S3 URI ${uri}: its path is not a plain prefix`, {
      cause: error,
    });
  }
  return { bucket, prefix };
}

/** Formats a location as `s3://bucket/prefix`. */
export function formatS3Uri(location: S3Location): string {
  return location.prefix ? `s3://${location.bucket}/${location.prefix}` : `s3://${location.bucket}`;
}

/** How to reach one bucket: the host to connect to and the path before keys. */
export interface BucketAddress {
  protocol: "http:" | "https:";
  /** The `Host` header: host name plus any non-default port. */
  host: string;
  /** The encoded path of the bucket, without trailing slash: `/bucket` or `""`. */
  basePath: string;
  pathStyle: boolean;
}

/** Decides how to address `bucket` under `config`. */
export function bucketAddress(config: S3Config, bucket: string): BucketAddress {
  const endpoint = new URL(config.endpoint);
  const protocol = endpoint.protocol === "http:" ? "http:" : "https:";
  const endpointPath = endpoint.pathname.replace(/\/+$/, "");
  const dnsCompatible = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(bucket) &&
    !bucket.includes("..") && !/^\d+\.\d+\.\d+\.\d+$/.test(bucket);
  const virtual = !config.forcePathStyle && dnsCompatible &&
    !(protocol === "https:" && bucket.includes("."));
  if (virtual) {
    return {
      protocol,
      host: `${bucket}.${endpoint.host}`,
      basePath: endpointPath,
      pathStyle: false,
    };
  }
  return {
    protocol,
    host: endpoint.host,
    basePath: `${endpointPath}/${escapeUri(bucket)}`,
    pathStyle: true,
  };
}

/** The encoded request path of an object, or of the bucket if `objectKey` is undefined. */
export function requestPath(address: BucketAddress, objectKey?: string): string {
  if (objectKey === undefined) return address.basePath === "" ? "/" : address.basePath;
  return `${address.basePath}/${encodePath(objectKey)}`;
}

/** The full URL of a request, for `fetch` and for messages. */
export function requestUrl(address: BucketAddress, path: string, query: string): string {
  return `${address.protocol}//${address.host}${path}${query ? `?${query}` : ""}`;
}

/**
 * Percent-encodes a string as SigV4 requires: UTF-8, and every byte outside
 * `A-Z a-z 0-9 - _ . ~` as `%XX` with upper-case hex.
 *
 * @example
 * ```ts
 * escapeUri("a b=c+%ሴ"); // "a%20b%3Dc%2B%25%E1%88%B4"
 * ```
 */
export function escapeUri(text: string): string {
  return encodeURIComponent(text).replace(
    /[!'()*]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  );
}

/** Encodes each `/`-separated segment of a path with `escapeUri`, keeping the slashes. */
export function encodePath(path: string): string {
  return path.split("/").map(escapeUri).join("/");
}

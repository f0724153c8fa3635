/**
 * Opens the store for a table URI: a plain path or `file://` URI is a
 * `LocalStore`, `s3://bucket/prefix` (or `s3a://`) is an `S3Store`.
 *
 * Invariants:
 * - Any other scheme is refused with an error that lists the supported ones;
 *   nothing guesses. A Windows drive path (`C:\data`) is not a scheme.
 * - S3 configuration comes from `options.env` (default: the process
 *   environment) and the shared AWS files, overridden by `options.s3`.
 * - The S3 client, its npm modules and the shared AWS files are loaded only
 *   when an S3 store is opened (a dynamic import): a process that works on
 *   local tables (every role of a local stream job) neither loads nor reads
 *   them.
 */

import { localPathFromUri, LocalStore, type LocalStoreOptions } from "./local.ts";
import type { ObjectStore } from "./object_store.ts";
import type { AwsSharedFiles, S3Options } from "./s3/config.ts";
import { formatS3Uri, parseS3Uri } from "./s3/location.ts";
import { InvalidUriError } from "../util/errors.ts";

/** Options for `openStore`. */
export interface OpenStoreOptions {
  /** Overrides for S3 stores (endpoint, region, credentials, ...). */
  s3?: S3Options;
  /** Options for local stores. */
  local?: LocalStoreOptions;
  /** The environment to resolve S3 settings from. @default Deno.env.toObject() */
  env?: Record<string, string | undefined>;
  /**
   * The parsed shared AWS files (`loadAwsSharedFiles`). @default the files
   * that the process's environment names (AWS_SHARED_CREDENTIALS_FILE and
   * AWS_CONFIG_FILE, or ~/.aws/credentials and ~/.aws/config), loaded when
   * the process opens its first S3 store
   */
  awsFiles?: AwsSharedFiles;
}

/** What a table URI names, without opening anything. */
export type StoreUriDescription =
  | { kind: "local"; path: string; uri: string }
  | { kind: "s3"; bucket: string; prefix: string; uri: string };

const SCHEME = /^([A-Za-z][A-Za-z0-9+.-]*):/;

/**
 * Describes a table URI: a local directory (absolute path) or an S3 bucket and
 * prefix. Throws an `InvalidUriError` (a `TypeError`) for unsupported schemes.
 *
 * @example
 * ```ts
 * describeStoreUri("s3a://lab/t1"); // { kind: "s3", bucket: "lab", prefix: "t1", uri: "s3://lab/t1" }
 * describeStoreUri("/data/t1"); // { kind: "local", path: "/data/t1", uri: "file:///data/t1" }
 * ```
 */
export function describeStoreUri(uri: string): StoreUriDescription {
  if (uri.trim() === "") {
    throw new InvalidUriError("Missing table URI: give a path or s3://bucket/prefix");
  }
  const scheme = SCHEME.exec(uri)?.[1]?.toLowerCase();
  if (scheme === undefined || scheme === "file" || /^[A-Za-z]:[\\/]/.test(uri)) {
    const path = localPathFromUri(uri);
    return { kind: "local", path, uri: `file://${encodeURI(path)}` };
  }
  if (scheme === "s3" || scheme === "s3a") {
    const location = parseS3Uri(uri);
    return { kind: "s3", ...location, uri: formatS3Uri(location) };
  }
  throw new InvalidUriError(
    `Unsupported table URI scheme ${scheme}: in ${uri}: use a local path, file:///path, ` +
      `or s3://bucket/prefix`,
  );
}

/**
 * Opens the object store for a table URI.
 *
 * @example
 * ```ts
 * const local = await openStore("./neuralake-data/t1");
 * const remote = await openStore("s3://lab/recordings/t1", { s3: { region: "eu-west-1" } });
 * ```
 */
export async function openStore(
  uri: string,
  options: OpenStoreOptions = {},
): Promise<ObjectStore> {
  const described = describeStoreUri(uri);
  if (described.kind === "local") return new LocalStore(described.path, options.local);
  const [{ processAwsFiles, resolveS3Config }, { S3Store }] = await Promise.all([
    import("./s3/config.ts"),
    import("./s3/s3_store.ts"),
  ]);
  const env = options.env ?? Deno.env.toObject();
  const files = options.awsFiles ?? await processAwsFiles();
  const config = resolveS3Config(env, files, options.s3);
  return new S3Store({ bucket: described.bucket, prefix: described.prefix }, config);
}

/**
 * S3 configuration, resolved the way AWS tools resolve it: options first, then
 * environment variables, then the profile in `~/.aws/credentials` and
 * `~/.aws/config`, then defaults. The shared files are read and parsed by the
 * AWS SDK's own loader (`@smithy/core/config`, the family of our signer).
 *
 * Invariants:
 * - `resolveS3Config` is pure and synchronous: it reads only the environment
 *   record and the parsed files it is given. `loadAwsSharedFiles` is the one
 *   function that touches the disk; the files this process's environment
 *   names are loaded once, when the process opens its first S3 store, and
 *   are what `processAwsFiles()` returns. This module and the S3 client are
 *   loaded only then too (`openStore` imports them dynamically).
 * - As in the AWS SDK, a missing or unreadable file holds no profiles, and a
 *   line that is not `key = value` is skipped.
 * - A plain `http://` endpoint is refused unless `allowHttp` (or
 *   `AWS_ALLOW_HTTP=true`) says otherwise, because credentials and data would
 *   travel unencrypted.
 * - No secret appears in `toJSON`, `Deno.inspect` or `redactedS3Config`
 *   output, nor in any error thrown here.
 */

import type { BackoffOptions } from "../../util/backoff.ts";
import { loadSharedConfigFiles } from "@smithy/core/config";
import {
  type AwsSharedFiles,
  credentialsFromProfile,
  findProfile,
  REDACTED,
  S3Credentials,
  type S3CredentialValues,
} from "./credentials.ts";
import { redactUrlValue } from "../../util/redact.ts";

/** How request bodies are covered by the signature. */
export type PayloadSigning = "unsigned" | "sha256";

const MiB = 1024 * 1024;

export type { AwsSharedFiles } from "./credentials.ts";

/** Where the endpoint came from. */
export type EndpointSource =
  | "options"
  | "AWS_ENDPOINT_URL_S3"
  | "AWS_ENDPOINT_URL"
  | "profile"
  | "default";

/**
 * The settings of a resolved S3 configuration, each declared once here:
 * `S3Options`, `S3Config` and `RedactedS3Config` are derived from it.
 */
export interface S3Settings {
  /** The signing region. @default AWS_REGION, AWS_DEFAULT_REGION, the profile, us-east-1 */
  region: string;
  /** The S3 endpoint, such as `https://minio.lab:9000`. @default AWS for the region */
  endpoint: string;
  /** Where the endpoint came from (not an option). */
  endpointSource: EndpointSource;
  /**
   * Address buckets as `endpoint/bucket/key` rather than `bucket.endpoint/key`.
   * @default true for a custom endpoint, false for AWS
   */
  forcePathStyle: boolean;
  /** Allow a plain `http://` endpoint. @default AWS_ALLOW_HTTP, else false */
  allowHttp: boolean;
  /**
   * `sha256` signs a hash of every body; `unsigned` sends `UNSIGNED-PAYLOAD`
   * and leaves integrity to TLS.
   * @default "sha256" over http, "unsigned" over https
   */
  payloadSigning: PayloadSigning;
  /**
   * A `put` of at least this many bytes uses a multipart upload. Below it a
   * single PUT is cheaper: one request instead of three or more, and no
   * server-side assembly. AWS suggests multipart from about 100 MB, where
   * parallel parts start to beat one connection.
   * @default 100 MiB
   */
  multipartThreshold: number;
  /** The size of each part of a multipart upload (at least 5 MiB). @default 16 MiB */
  multipartPartSize: number;
  /** How many parts upload at once. @default 4 */
  multipartConcurrency: number;
  /** The time allowed for one request, body included. @default 30000 */
  requestTimeoutMs: number;
  /** Retries after the first attempt. @default AWS_MAX_ATTEMPTS - 1, else 8 */
  maxRetries: number;
  /** No retry starts after this much time has passed since the first attempt. @default 60000 */
  retryBudgetMs: number;
  /** The backoff between retries. @default { baseMs: 100, maxMs: 5000 } */
  backoff: BackoffOptions;
  /**
   * Probe on the first `putIfAbsent` that the server enforces `If-None-Match`.
   * @default true
   */
  verifyConditionalWrites: boolean;
  /** The profile to read from the shared files. @default AWS_PROFILE or "default" */
  profile: string | undefined;
  /** Credentials to use instead of the environment and the profile. */
  credentials: S3Credentials | undefined;
}

/**
 * Options that override the environment and the profile: any setting but
 * where the endpoint came from, with credentials as plain values too.
 */
export type S3Options =
  & Partial<Omit<S3Settings, "endpointSource" | "profile" | "credentials">>
  & { profile?: string; credentials?: S3CredentialValues | S3Credentials };

/** A frozen copy of the settings, as the base of `S3Config`. */
const FrozenSettings = class {
  constructor(settings: S3Settings) {
    Object.assign(this, settings);
  }
} as new (settings: S3Settings) => Readonly<S3Settings>;

const inspectSymbol = Symbol.for("Deno.customInspect");

/** A resolved S3 configuration. It never shows its secrets. */
export class S3Config extends FrozenSettings {
  constructor(settings: S3Settings) {
    super(settings);
    Object.freeze(this);
  }

  /** True if the endpoint is not AWS's default for the region. */
  get customEndpoint(): boolean {
    return this.endpointSource !== "default";
  }

  /** A JSON view without secrets (see `redactedS3Config`). */
  toJSON(): RedactedS3Config {
    return redactedS3Config(this);
  }

  [inspectSymbol](inspect: (value: unknown, options?: unknown) => string, options: unknown) {
    return `S3Config ${inspect(redactedS3Config(this), options)}`;
  }
}

/** What `config show` prints: every setting but the backoff, with secrets replaced. */
export type RedactedS3Config =
  & Omit<S3Settings, "forcePathStyle" | "backoff" | "profile" | "credentials">
  & {
    addressing: "path" | "virtual-hosted";
    profile: string | null;
    credentials: {
      accessKeyId: string;
      secretAccessKey: string;
      sessionToken: string | null;
      source: string;
    } | null;
  };

/**
 * Returns the configuration as plain JSON-able data with the secret access key
 * and the session token replaced by `<redacted>`.
 */
export function redactedS3Config(config: S3Config): RedactedS3Config {
  const { forcePathStyle, backoff: _backoff, profile, credentials, ...settings } = config;
  return {
    ...settings,
    addressing: forcePathStyle ? "path" : "virtual-hosted",
    profile: profile ?? null,
    credentials: credentials
      ? {
        accessKeyId: credentials.accessKeyId,
        secretAccessKey: REDACTED,
        sessionToken: credentials.hasSessionToken ? REDACTED : null,
        source: credentials.source,
      }
      : null,
  };
}

/**
 * Resolves the S3 configuration from an environment record, the parsed shared
 * AWS files, and overriding options. Pure: pass `Deno.env.toObject()` and
 * `await processAwsFiles()` (or `await loadAwsSharedFiles(env)`) for the real thing.
 *
 * Credentials: the options, else (when a profile is named by `profile` or
 * `AWS_PROFILE`) that profile, else `AWS_ACCESS_KEY_ID` and
 * `AWS_SECRET_ACCESS_KEY` (with `AWS_SESSION_TOKEN`), else the environment
 * when a named profile had none, else the default profile. Endpoint: the
 * option, `AWS_ENDPOINT_URL_S3`, `AWS_ENDPOINT_URL`, the profile's
 * `s3 = endpoint_url` or `endpoint_url`, else AWS for the region.
 *
 * @example
 * ```ts
 * const config = resolveS3Config({
 *   AWS_ACCESS_KEY_ID: "AKID",
 *   AWS_SECRET_ACCESS_KEY: "secret",
 *   AWS_ENDPOINT_URL: "http://127.0.0.1:9000",
 *   AWS_ALLOW_HTTP: "true",
 * });
 * config.forcePathStyle; // true
 * ```
 */
export function resolveS3Config(
  env: Record<string, string | undefined>,
  files: AwsSharedFiles = {},
  overrides: S3Options = {},
): S3Config {
  const get = (name: string): string | undefined => {
    const value = env[name]?.trim();
    return value ? value : undefined;
  };
  const shared = files;
  const profileFromEnv = get("AWS_PROFILE") ?? get("AWS_DEFAULT_PROFILE");
  const namedProfile = overrides.profile ?? profileFromEnv;
  const profileName = namedProfile ?? "default";
  const profile = findProfile(shared, profileName);
  if (namedProfile !== undefined && !profile.found) {
    const from = overrides.profile !== undefined ? "the profile option" : "AWS_PROFILE";
    throw new TypeError(
      `Cannot find the AWS profile ${profileName} (from ${from}) in ${
        files.credentialsPath ?? "the credentials file"
      } or ${files.configPath ?? "the config file"}: check the name, or unset AWS_PROFILE`,
    );
  }

  const region = overrides.region ?? get("AWS_REGION") ?? get("AWS_DEFAULT_REGION") ??
    profile.values["region"] ?? "us-east-1";
  if (!/^[a-z0-9][a-z0-9-]*$/.test(region)) {
    throw new TypeError(`Invalid AWS region ${JSON.stringify(region)}: expected e.g. eu-west-1`);
  }

  const ignoreConfigured = parseBool(get("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS"), false);
  let endpoint: string | undefined = overrides.endpoint;
  let endpointSource: EndpointSource = "options";
  const candidates: [string | undefined, EndpointSource][] = ignoreConfigured ? [] : [
    [get("AWS_ENDPOINT_URL_S3"), "AWS_ENDPOINT_URL_S3"],
    [get("AWS_ENDPOINT_URL"), "AWS_ENDPOINT_URL"],
    [profile.values["s3.endpoint_url"] ?? profile.values["endpoint_url"], "profile"],
  ];
  for (const [value, source] of candidates) {
    if (endpoint !== undefined) break;
    if (value !== undefined) {
      endpoint = value;
      endpointSource = source;
    }
  }
  if (endpoint === undefined) {
    const suffix = region.startsWith("cn-") ? "amazonaws.com.cn" : "amazonaws.com";
    endpoint = `https://s3.${region}.${suffix}`;
    endpointSource = "default";
  }
  const endpointUrl = checkEndpoint(endpoint, endpointSource);

  const allowHttp = overrides.allowHttp ?? parseBool(get("AWS_ALLOW_HTTP"), false);
  if (endpointUrl.protocol === "http:" && !allowHttp) {
    throw new TypeError(
      `Refusing the plain-HTTP S3 endpoint ${endpointUrl.origin} (from ${endpointSource}): ` +
        `credentials and data would travel unencrypted; use https, or set AWS_ALLOW_HTTP=true ` +
        `(the allowHttp option) for a trusted local server`,
    );
  }

  const addressingStyle = profile.values["s3.addressing_style"];
  const forcePathStyle = overrides.forcePathStyle ??
    (addressingStyle === "path"
      ? true
      : addressingStyle === "virtual"
      ? false
      : endpointSource !== "default");

  const maxAttempts = get("AWS_MAX_ATTEMPTS");
  const maxRetries = overrides.maxRetries ??
    (maxAttempts === undefined ? 8 : positiveInt(Number(maxAttempts), "AWS_MAX_ATTEMPTS") - 1);

  return new S3Config({
    region,
    endpoint: endpointUrl.href.replace(/\/$/, ""),
    endpointSource,
    forcePathStyle,
    allowHttp,
    payloadSigning: overrides.payloadSigning ??
      (endpointUrl.protocol === "http:" ? "sha256" : "unsigned"),
    multipartThreshold: positiveInt(
      overrides.multipartThreshold ?? 100 * MiB,
      "multipartThreshold",
    ),
    multipartPartSize: partSize(overrides.multipartPartSize ?? 16 * MiB),
    multipartConcurrency: positiveInt(overrides.multipartConcurrency ?? 4, "multipartConcurrency"),
    requestTimeoutMs: positiveInt(overrides.requestTimeoutMs ?? 30_000, "requestTimeoutMs"),
    maxRetries: nonNegativeInt(maxRetries, "maxRetries"),
    retryBudgetMs: positiveInt(overrides.retryBudgetMs ?? 60_000, "retryBudgetMs"),
    backoff: { baseMs: 100, maxMs: 5000, ...overrides.backoff },
    verifyConditionalWrites: overrides.verifyConditionalWrites ?? true,
    profile: namedProfile ?? (profile.found ? "default" : undefined),
    credentials: pickCredentials(env, overrides, shared, profile, profileName, namedProfile),
  });
}

function pickCredentials(
  env: Record<string, string | undefined>,
  overrides: S3Options,
  shared: Parameters<typeof credentialsFromProfile>[2],
  profile: ReturnType<typeof findProfile>,
  profileName: string,
  namedProfile: string | undefined,
): S3Credentials | undefined {
  if (overrides.credentials !== undefined) {
    return overrides.credentials instanceof S3Credentials
      ? overrides.credentials
      : new S3Credentials(overrides.credentials, "options");
  }
  const fromEnv = credentialsFromEnv(env);
  const fromProfile = profile.found
    ? credentialsFromProfile(profile, profileName, shared)
    : undefined;
  // A named profile beats the environment, as in the AWS SDK for JavaScript.
  return namedProfile !== undefined ? fromProfile ?? fromEnv : fromEnv ?? fromProfile;
}

function credentialsFromEnv(env: Record<string, string | undefined>): S3Credentials | undefined {
  const id = env["AWS_ACCESS_KEY_ID"]?.trim();
  const secret = env["AWS_SECRET_ACCESS_KEY"]?.trim();
  if (!id && !secret) return undefined;
  if (!id || !secret) {
    throw new TypeError(
      `Incomplete S3 credentials in the environment: set both AWS_ACCESS_KEY_ID and ` +
        `AWS_SECRET_ACCESS_KEY, or neither`,
    );
  }
  return new S3Credentials(
    { accessKeyId: id, secretAccessKey: secret, sessionToken: env["AWS_SESSION_TOKEN"]?.trim() },
    "environment",
  );
}

/**
 * Reads and parses `~/.aws/credentials` and `~/.aws/config` (or the files
 * named by `AWS_SHARED_CREDENTIALS_FILE` and `AWS_CONFIG_FILE` in `env`)
 * with the AWS SDK's loader. A missing file holds no profiles.
 */
export async function loadAwsSharedFiles(
  env: Record<string, string | undefined>,
): Promise<AwsSharedFiles> {
  const home = env["HOME"] ?? env["USERPROFILE"] ?? "";
  const expand = (path: string) => path.startsWith("~/") ? home + path.slice(1) : path;
  const credentialsPath = expand(
    env["AWS_SHARED_CREDENTIALS_FILE"] || `${home}/.aws/credentials`,
  );
  const configPath = expand(env["AWS_CONFIG_FILE"] || `${home}/.aws/config`);
  const loaded = await loadSharedConfigFiles({
    filepath: credentialsPath,
    configFilepath: configPath,
    ignoreCache: true,
  });
  return {
    credentials: loaded.credentialsFile,
    config: loaded.configFile,
    credentialsPath,
    configPath,
  };
}

let processFiles: Promise<AwsSharedFiles> | undefined;

/**
 * The shared files that this process's environment names, loaded on the first
 * call (the first S3 store the process opens) and kept: a process that only
 * opens local tables never reads them.
 */
export function processAwsFiles(): Promise<AwsSharedFiles> {
  return processFiles ??= loadAwsSharedFiles(Deno.env.toObject());
}

/** Resolves the configuration from the process environment and the shared files. */
export async function resolveS3ConfigFromEnvironment(
  overrides: S3Options = {},
  env: Record<string, string | undefined> = Deno.env.toObject(),
  files?: AwsSharedFiles,
): Promise<S3Config> {
  return resolveS3Config(env, files ?? await processAwsFiles(), overrides);
}

function checkEndpoint(endpoint: string, source: EndpointSource): URL {
  let url: URL;
  try {
    url = new URL(endpoint);
  } catch {
    // The URL parser's own message quotes the whole input, password included.
    const shown = JSON.stringify(redactUrlValue(endpoint));
    const cause = new TypeError(`Invalid URL: ${shown}`);
    throw new TypeError(
      `Invalid S3 endpoint ${shown} (from ${source}): expected a URL such ` +
        `as https://s3.example.com or http://127.0.0.1:9000`,
      { cause },
    );
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new TypeError(
      `Invalid S3 endpoint ${url.origin} (from ${source}): only http and https are supported`,
    );
  }
  if (url.username || url.password) {
    throw new TypeError(
      `Invalid S3 endpoint (from ${source}): it must not carry a user name or password; ` +
        `pass credentials through AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY`,
    );
  }
  if (url.search || url.hash) {
    throw new TypeError(
      `Invalid S3 endpoint ${url.origin} (from ${source}): it must not have a query or fragment`,
    );
  }
  return url;
}

function parseBool(value: string | undefined, fallback: boolean): boolean {
  if (value === undefined) return fallback;
  return ["true", "1", "yes", "on"].includes(value.toLowerCase());
}

function positiveInt(value: number, name: string): number {
  if (!Number.isSafeInteger(value) || value < 1) {
    throw new RangeError(`Invalid S3 option ${name}: expected a positive integer, got ${value}`);
  }
  return value;
}

function nonNegativeInt(value: number, name: string): number {
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new RangeError(`Invalid S3 option ${name}: expected an integer >= 0, got ${value}`);
  }
  return value;
}

function partSize(value: number): number {
  if (!Number.isSafeInteger(value) || value < 5 * MiB || value > 5 * 1024 * MiB) {
    throw new RangeError(
      `Invalid S3 option multipartPartSize: S3 parts are 5 MiB to 5 GiB, got ${value} bytes`,
    );
  }
  return value;
}

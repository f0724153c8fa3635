/**
 * Can a table live here? Probes of the storage under a table root, for
 * `neuralake health`: for a local directory, that it is (or can become) a
 * directory we can write to and that put-if-absent refuses a second write;
 * for S3, that the credentials are accepted, the bucket answers, the clock
 * is close to the server's, and conditional writes are enforced. Whether a
 * Delta table is there is `ops/health.ts`'s question, not storage's.
 *
 * Invariants:
 * - Reports are plain JSON-able data and hold no secret (errors are
 *   `S3Error` messages, which are redacted).
 * - A failed check is reported, never thrown. Each S3 check is decided by
 *   `S3Error.code`, never by message text.
 * - The probes write nothing but one probe key under the root, which they
 *   delete (and, for a local path, the directories they had to make); the
 *   S3 conditional-write probe runs only once the listing succeeded.
 */

import { messageOf } from "../util/errors.ts";
import { LocalStore } from "./local.ts";
import { S3Error } from "./s3/errors.ts";
import { PROBE_KEY_PREFIX, type S3Store } from "./s3/s3_store.ts";

/** The result of one check. */
export interface HealthCheck {
  ok: boolean;
  /** Time taken, in ms (0 if skipped). */
  latencyMs: number;
  /** Why it failed, if it did. */
  error?: string;
  /** The S3 error code, if a request failed. */
  code?: string;
}

/** What `checkS3Health` found. */
export interface S3HealthReport {
  /** True if every check passed and the clock is within 5 minutes. */
  ok: boolean;
  uri: string;
  endpoint: string;
  region: string;
  addressing: "path" | "virtual-hosted";
  accessKeyId: string | null;
  credentialSource: string | null;
  /** The credentials were accepted (a signed request was not refused as unknown or mis-signed). */
  credentials: HealthCheck;
  /** The bucket answered a listing under the table prefix. */
  bucket: HealthCheck;
  /** Local clock minus server clock in ms (from the `Date` header), or null if unknown. */
  clockSkewMs: number | null;
  /** The server refused a second conditional PUT of a probe key. */
  conditionalPut: HealthCheck & { enforced: boolean | null };
}

/** S3 refuses requests signed more than 15 minutes off; warn well before. */
export const MAX_HEALTHY_SKEW_MS = 5 * 60_000;

const CREDENTIAL_CODES = new Set([
  "InvalidAccessKeyId",
  "SignatureDoesNotMatch",
  "ExpiredToken",
  "InvalidToken",
  "TokenRefreshRequired",
  "RequestTimeTooSkewed",
]);

/**
 * Checks an S3 store and returns a report; it does not throw for failed
 * checks, only reports them.
 *
 * @example
 * ```ts
 * const report = await checkS3Health(await S3Store.fromEnvironment("s3://lab/t1"));
 * console.log(JSON.stringify(report, null, 2));
 * ```
 */
export async function checkS3Health(store: S3Store): Promise<S3HealthReport> {
  const credentials = store.config.credentials;
  const report: S3HealthReport = {
    ok: false,
    uri: store.uri,
    endpoint: store.config.endpoint,
    region: store.config.region,
    addressing: store.client.address.pathStyle ? "path" : "virtual-hosted",
    accessKeyId: credentials?.accessKeyId ?? null,
    credentialSource: credentials?.source ?? null,
    credentials: { ok: false, latencyMs: 0 },
    bucket: { ok: false, latencyMs: 0 },
    clockSkewMs: null,
    conditionalPut: { ok: false, enforced: null, latencyMs: 0 },
  };

  const started = performance.now();
  try {
    await store.client.send({
      operation: "ListObjectsV2",
      method: "GET",
      query: { "list-type": "2", "max-keys": "1", prefix: store.prefix ? `${store.prefix}/` : "" },
    });
    const latencyMs = performance.now() - started;
    report.credentials = { ok: true, latencyMs };
    report.bucket = { ok: true, latencyMs };
  } catch (error) {
    const failed = failure(error, performance.now() - started);
    if (error instanceof S3Error && CREDENTIAL_CODES.has(error.code)) {
      report.credentials = failed;
      report.bucket = { ok: false, latencyMs: 0, error: "not checked: the credentials failed" };
    } else {
      // Anything else (NoSuchBucket, AccessDenied, network) says the key and
      // signature were accepted only if the server answered at all.
      report.credentials = error instanceof S3Error && error.status !== 0
        ? { ok: true, latencyMs: failed.latencyMs }
        : { ...failed };
      report.bucket = failed;
    }
  }
  report.clockSkewMs = store.client.clockSkewMs ?? null;

  if (report.bucket.ok) {
    const probeStarted = performance.now();
    try {
      const verdict = await store.verifyConditionalWrites();
      report.conditionalPut = {
        ok: verdict.enforced,
        enforced: verdict.enforced,
        latencyMs: verdict.latencyMs,
        ...(verdict.enforced ? {} : {
          error: `the server answered ${verdict.secondStatus} to a second PUT with ` +
            `If-None-Match: * instead of 412, so it overwrites; commits there would lose data`,
        }),
      };
    } catch (error) {
      report.conditionalPut = {
        ...failure(error, performance.now() - probeStarted),
        enforced: null,
      };
    }
    report.clockSkewMs = store.client.clockSkewMs ?? report.clockSkewMs;
  } else {
    report.conditionalPut.error = "not checked: the bucket is not reachable";
  }

  report.ok = report.credentials.ok && report.bucket.ok && report.conditionalPut.ok &&
    (report.clockSkewMs === null || Math.abs(report.clockSkewMs) < MAX_HEALTHY_SKEW_MS);
  return report;
}

function failure(error: unknown, latencyMs: number): HealthCheck {
  const check: HealthCheck = {
    ok: false,
    latencyMs,
    error: error instanceof Error ? error.message : String(error),
  };
  if (error instanceof S3Error) check.code = error.code;
  return check;
}

/** What `checkLocalHealth` found. */
export interface LocalStorageHealth {
  /** True if the directory and put-if-absent checks passed. */
  ok: boolean;
  uri: string;
  path: string;
  /**
   * The root is a directory that takes new files; `existed` says if it was
   * there, `isDirectory` if what was there is a directory.
   */
  directory: HealthCheck & { existed: boolean; isDirectory: boolean };
  /** A second put-if-absent of the probe key was refused. */
  putIfAbsent: HealthCheck & { enforced: boolean | null };
}

/**
 * Checks a local root: that it is (or can become) a directory we can write
 * to, and that put-if-absent refuses a second write of a probe key. Never
 * throws for a failed check; directories it had to create are removed.
 */
export async function checkLocalHealth(path: string): Promise<LocalStorageHealth> {
  const store = new LocalStore(path);
  const report: LocalStorageHealth = {
    ok: false,
    uri: store.uri,
    path: store.root,
    directory: { ok: false, latencyMs: 0, existed: false, isDirectory: false },
    putIfAbsent: { ok: false, latencyMs: 0, enforced: null },
  };
  let created: string[] = [];
  try {
    const info = await Deno.stat(store.root);
    report.directory.existed = true;
    report.directory.isDirectory = info.isDirectory;
    if (!info.isDirectory) {
      report.directory.error = `${store.root} exists and is not a directory`;
    }
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) {
      report.directory.error = `Cannot inspect ${store.root}: ${messageOf(error)}`;
    } else {
      created = await missingDirectories(store.root);
    }
  }

  if (report.directory.error === undefined) {
    const key = `${PROBE_KEY_PREFIX}${crypto.randomUUID()}`;
    const probe = (n: number) => new TextEncoder().encode(`neuralake health probe ${n} ${key}\n`);
    let started = performance.now();
    try {
      const first = await store.putIfAbsent(key, probe(1));
      report.directory = { ...report.directory, ok: first === "created" };
      report.directory.latencyMs = performance.now() - started;
      if (first !== "created") {
        report.directory.error = `a fresh probe key ${key} was reported as already there`;
      } else {
        started = performance.now();
        const second = await store.putIfAbsent(key, probe(2));
        const enforced = second === "exists";
        report.putIfAbsent = {
          ok: enforced,
          enforced,
          latencyMs: performance.now() - started,
          ...(enforced ? {} : {
            error: `a second put-if-absent of ${key} was not refused, so two writers could ` +
              `both commit one version and one commit would be lost`,
          }),
        };
      }
    } catch (error) {
      const failed = {
        ok: false,
        latencyMs: performance.now() - started,
        error: `Cannot write under ${store.root}: ${messageOf(error)}`,
      };
      if (report.directory.ok) report.putIfAbsent = { ...failed, enforced: null };
      else {
        report.directory = {
          ...failed,
          existed: report.directory.existed,
          isDirectory: report.directory.isDirectory,
        };
      }
    } finally {
      await store.delete([key]).catch(() => {
        // The probe key is harmless; a failed clean-up must not hide the verdict.
      });
    }
  }
  if (!report.directory.ok) {
    report.putIfAbsent.error ??= "not checked: the directory check failed";
  }
  // Deepest first; a directory that something else filled in meanwhile stays.
  for (const dir of created.reverse()) await Deno.remove(dir).catch(() => {});
  report.ok = report.directory.ok && report.putIfAbsent.ok;
  return report;
}

/** The directories from the nearest existing ancestor of `path` down to `path`, outermost first. */
async function missingDirectories(path: string): Promise<string[]> {
  const missing: string[] = [];
  let current = path;
  while (current !== "/" && current !== "") {
    try {
      await Deno.stat(current);
      break;
    } catch (error) {
      if (!(error instanceof Deno.errors.NotFound)) break;
      missing.unshift(current);
      current = current.slice(0, current.lastIndexOf("/")) || "/";
    }
  }
  return missing;
}

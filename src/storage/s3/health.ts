/**
 * A health check of an S3 table location, for `neuralake health`
 * (src/cli/health.ts): are the credentials accepted, is the bucket there, how
 * far off is the clock, and does the server enforce conditional writes.
 *
 * Invariants:
 * - The report is plain JSON-able data and holds no secret (errors are
 *   `S3Error` messages, which are redacted).
 * - Each check is decided by `S3Error.code`, never by message text.
 * - The conditional-write check runs only once the listing succeeded, and
 *   writes nothing but the probe key, which it deletes.
 */

import { S3Error } from "./errors.ts";
import type { S3Store } from "./s3_store.ts";

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
const MAX_HEALTHY_SKEW_MS = 5 * 60_000;

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
 * const report = await checkS3Health(S3Store.fromEnvironment("s3://lab/t1"));
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

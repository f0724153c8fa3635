/**
 * `neuralake health <table>`: can a table live here? Checks the storage under
 * a table URI before anything is written to it, and exits 1 if a check fails.
 *
 * The checks themselves live in `ops/health.ts` (is a table there) and
 * `storage/health.ts` (the storage probes); this file parses, prints and
 * redacts.
 *
 * Invariants:
 * - No secret reaches the output: S3 messages are redacted where they are
 *   made, and the whole text or JSON passes through `S3Credentials.redact`
 *   once more before it is printed.
 */

import { checkLocalLocation, checkS3Location, type LocationHealth } from "../ops/health.ts";
import { type HealthCheck, MAX_HEALTHY_SKEW_MS } from "../storage/health.ts";
import { describeStoreUri, openStore } from "../storage/open.ts";
import { PROBE_KEY_PREFIX, S3Store } from "../storage/s3/s3_store.ts";
import { redactUserinfo } from "../util/redact.ts";
import { GLOBAL_HELP, parseCommandArgs, positionals } from "./args.ts";
import { snakeCaseKeys, toJson, write } from "./output.ts";

export const HEALTH_HELP = `Usage: neuralake health <table>

Check that a table location is usable, and say whether a Delta table is
there. Exits with status 1 if any check fails.

For s3://bucket/prefix (settings from AWS_* and ~/.aws, as for every command):
  credentials   a signed request is accepted
  bucket        the bucket answers a listing under the prefix
  clock         the local clock is within 5 minutes of the server's
  conditional   the server refuses a second PUT with If-None-Match: *, which
                commits rely on (a server that overwrites would lose commits)
For a local path or file:// URI:
  directory     the table root is a directory we can write to
  put-if-absent a second hard link to a probe key is refused, which commits
                rely on

Each check shows its latency. The checks write one probe key
(${PROBE_KEY_PREFIX}<uuid>) under the table root and delete it.

Arguments:
  <table>   A path, file:// URI or s3://bucket/prefix

${GLOBAL_HELP}`;

/** Arguments of `health`. */
export interface HealthArgs {
  table: string;
  json: boolean;
}

/** Parses `health` arguments. */
export function parseHealthArgs(argv: string[]): HealthArgs {
  const args = parseCommandArgs("health", argv, {});
  const [table] = positionals(args, ["table"], "health");
  return { table: table!, json: args.values.json === true };
}

/** Runs `health`: prints the report and returns 0 if it is ok, else 1. */
export async function runHealth(args: HealthArgs): Promise<number> {
  const location = describeStoreUri(args.table);
  let report: LocationHealth;
  let redact = redactUserinfo;
  if (location.kind === "s3") {
    const store = await openStore(args.table);
    if (!(store instanceof S3Store)) throw new TypeError(`Not an S3 store: ${store.uri}`);
    const credentials = store.config.credentials;
    if (credentials) redact = (text) => credentials.redact(text);
    report = await checkS3Location(store);
  } else {
    report = await checkLocalLocation(location.path);
  }
  write(redact(args.json ? toJson(snakeCaseKeys(report)) + "\n" : formatHealth(report)));
  return report.ok ? 0 : 1;
}

/** Formats a report for people. */
export function formatHealth(report: LocationHealth): string {
  const lines: string[] = [];
  const check = (c: HealthCheck, name: string, detail: string) => {
    const mark = c.ok ? "ok  " : "FAIL";
    lines.push(`  ${mark} ${name.padEnd(14)}${c.ok ? detail : c.error ?? "failed"}${ms(c)}`);
  };
  if (report.kind === "s3") {
    lines.push(`health of ${report.uri}`);
    lines.push(
      `  endpoint ${report.endpoint} (region ${report.region}, ${
        report.addressing === "path" ? "path-style" : "virtual-hosted"
      } addressing)`,
    );
    lines.push(
      `  access key ${report.accessKeyId ?? "none"}` +
        (report.credentialSource ? ` (from ${report.credentialSource})` : ""),
    );
    check(report.credentials, "credentials", "accepted");
    check(report.bucket, "bucket", "answered a listing under the prefix");
    const skew = report.clockSkewMs;
    const skewOk = skew === null || Math.abs(skew) < MAX_HEALTHY_SKEW_MS;
    const skewText = skew === null
      ? "unknown (no Date header from the server)"
      : `${formatSkew(skew)}${
        skewOk ? "" : " (over 5 min: S3 refuses requests at 15; sync with NTP)"
      }`;
    lines.push(`  ${skewOk ? "ok  " : "FAIL"} ${"clock".padEnd(14)}${skewText}`);
    check(
      report.conditionalPut,
      "conditional",
      "a second PUT with If-None-Match: * was refused (412)",
    );
  } else {
    lines.push(`health of ${report.uri}`);
    check(
      report.directory,
      "directory",
      report.directory.existed ? `${report.path} is writable` : `${report.path} can be created`,
    );
    check(report.putIfAbsent, "put-if-absent", "a second hard link to the probe key was refused");
  }
  const t = report.table;
  const tableMark = t.error !== undefined ? "FAIL" : t.skipped !== undefined ? "SKIP" : "ok  ";
  lines.push(
    `  ${tableMark} ${"table".padEnd(14)}${
      t.error ?? t.skipped ??
        (t.exists ? `a Delta table at version ${t.version}` : "no Delta table here yet")
    }`,
  );
  lines.push(report.ok ? "health: OK" : "health: FAILED");
  return lines.join("\n") + "\n";
}

function ms(check: HealthCheck): string {
  return check.latencyMs > 0 ? ` (${check.latencyMs.toFixed(0)} ms)` : "";
}

function formatSkew(skewMs: number): string {
  const seconds = (Math.abs(skewMs) / 1000).toFixed(1);
  return `the local clock is ${seconds} s ${skewMs < 0 ? "behind" : "ahead of"} the server's`;
}

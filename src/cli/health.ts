/**
 * `neuralake health <table>`: can a table live here? Checks the storage under
 * a table URI before anything is written to it, and exits 1 if a check fails.
 *
 * Invariants:
 * - The checks write nothing but one probe key under the table root, which
 *   they delete (and, for a local path, the directories they had to make).
 * - No secret reaches the output: S3 messages are redacted where they are
 *   made, and the whole text or JSON passes through `S3Credentials.redact`
 *   once more before it is printed.
 * - A location without a table is healthy; whether a table is there is
 *   reported, not judged.
 */

import { LOG_DIR, parseLogPath } from "../delta/log_path.ts";
import { LocalStore } from "../storage/local.ts";
import type { ObjectStore } from "../storage/object_store.ts";
import { describeStoreUri, openStore } from "../storage/open.ts";
import { checkS3Health, type HealthCheck, type S3HealthReport } from "../storage/s3/health.ts";
import { PROBE_KEY_PREFIX, S3Store } from "../storage/s3/s3_store.ts";
import { messageOf } from "../util/errors.ts";
import { redactUserinfo } from "../util/redact.ts";
import { GLOBAL_HELP, parseCommandArgs, positionals } from "./args.ts";
import { toJson, write } from "./output.ts";

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

/** Whether a Delta table is at the location. */
export interface TableCheck {
  /** True if the log holds a commit or checkpoint; null if it was not or could not be read. */
  exists: boolean | null;
  /** The newest version in the log, or null. */
  version: number | null;
  /** Why the log could not be listed (a failure). */
  error?: string;
  /** Why the log was not looked at (an earlier check failed). */
  skipped?: string;
}

/** What `health` found at an S3 location. */
export interface S3LocationHealth extends S3HealthReport {
  kind: "s3";
  table: TableCheck;
}

/** What `health` found at a local path. */
export interface LocalHealthReport {
  kind: "local";
  /** True if the directory and put-if-absent checks passed. */
  ok: boolean;
  uri: string;
  path: string;
  /** The table root is a directory that takes new files; `existed` says if it was there. */
  directory: HealthCheck & { existed: boolean };
  /** A second put-if-absent of the probe key was refused. */
  putIfAbsent: HealthCheck & { enforced: boolean | null };
  table: TableCheck;
}

/** Either report. */
export type LocationHealth = S3LocationHealth | LocalHealthReport;

/** Runs `health`: prints the report and returns 0 if it is ok, else 1. */
export async function runHealth(args: HealthArgs): Promise<number> {
  const location = describeStoreUri(args.table);
  let report: LocationHealth;
  let redact = redactUserinfo;
  if (location.kind === "s3") {
    const store = openStore(args.table);
    if (!(store instanceof S3Store)) throw new TypeError(`Not an S3 store: ${store.uri}`);
    const credentials = store.config.credentials;
    if (credentials) redact = (text) => credentials.redact(text);
    report = await checkS3Location(store);
  } else {
    report = await checkLocalHealth(location.path);
  }
  write(redact(args.json ? toJson(report) + "\n" : formatHealth(report)));
  return report.ok ? 0 : 1;
}

/** Runs the S3 checks and, if the bucket answered, looks for a table. */
export async function checkS3Location(store: S3Store): Promise<S3LocationHealth> {
  const report = await checkS3Health(store);
  const table: TableCheck = report.bucket.ok
    ? await checkTable(store)
    : { exists: null, version: null, skipped: "not checked: the bucket is not reachable" };
  return { kind: "s3", ...report, ok: report.ok && table.error === undefined, table };
}

/**
 * Checks a local table root: that it is (or can become) a directory we can
 * write to, and that put-if-absent refuses a second write of a probe key.
 * Never throws for a failed check; directories it had to create are removed.
 */
export async function checkLocalHealth(path: string): Promise<LocalHealthReport> {
  const store = new LocalStore(path);
  const report: LocalHealthReport = {
    kind: "local",
    ok: false,
    uri: store.uri,
    path: store.root,
    directory: { ok: false, latencyMs: 0, existed: false },
    putIfAbsent: { ok: false, latencyMs: 0, enforced: null },
    table: { exists: false, version: null },
  };
  let created: string[] = [];
  let isDirectory = false;
  try {
    const info = await Deno.stat(store.root);
    report.directory.existed = true;
    isDirectory = info.isDirectory;
    if (!isDirectory) {
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
      else report.directory = { ...failed, existed: report.directory.existed };
    } finally {
      await store.delete([key]).catch(() => {
        // The probe key is harmless; a failed clean-up must not hide the verdict.
      });
    }
  }
  if (!report.directory.ok) {
    report.putIfAbsent.error ??= "not checked: the directory check failed";
  }
  report.table = isDirectory
    ? await checkTable(store)
    : report.directory.existed
    ? { exists: null, version: null, skipped: "not checked: the root is not a directory" }
    : { exists: false, version: null };
  // Deepest first; a directory that something else filled in meanwhile stays.
  for (const dir of created.reverse()) await Deno.remove(dir).catch(() => {});
  report.ok = report.directory.ok && report.putIfAbsent.ok && report.table.error === undefined;
  return report;
}

/** Looks for commits and checkpoints in the log. */
async function checkTable(store: ObjectStore): Promise<TableCheck> {
  try {
    let version = -1;
    for await (const meta of store.list(`${LOG_DIR}/`)) {
      const parsed = parseLogPath(meta.key);
      if (parsed?.type === "commit" || parsed?.type === "checkpoint") {
        version = Math.max(version, parsed.version);
      }
    }
    return { exists: version >= 0, version: version >= 0 ? version : null };
  } catch (error) {
    return { exists: null, version: null, error: `Cannot list ${LOG_DIR}/: ${messageOf(error)}` };
  }
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
    const skewOk = skew === null || Math.abs(skew) < MAX_SKEW_MS;
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

/** The skew that `checkS3Health` still calls healthy. */
const MAX_SKEW_MS = 5 * 60_000;

function formatSkew(skewMs: number): string {
  const seconds = (Math.abs(skewMs) / 1000).toFixed(1);
  return `the local clock is ${seconds} s ${skewMs < 0 ? "behind" : "ahead of"} the server's`;
}

/**
 * `neuralake health`, run as the command line runs it (a `deno run main.ts`
 * subprocess): a local directory, a path not made yet, a file where a
 * directory should be, the S3 test server, wrong credentials (whose secret
 * must never show), and a server that ignores If-None-Match (through the
 * fault proxy), with exit codes and the JSON report's fields.
 */

import { parseHealthArgs } from "../../src/cli/health.ts";
import type { LocalHealthReport, S3LocationHealth } from "../../src/ops/health.ts";
import { UsageError } from "../../src/cli/args.ts";
import { S3Store } from "../../src/storage/s3/s3_store.ts";
import { resolveS3Config } from "../../src/storage/s3/config.ts";
import { assert, assertEquals, assertThrows } from "../_helpers/assert.ts";
import { FaultProxy } from "../_helpers/fault_proxy.ts";
import { emptyStore, s3TestEnv, testS3Options, uniquePrefix } from "../_helpers/s3.ts";

const MAIN = decodeURIComponent(new URL("../../main.ts", import.meta.url).pathname);
const CONFIG = decodeURIComponent(new URL("../../deno.json", import.meta.url).pathname);

interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `neuralake health ...args` with AWS settings from `aws` (and none from elsewhere). */
async function health(args: string[], aws: Record<string, string> = {}): Promise<CliResult> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "--config", CONFIG, MAIN, "health", ...args],
    env: {
      AWS_PROFILE: "",
      AWS_SESSION_TOKEN: "",
      AWS_SHARED_CREDENTIALS_FILE: "/nonexistent/credentials",
      AWS_CONFIG_FILE: "/nonexistent/config",
      NO_COLOR: "1",
      ...aws,
    },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const dec = new TextDecoder();
  return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
}

/** The AWS variables that point the command at `endpoint` (the test server by default). */
function awsEnv(endpoint?: string, secret?: string): Record<string, string> {
  const env = s3TestEnv();
  return {
    AWS_ENDPOINT_URL: endpoint ?? env.endpoint,
    AWS_ACCESS_KEY_ID: env.accessKeyId,
    AWS_SECRET_ACCESS_KEY: secret ?? env.secretAccessKey,
    AWS_REGION: env.region,
    AWS_ALLOW_HTTP: "true",
  };
}

/** `latencyMs` as `latency_ms`, at the type level. */
type Snake<S extends string> = S extends `${infer H}${infer T}`
  ? `${H extends Lowercase<H> ? H : `_${Lowercase<H>}`}${Snake<T>}`
  : S;
/** A report as `--json` prints it: every key in snake_case. */
type SnakeKeys<T> = T extends object
  ? { [K in keyof T as K extends string ? Snake<K> : K]: SnakeKeys<T[K]> }
  : T;

/** The JSON report printed by `health --json` (the caller names which kind). */
function parseReport<T extends LocalHealthReport | S3LocationHealth>(
  result: CliResult,
): SnakeKeys<T> {
  try {
    return JSON.parse(result.stdout);
  } catch (error) {
    throw new Error(`health --json printed no JSON (exit ${result.code}): ${result.stderr}`, {
      cause: error,
    });
  }
}

Deno.test("parseHealthArgs takes one table and --json, and refuses anything else", () => {
  assertEquals(parseHealthArgs(["s3://b/t"]), { table: "s3://b/t", json: false });
  assertEquals(parseHealthArgs(["./t", "--json"]), { table: "./t", json: true });
  const missing = assertThrows(() => parseHealthArgs([]), "Missing <table>");
  assert(missing instanceof UsageError);
  assertThrows(() => parseHealthArgs(["a", "b"]), 'Unexpected argument "b"');
  assertThrows(() => parseHealthArgs(["a", "--fix"]), "--fix");
});

Deno.test("health of a writable local directory passes, finds no table and leaves nothing behind", async () => {
  const dir = await Deno.makeTempDir({ prefix: "nl-health-" });
  try {
    const result = await health([dir, "--json"]);
    assertEquals(result.code, 0, result.stdout + result.stderr);
    const report = parseReport<LocalHealthReport>(result);
    assertEquals(report.kind, "local");
    assertEquals(report.ok, true);
    assertEquals(report.path, dir);
    assertEquals(report.directory.ok, true);
    assertEquals(report.directory.existed, true);
    assertEquals(report.put_if_absent.ok, true);
    assertEquals(report.put_if_absent.enforced, true);
    assertEquals(report.table, { exists: false, version: null });
    assertEquals(await Array.fromAsync(Deno.readDir(dir)), [], "the probe key was deleted");

    const text = await health([dir]);
    assertEquals(text.code, 0);
    assert(text.stdout.includes("put-if-absent"), text.stdout);
    assert(text.stdout.includes("no Delta table here yet"), text.stdout);
    assert(text.stdout.endsWith("health: OK\n"), text.stdout);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("health of a local table reports its latest version", async () => {
  const dir = await Deno.makeTempDir({ prefix: "nl-health-" });
  try {
    await Deno.mkdir(`${dir}/_delta_log`);
    for (const v of ["00000000000000000000", "00000000000000000001"]) {
      await Deno.writeTextFile(`${dir}/_delta_log/${v}.json`, "{}\n");
    }
    const report = parseReport<LocalHealthReport>(await health([`file://${dir}`, "--json"]));
    assertEquals(report.ok, true);
    assertEquals(report.table, { exists: true, version: 1 });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("health of a local path not made yet passes and removes the directories it made", async () => {
  const dir = await Deno.makeTempDir({ prefix: "nl-health-" });
  try {
    const result = await health([`${dir}/a/b`, "--json"]);
    assertEquals(result.code, 0, result.stdout + result.stderr);
    const report = parseReport<LocalHealthReport>(result);
    assertEquals(report.directory.existed, false);
    assertEquals(report.put_if_absent.enforced, true);
    assertEquals(report.table.exists, false);
    assertEquals(await Array.fromAsync(Deno.readDir(dir)), [], "a/b was removed again");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("health of a local root that is a file fails with exit 1", async () => {
  const dir = await Deno.makeTempDir({ prefix: "nl-health-" });
  try {
    await Deno.writeTextFile(`${dir}/table`, "not a directory");
    const result = await health([`${dir}/table`, "--json"]);
    assertEquals(result.code, 1);
    const report = parseReport<LocalHealthReport>(result);
    assertEquals(report.ok, false);
    assertEquals(report.directory.ok, false);
    assert(String(report.directory.error).includes("not a directory"), report.directory.error);
    assertEquals(report.put_if_absent.enforced, null);
    const text = await health([`${dir}/table`]);
    assertEquals(text.code, 1);
    assert(text.stdout.includes("FAIL directory"), text.stdout);
    assert(text.stdout.endsWith("health: FAILED\n"), text.stdout);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("health of an S3 location on the test server passes, with latencies and no secret", async () => {
  const env = s3TestEnv();
  const prefix = uniquePrefix("health-cli");
  const uri = `s3://${env.bucket}/${prefix}`;
  const store = new S3Store(uri, resolveS3Config({}, {}, testS3Options()));
  try {
    const result = await health([uri, "--json"], awsEnv());
    assertEquals(result.code, 0, result.stdout + result.stderr);
    const report = parseReport<S3LocationHealth>(result);
    assertEquals(report.kind, "s3");
    assertEquals(report.ok, true);
    assertEquals(report.uri, uri);
    assertEquals(report.endpoint, env.endpoint);
    assertEquals(report.access_key_id, env.accessKeyId);
    assertEquals(report.credentials.ok, true);
    assertEquals(report.bucket.ok, true);
    assertEquals(report.conditional_put.enforced, true);
    assert(report.bucket.latency_ms > 0 && report.conditional_put.latency_ms > 0);
    assert(typeof report.clock_skew_ms === "number" && Math.abs(report.clock_skew_ms) < 5000);
    assertEquals(report.table, { exists: false, version: null });
    assert(!result.stdout.includes(env.secretAccessKey), "the JSON shows the secret");

    await store.put("_delta_log/00000000000000000000.json", new TextEncoder().encode("{}\n"));
    const text = await health([uri], awsEnv());
    assertEquals(text.code, 0, text.stdout + text.stderr);
    assert(text.stdout.includes("a Delta table at version 0"), text.stdout);
    assert(text.stdout.includes("ok   conditional"), text.stdout);
    assert(
      !text.stdout.includes(env.secretAccessKey) && !text.stderr.includes(env.secretAccessKey),
    );
    assertEquals((await Array.fromAsync(store.list(""))).map((m) => m.key), [
      "_delta_log/00000000000000000000.json",
    ], "only the commit is left: the probe key was deleted");
  } finally {
    await emptyStore(store);
  }
});

Deno.test("health with a wrong secret exits 1 and shows neither secret", async () => {
  const env = s3TestEnv();
  const wrong = `wrong-${crypto.randomUUID()}`;
  const uri = `s3://${env.bucket}/${uniquePrefix("health-creds")}`;
  for (const json of [true, false]) {
    const result = await health(json ? [uri, "--json"] : [uri], awsEnv(undefined, wrong));
    assertEquals(result.code, 1, result.stdout + result.stderr);
    const output = result.stdout + result.stderr;
    assert(!output.includes(wrong), `the wrong secret shows: ${output}`);
    assert(!output.includes(env.secretAccessKey), "the real secret shows");
    if (json) {
      const report = parseReport<S3LocationHealth>(result);
      assertEquals(report.credentials.ok, false);
      assertEquals(report.credentials.code, "SignatureDoesNotMatch");
      assertEquals(report.conditional_put.enforced, null);
    } else {
      assert(result.stdout.includes("FAIL credentials"), result.stdout);
    }
  }
});

Deno.test("health against a server that ignores If-None-Match exits 1 and says commits would be lost", async () => {
  const env = s3TestEnv();
  const proxy = FaultProxy.start(env.endpoint);
  proxy.rule = (r) =>
    r.method === "PUT" && r.headers.has("if-none-match")
      ? { kind: "precondition-to-ok" }
      : { kind: "forward" };
  const uri = `s3://${env.bucket}/${uniquePrefix("health-cas")}`;
  try {
    const result = await health([uri, "--json"], awsEnv(proxy.endpoint));
    assertEquals(result.code, 1, result.stdout + result.stderr);
    const report = parseReport<S3LocationHealth>(result);
    assertEquals(report.ok, false);
    assertEquals(report.bucket.ok, true);
    assertEquals(report.conditional_put.ok, false);
    assertEquals(report.conditional_put.enforced, false);
    const probes = proxy.log.filter((e) => e.method === "PUT" && e.headers.has("if-none-match"));
    assertEquals(probes.map((e) => e.upstreamStatus), [200, 412], "the proxy turned 412 into 200");

    const text = await health([uri], awsEnv(proxy.endpoint));
    assertEquals(text.code, 1);
    assert(text.stdout.includes("FAIL conditional"), text.stdout);
    assert(text.stdout.includes("instead of 412, so it overwrites"), text.stdout);
    assert(text.stdout.includes("commits there would lose data"), text.stdout);
    assert(text.stdout.endsWith("health: FAILED\n"), text.stdout);
  } finally {
    await proxy.close();
  }
});

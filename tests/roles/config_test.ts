import {
  getKey,
  MIN_STREAM_RETENTION_MS,
  parseConfigText,
  resolveConfig,
} from "../../src/roles/config.ts";
import { envName, KEYS, PROFILES } from "../../src/roles/config_keys.ts";
import { InputError } from "../../src/util/errors.ts";
import { assert, assertEquals, assertThrows } from "../_helpers/assert.ts";
import { cli } from "../_helpers/cli.ts";

Deno.test("resolveConfig() applies profile, file, environment and flags in that order", () => {
  const config = resolveConfig({
    file: {
      path: "run.jsonc",
      text: `{
        // comments and trailing commas are fine
        "writers": 5,
        "compaction": { "targetFileSize": "64MiB", /* inline */ "minFiles": 6, },
        "durationMs": "1m",
      }`,
    },
    env: { NEURALAKE_WRITERS: "7", NEURALAKE_COMPACTION_MIN_FILES: "9" },
    flags: [["writers", "2"], ["rate", "max"]],
  });
  assertEquals(config.profile, "local");
  assertEquals(config.writers, 2, "flags beat the environment");
  assertEquals(config.compaction.minFiles, 9, "the environment beats the file");
  assertEquals(config.compaction.targetFileSize, 64 * 1024 * 1024, "the file beats the profile");
  assertEquals(config.durationMs, 60_000);
  assertEquals(config.rate, 0);
  assertEquals(config.vacuum.retentionMs, PROFILES.local.vacuum.retentionMs);
});

Deno.test("the production profile keeps files for seven days", () => {
  const config = resolveConfig({ profile: "production", env: {} });
  assertEquals(config.vacuum.retentionMs, 7 * 86_400_000);
  assertEquals(config.vacuum.allowShortRetention, false);
  assertEquals(config.compaction.targetFileSize, 128 * 1024 * 1024);
  assertEquals(resolveConfig({ env: { NEURALAKE_PROFILE: "production" } }).profile, "production");
});

Deno.test("bad settings name the key and where they came from", () => {
  const e1 = assertThrows(
    () => resolveConfig({ env: { NEURALAKE_WRITERS: "many" } }),
    'Invalid writers in environment variable NEURALAKE_WRITERS: "many" is not a whole number >= 1',
  );
  assert(e1 instanceof InputError);
  assertThrows(
    () => resolveConfig({ file: { path: "x.json", text: '{"compaction": {"targetSize": 1}}' } }),
    'Unknown key "compaction.targetSize" in config file x.json',
  );
  const e2 = assertThrows(
    () => parseConfigText('{\n  "writers": 3,\n  oops\n}', "x.json"),
    "Cannot parse config file x.json",
  ) as InputError;
  assertEquals(e2.line, 3);
  assertThrows(() => resolveConfig({ flags: [["isolation", "thread"]] }), "one of worker, process");
});

Deno.test("a streaming vacuum retention shorter than the writers' commit window is refused", () => {
  assertThrows(
    () => resolveConfig({ flags: [["vacuum.retentionMs", "5s"]] }),
    "below the 15 s that streaming needs",
  );
  assertEquals(
    resolveConfig({ flags: [["vacuum.retentionMs", `${MIN_STREAM_RETENTION_MS}ms`]] }).vacuum
      .retentionMs,
    MIN_STREAM_RETENTION_MS,
  );
});

Deno.test("a JSONC config keeps comment markers and trailing-comma lookalikes inside strings", () => {
  assertEquals(
    parseConfigText(
      '{"table": "s3://b/x,]", // c\n "regions": ["a // b /* c */", "d,}",], /* e */}',
      "x.jsonc",
    ),
    [["table", "s3://b/x,]"], ["regions", ["a // b /* c */", "d,}"]]],
  );
});

Deno.test("a JSONC syntax error names the file, line and column", () => {
  const error = assertThrows(
    () => parseConfigText('{\n  "writers": 3,\n  "seed" 4\n}', "x.jsonc"),
    "Cannot parse config file x.jsonc: ColonExpected at line 3, column 10",
  );
  // The origin resolveConfig gives ("config file <path>") is not said twice.
  const named = assertThrows(() =>
    resolveConfig({ file: { path: "lab.jsonc", text: "{ oops }" }, env: {} })
  );
  assert(
    named.message.startsWith("Cannot parse config file lab.jsonc: "),
    named.message,
  );
  assert(error instanceof InputError);
  assertEquals(error.line, 3);
  assertEquals(error.column, "10");
});

Deno.test("envName() maps keys to NEURALAKE_ variables", () => {
  assertEquals(envName("compaction.targetFileSize"), "NEURALAKE_COMPACTION_TARGET_FILE_SIZE");
  assertEquals(envName("durationMs"), "NEURALAKE_DURATION");
  assertEquals(envName("vacuum.allowShortRetention"), "NEURALAKE_VACUUM_ALLOW_SHORT_RETENTION");
});

Deno.test("config show prints the effective settings and never the S3 secret", async () => {
  const secret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYSECRETKEY";
  const env = {
    ...Deno.env.toObject(),
    AWS_ACCESS_KEY_ID: "AKIDEXAMPLE",
    AWS_SECRET_ACCESS_KEY: secret,
    AWS_SESSION_TOKEN: "session-token-secret-value",
    AWS_REGION: "eu-west-1",
    NEURALAKE_WRITERS: "6",
  };
  const text = await cli(["config", "show", "s3://lab/neural"], { env });
  assertEquals(text.code, 0, text.stderr);
  assert(
    text.stdout.includes("writers") && /writers\s+6\s+NEURALAKE_WRITERS/.test(text.stdout),
    text.stdout,
  );
  const json = await cli(["config", "show", "s3://lab/neural", "--json"], { env });
  const parsed = JSON.parse(json.stdout);
  assertEquals(parsed.config.writers, 6);
  assertEquals(parsed.config.table, "s3://lab/neural");
  for (const out of [text.stdout + text.stderr, json.stdout + json.stderr]) {
    assert(!out.includes(secret), "the secret key leaked");
    assert(!out.includes("session-token-secret-value"), "the session token leaked");
  }
});

Deno.test("the production profile is local with bigger files, rarer maintenance and long retention", () => {
  const differing = KEYS.map((k) => k.key).filter((key) =>
    JSON.stringify(getKey(PROFILES.local, key)) !== JSON.stringify(getKey(PROFILES.production, key))
  );
  assertEquals(differing, [
    "profile",
    "batchRows",
    "compaction.intervalMs",
    "compaction.minFiles",
    "compaction.targetFileSize",
    "compaction.minRowGroupRows",
    "compaction.settleAfterMs",
    "compaction.logRetentionMs",
    "vacuum.intervalMs",
    "vacuum.retentionMs",
    "chaos.restartDelayMs",
    "stopTimeoutMs",
  ]);
  const p = resolveConfig({ profile: "production", env: {} });
  assertEquals(p.compaction.targetFileSize, 128 * 1024 * 1024);
  assertEquals(p.vacuum.retentionMs, 7 * 86_400_000);
  assertEquals(p.writers, 3);
  // A compactor beside writers that pause settles after 10 minutes, not 10 s.
  assertEquals(p.compaction.settleAfterMs, 600_000);
});

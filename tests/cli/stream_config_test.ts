/**
 * A setting is declared once, in a table of keys, and its flag, environment
 * variable, help line with its defaults, and parsing all come from that one
 * declaration.
 */

import { parseCommandArgs } from "../../src/cli/args.ts";
import {
  CONFIG_FLAGS,
  CONFIG_HELP,
  flagHelp,
  flagOptions,
  flagSettings,
} from "../../src/cli/stream_config.ts";
import { resolveConfig } from "../../src/roles/config.ts";
import {
  KEYS,
  keysOf,
  PROFILES,
  profileValues,
  setting,
  type ValuesOf,
} from "../../src/roles/config_keys.ts";
import { formatBytesFlag, formatDurationFlag } from "../../src/util/units.ts";
import { assert, assertEquals } from "../_helpers/assert.ts";

Deno.test("a key declared once is a flag, an environment variable and a help line with its defaults", () => {
  const table = {
    ingest: {
      flushIntervalMs: setting({
        kind: "duration",
        min: 1,
        local: 5_000,
        production: 60_000,
        flag: { name: "flush-interval" },
        help: "Time between flushes",
      }),
      compress: setting({
        kind: "bool",
        local: false,
        production: true,
        flag: { name: "compress", sets: true },
        help: "Compress batches",
      }),
    },
  };
  const keys = keysOf(table);
  assertEquals(keys.map((k) => k.key), ["ingest.flushIntervalMs", "ingest.compress"]);
  assertEquals(keys.map((k) => k.env), [
    "NEURALAKE_INGEST_FLUSH_INTERVAL",
    "NEURALAKE_INGEST_COMPRESS",
  ]);
  assertEquals(flagOptions(keys), {
    "flush-interval": { type: "string" },
    compress: { type: "boolean" },
  });
  assertEquals(flagHelp(keys), [
    "  --flush-interval <d>       Time between flushes (default 5s local, 1m production)",
    "  --compress                 Compress batches (set in production)",
  ]);
  const args = parseCommandArgs(
    "ingest",
    ["--flush-interval", "10s", "--compress"],
    flagOptions(keys),
  );
  assertEquals(flagSettings(keys, args, "ingest"), [
    ["ingest.flushIntervalMs", "10s"],
    ["ingest.compress", "true"],
  ]);
  const production: ValuesOf<typeof table> = profileValues(keys, "production");
  assertEquals(production, { ingest: { flushIntervalMs: 60_000, compress: true } });
  assertEquals(profileValues(keys, "local"), {
    ingest: { flushIntervalMs: 5_000, compress: false },
  });
});

Deno.test("every key with a flag has a help line that shows its defaults, and its environment variable sets it", () => {
  const lines = CONFIG_HELP.split("\n");
  for (const spec of KEYS) {
    const flag = spec.flag;
    if (flag === undefined) continue;
    assert(flag.name in CONFIG_FLAGS, `--${flag.name} is not a flag`);
    const at = lines.findIndex((l) =>
      l.startsWith(`  --${flag.name} `) || l === `  --${flag.name}`
    );
    assert(at >= 0, `--${flag.name} has no help line`);
    // The help line, with its continuation lines.
    let text = lines[at]!;
    for (let i = at + 1; i < lines.length && /^ {29}/.test(lines[i]!); i++) {
      text += " " + lines[i]!.trim();
    }
    const local = spec.defaults.local;
    if (spec.kind === "duration" && spec.helpDefault) {
      assert(text.includes(formatDurationFlag(local as number)), `${text} lacks its default`);
    }
    if (spec.kind === "bytes") {
      assert(text.includes(formatBytesFlag(local as number)), `${text} lacks its default`);
    }
    if (spec.kind === "int" && spec.helpDefault) {
      assert(text.includes(`default ${local}`), `${text} lacks its default`);
    }
    if (spec.defaults.production !== local && spec.kind !== "bool" && spec.helpDefault) {
      assert(text.includes("production)"), `${text} lacks its production default`);
    }
  }
  // The environment variable of every key sets it.
  const retention = KEYS.find((k) => k.key === "vacuum.retentionMs")!;
  assertEquals(retention.env, "NEURALAKE_VACUUM_RETENTION");
  assertEquals(resolveConfig({ env: { [retention.env]: "2m" } }).vacuum.retentionMs, 120_000);
  for (const spec of KEYS) {
    if (spec.kind !== "int" || spec.key === "seed") continue;
    const value = String((spec.min ?? 0) + 7);
    const config = resolveConfig({ env: { [spec.env]: value } });
    let got: unknown = config;
    for (const part of spec.key.split(".")) got = (got as Record<string, unknown>)[part];
    assertEquals(got, Number(value), spec.env);
  }
});

Deno.test("the help renders defaults from the profiles, not from hand-typed text", () => {
  // The help with its wrapped lines joined.
  const help = CONFIG_HELP.replace(/\n {29,}/g, " ");
  const [local, production] = [PROFILES.local, PROFILES.production].map((p) =>
    formatDurationFlag(p.vacuum.retentionMs)
  );
  assert(
    help.includes(
      `--retention <d>            Age at which vacuum may delete unreferenced files (a table the run creates declares it; on another, at least the table's) (default ${local} local, ${production} production)`,
    ),
    help,
  );
  assert(
    help.includes(
      `--writers <N>              Writer roles; with --source kafka, ingest roles (one consumer group) (default ${PROFILES.local.writers})`,
    ),
  );
  // Off in both profiles (a table the run creates declares the run's
  // retention), so its line names no profile that sets it.
  const allowShort = help.split("\n").find((line) => line.includes("--allow-short-retention")) ??
    "";
  assert(allowShort.includes("Let vacuum use --retention below the table's"), help);
  assertEquals([
    PROFILES.local.vacuum.allowShortRetention,
    PROFILES.production.vacuum.allowShortRetention,
  ], [false, false]);
  assert(!allowShort.includes("(set in"), allowShort);
  assert(help.includes(`SIGKILL writers N times (default ${PROFILES.local.chaos.kills})`), help);
  assert(help.includes(`128MiB files, ${production} retention`), help);
  assertEquals(formatDurationFlag(200), "200ms");
  assertEquals(formatDurationFlag(600_000), "10m");
  assertEquals(formatDurationFlag(7 * 86_400_000), "7d");
  assertEquals(formatDurationFlag(1_500), "1500ms");
  assertEquals(formatBytesFlag(128 * 1024 * 1024), "128MiB");
  assertEquals(formatBytesFlag(1000), "1000");
});

/**
 * Mistakes in how a command is called exit with status 2 and a message that
 * names the flag (or variable, or argument) and the value, never a stack
 * trace: a log level that is not one, a table URI that cannot name a table
 * and a flag left without its value, as well as the flags each command
 * checks itself.
 */

import { parseCommandArgs, UsageError } from "../../src/cli/args.ts";
import { assert, assertEquals, assertThrows } from "../_helpers/assert.ts";
import { cli } from "../_helpers/cli.ts";

const noStack = (text: string) => !/\n\s+at /.test(text);

Deno.test("a log level that is not one is a usage error naming the flag or the variable", async () => {
  const flag = await cli(["scan", "t", "--log-level", "loud"]);
  assertEquals(flag.code, 2, flag.stderr);
  assert(
    flag.stderr.startsWith('error: --log-level loud: Unknown log level "loud": use one of '),
    flag.stderr,
  );
  assert(flag.stderr.includes('Run "neuralake scan --help" for usage.'), flag.stderr);
  assert(noStack(flag.stderr), flag.stderr);

  const equals = await cli(["describe", "t", "--log-level=LOUD", "--json"]);
  assertEquals(equals.code, 2, equals.stderr);
  const error = JSON.parse(equals.stdout).error;
  assertEquals(error.usage, true);
  assert(error.message.startsWith('--log-level LOUD: Unknown log level "LOUD"'), error.message);

  const missing = await cli(["history", "t", "--log-level"]);
  assertEquals(missing.code, 2, missing.stderr);
  assert(missing.stderr.startsWith("error: Missing a value for --log-level"), missing.stderr);

  const env = await cli(["verify", "t"], { env: { NEURALAKE_LOG_LEVEL: "chatty" } });
  assertEquals(env.code, 2, env.stderr);
  assert(
    env.stderr.startsWith('error: NEURALAKE_LOG_LEVEL=chatty: Unknown log level "chatty"'),
    env.stderr,
  );
  // A good level still works, in either spelling.
  const ok = await cli(["--version"], { env: { NEURALAKE_LOG_LEVEL: "Debug" } });
  assertEquals(ok.code, 0, ok.stderr);
});

Deno.test("a table URI that cannot name a table is a usage error naming it", async () => {
  for (
    const [args, message] of [
      [["scan", "s3://"], 'Invalid S3 URI s3://: "" is not a bucket name'],
      [["describe", "s3:///t"], 'Invalid S3 URI s3:///t: "" is not a bucket name'],
      [["history", "gs://bucket/t"], "Unsupported table URI scheme gs: in gs://bucket/t"],
      [
        ["write", "http://host/t", "--input", "-", "--format", "csv"],
        "Unsupported table URI scheme http",
      ],
    ] as const
  ) {
    const r = await cli([...args], { stdin: "a\n1\n" });
    assertEquals(r.code, 2, `${args.join(" ")}: ${r.stderr}`);
    assert(r.stderr.startsWith(`error: ${message}`), r.stderr);
    assert(r.stderr.includes(`Run "neuralake ${args[0]} --help" for usage.`), r.stderr);
    assert(noStack(r.stderr), r.stderr);
  }
  const json = await cli(["scan", "s3://", "--json"]);
  assertEquals(json.code, 2);
  assertEquals(JSON.parse(json.stdout).error.usage, true);
});

Deno.test("a flag without its value says so, naming the flag and what followed it", () => {
  const options = { schema: { type: "string" }, limit: { type: "string" } } as const;
  const refused = (argv: string[]) => {
    const error = assertThrows(() => parseCommandArgs("create", argv, options));
    assert(error instanceof UsageError, String(error));
    return error.message;
  };
  assertEquals(refused(["t", "--limit"]), "Missing a value for --limit");
  assertEquals(
    refused(["t", "--schema", "--json"]),
    "Missing a value for --schema: it is followed by --json; give --schema a value, " +
      "or write --schema=--json if that is its value",
  );
  assertEquals(
    refused(["t", "--schema", "-h"]).startsWith(
      "Missing a value for --schema: it is followed by -h",
    ),
    true,
  );
  // A lone dash (stdin) and a negative number are values, and = takes anything.
  assertEquals(parseCommandArgs("create", ["t", "--schema", "-"], options).values.schema, "-");
  assertEquals(parseCommandArgs("create", ["t", "--limit", "-1"], options).values.limit, "-1");
  assertEquals(parseCommandArgs("create", ["t", "--schema=--x"], options).values.schema, "--x");
});

Deno.test("the command line names a flag left without its value, exit 2", async () => {
  const r = await cli(["create", "t", "--schema", "--json"]);
  assertEquals(r.code, 2, r.stderr);
  assertEquals(JSON.parse(r.stdout).error.message.startsWith("Missing a value for --schema"), true);
  const limit = await cli(["scan", "t", "--limit"]);
  assertEquals(limit.code, 2, limit.stderr);
  assert(limit.stderr.startsWith("error: Missing a value for --limit\n"), limit.stderr);
});

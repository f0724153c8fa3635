import { parseIngestArgs } from "../../src/cli/ingest.ts";
import { UsageError } from "../../src/cli/args.ts";
import { assert, assertEquals, assertThrows } from "../_helpers/assert.ts";

const env = (vars: Record<string, string>) => (name: string) => vars[name];
const base = ["./t", "--topic", "rigs", "--group", "lab"];

Deno.test("ingest takes its brokers from --brokers, else from NEURALAKE_KAFKA_BROKERS", () => {
  const flag = parseIngestArgs([...base, "--brokers", "a:9092, b:9093"], env({}));
  assertEquals(flag.brokers, ["a:9092", "b:9093"]);
  const fromEnv = parseIngestArgs(base, env({ NEURALAKE_KAFKA_BROKERS: "k:1" }));
  assertEquals(fromEnv.brokers, ["k:1"]);
  assertEquals([fromEnv.untilIdleMs, fromEnv.durationMs, fromEnv.deadLetter], [
    undefined,
    0,
    undefined,
  ]);
});

Deno.test("ingest reads its batching, idleness and dead-letter flags", () => {
  const args = parseIngestArgs([
    ...base,
    "--brokers",
    "k:1",
    "--batch-rows",
    "5_000",
    "--batch-interval",
    "2s",
    "--until-idle",
    "30s",
    "--duration",
    "1m",
    "--dead-letter",
    "./dead",
    "--json",
  ], env({}));
  assertEquals(
    [
      args.batchRows,
      args.batchIntervalMs,
      args.untilIdleMs,
      args.durationMs,
      args.deadLetter,
      args.json,
    ],
    [5000, 2000, 30_000, 60_000, "./dead", true],
  );
});

Deno.test("ingest refuses missing or malformed settings with a usage error naming the flag", () => {
  const cases: [string[], string][] = [
    [base, "--brokers"],
    [["./t", "--brokers", "k:1", "--group", "g"], "--topic"],
    [["./t", "--brokers", "k:1", "--topic", "t"], "--group"],
    [[...base, "--brokers", "nohost"], `"nohost" is not host:port`],
    [[...base, "--brokers", "k:1", "--until-idle", "0s"], "--until-idle"],
    [[...base, "--brokers", "k:1", "--batch-rows", "0"], "--batch-rows"],
    [[...base, "--brokers", "k:1", "--metrics-addr", "nope"], "--metrics-addr"],
  ];
  for (const [argv, says] of cases) {
    const error = assertThrows(() => parseIngestArgs(argv, env({})), says);
    assert(error instanceof UsageError, `${argv.join(" ")}: ${error}`);
  }
});

Deno.test("ingest waits 5 minutes for an unreachable broker with --until-idle, forever without, or --broker-timeout", () => {
  const k = [...base, "--brokers", "k:1"];
  assertEquals(parseIngestArgs(k, env({})).brokerTimeoutMs, undefined);
  assertEquals(parseIngestArgs([...k, "--until-idle", "3s"], env({})).brokerTimeoutMs, 300_000);
  assertEquals(
    parseIngestArgs([...k, "--until-idle", "3s", "--broker-timeout", "20s"], env({}))
      .brokerTimeoutMs,
    20_000,
  );
  assertEquals(parseIngestArgs([...k, "--broker-timeout", "1m"], env({})).brokerTimeoutMs, 60_000);
  const error = assertThrows(() => parseIngestArgs([...k, "--broker-timeout", "0s"], env({})));
  assert(error instanceof UsageError && error.message.includes("--broker-timeout"), String(error));
});

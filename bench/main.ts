/**
 * `deno task bench [--quick] [--scenario name] [--json] [--repetitions N]`:
 * every scenario for neuralake and for delta-rs (the `deltalake` Python
 * package, in its own virtual environment) on the same data in the same run,
 * alternating, with a warm-up and at least five measured repetitions. Prints
 * a Markdown table (or, with --json, one object whose `scenarios` array holds
 * name, metric, the two medians and the ratio, > 1 meaning neuralake is
 * better) and writes bench-results/<timestamp>.json and .md.
 */

import { parseArgs } from "node:util";
import { closestName } from "../src/cli/args.ts";
import { VERSION } from "../src/version.ts";
import { benchPython } from "./delta_rs.ts";
import { writePool } from "./fixtures.ts";
import { markdownTable, type ScenarioResult } from "./harness.ts";
import { type BenchContext, SCENARIOS } from "./scenarios.ts";
import { benchS3Ops, type BenchS3Result, formatBenchTable } from "./s3_ops.ts";

const HELP = `Usage: deno task bench [options]

Options:
  --quick              Smaller data, 3 repetitions (for a quick look; quote full runs)
  --scenario <name>    Run only scenarios whose name contains <name>, or only those
                       named exactly <name> if there are any (repeatable)
  --repetitions <N>    Measured repetitions per side (default 5)
  --json               Print one JSON object instead of the table
  -h, --help           Show this help

Scenarios:
${[...new Set(SCENARIOS.map((s) => s.name))].map((n) => `  ${n}`).join("\n")}
and "S3 client vs AWS SDK" (our S3 client against @aws-sdk/client-s3 on the same
server, run with the S3 scenarios).
The Kafka scenarios start a broker of their own (scripts/kafka-server.sh, Java 17)
and compare ingest with a plain consumer reading the same messages (the ceiling).`;

async function machine() {
  const python = await benchPython();
  const out = await new Deno.Command(python, {
    args: [
      "-c",
      "import deltalake, pyarrow, platform; print(deltalake.__version__, pyarrow.__version__, platform.python_version())",
    ],
    stdout: "piped",
  }).output();
  const [deltalake, pyarrow, pythonVersion] = new TextDecoder().decode(out.stdout).trim().split(
    " ",
  );
  let cpu = "unknown";
  try {
    cpu = /model name\s*:\s*(.+)/.exec(await Deno.readTextFile("/proc/cpuinfo"))?.[1] ?? cpu;
  } catch {
    // Not Linux.
  }
  return {
    cpus: navigator.hardwareConcurrency,
    cpu,
    memory_gib: Math.round(Deno.systemMemoryInfo().total / 1024 ** 3),
    os: `${Deno.build.os} ${Deno.osRelease()}`,
    deno: Deno.version.deno,
    neuralake: VERSION,
    deltalake,
    pyarrow,
    python: pythonVersion,
  };
}

const S3_SERVER_SCRIPT = new URL("../scripts/s3-server.sh", import.meta.url).pathname;
const KAFKA_SERVER_SCRIPT = new URL("../scripts/kafka-server.sh", import.meta.url).pathname;

/** Runs `script start` (a test-server script) and returns the variables it exports. */
async function startServer(script: string): Promise<Record<string, string> | undefined> {
  const out = await new Deno.Command("sh", {
    args: [script, "start"],
    stdout: "piped",
    stderr: "inherit",
  }).output();
  if (!out.success) return undefined;
  const env: Record<string, string> = {};
  for (const line of new TextDecoder().decode(out.stdout).split("\n")) {
    const m = /^export ([A-Z0-9_]+)=(.*)$/.exec(line.trim());
    if (m) env[m[1]!] = m[2]!.replace(/^'(.*)'$/, "$1").replace(/^"(.*)"$/, "$1");
  }
  return env;
}

/** Starts a Kafka broker of this run's own; returns its brokers and state directory. */
async function kafkaServer(): Promise<{ brokers: string[]; server: string } | undefined> {
  const env = await startServer(KAFKA_SERVER_SCRIPT);
  const brokers = env?.NEURALAKE_KAFKA_BROKERS;
  const server = env?.NEURALAKE_KAFKA_SERVER;
  return brokers && server ? { brokers: brokers.split(","), server } : undefined;
}

/** Starts a loopback MinIO server of this run's own and returns its settings. */
async function s3Server(): Promise<NonNullable<BenchContext["s3"]> | undefined> {
  const env = await startServer(S3_SERVER_SCRIPT);
  if (env === undefined) return undefined;
  for (const [k, v] of Object.entries(env)) Deno.env.set(k, v);
  return {
    bucket: env.NEURALAKE_TEST_BUCKET!,
    env,
    storageOptions: {
      AWS_ENDPOINT_URL: env.AWS_ENDPOINT_URL!,
      AWS_ACCESS_KEY_ID: env.AWS_ACCESS_KEY_ID!,
      AWS_SECRET_ACCESS_KEY: env.AWS_SECRET_ACCESS_KEY!,
      AWS_REGION: env.AWS_REGION ?? "us-east-1",
      AWS_ALLOW_HTTP: "true",
      AWS_S3_ALLOW_UNSAFE_RENAME: "true",
      conditional_put: "etag",
    },
  };
}

/** A bad flag or value of `deno task bench`: exit status 2, with the usage. */
export class BenchUsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "BenchUsageError";
  }
}

/** What `deno task bench` was asked to run. */
export interface BenchArgs {
  help: boolean;
  quick: boolean;
  json: boolean;
  repetitions: number;
  /** The `--scenario` values, as typed. */
  wanted: string[];
}

/**
 * Parses and checks `deno task bench`'s flags before anything starts: an
 * unknown flag, a missing or bad value and a `--scenario` that names no
 * scenario are a `BenchUsageError` naming the flag and the value.
 */
export function parseBenchArgs(
  argv: readonly string[],
  scenarios: readonly { name: string }[] = SCENARIOS,
): BenchArgs {
  const options = {
    quick: { type: "boolean" },
    scenario: { type: "string", multiple: true },
    repetitions: { type: "string" },
    json: { type: "boolean" },
    help: { type: "boolean", short: "h" },
  } as const;
  for (const arg of argv) {
    if (arg === "--") break;
    const name = arg.startsWith("--") ? arg.slice(2).split("=", 1)[0]! : undefined;
    if (name !== undefined && !Object.hasOwn(options, name)) {
      const hint = closestName(name, Object.keys(options));
      throw new BenchUsageError(
        `Unknown option --${name}${hint !== undefined ? `; did you mean --${hint}?` : ""}`,
      );
    }
  }
  let values;
  try {
    ({ values } = parseArgs({ args: [...argv], options, strict: true }));
  } catch (error) {
    throw new BenchUsageError((error as Error).message);
  }
  const quick = values.quick === true;
  let repetitions = quick ? 3 : 5;
  if (values.repetitions !== undefined) {
    const text = values.repetitions;
    repetitions = /^\d+$/.test(text) ? Number(text) : NaN;
    if (!Number.isSafeInteger(repetitions) || repetitions < 1) {
      throw new BenchUsageError(
        `--repetitions must be a whole number of 1 or more, got "${text}"`,
      );
    }
  }
  const wanted = values.scenario ?? [];
  for (const w of wanted) {
    if (w.trim() === "" || chooseScenarios(scenarios, [w]).length === 0) {
      throw new BenchUsageError(
        `--scenario "${w}" names no scenario; the scenarios are: ${
          [...new Set(scenarios.map((s) => s.name))].join(", ")
        }`,
      );
    }
  }
  return { help: values.help === true, quick, json: values.json === true, repetitions, wanted };
}

async function main(argv: readonly string[]): Promise<number> {
  let args: BenchArgs;
  try {
    args = parseBenchArgs(argv);
  } catch (error) {
    if (!(error instanceof BenchUsageError)) throw error;
    console.error(`error: ${error.message}\nRun "deno task bench --help" for usage.`);
    return 2;
  }
  if (args.help) {
    console.log(HELP);
    return 0;
  }
  const { quick, repetitions, wanted } = args;
  const chosen = chooseScenarios(SCENARIOS, wanted);

  const started = new Date();
  const stamp = started.toISOString().replace(/[-:]/g, "").replace(/\.\d+Z$/, "Z");
  const work = await Deno.makeTempDir({ prefix: "neuralake-bench-" });
  const pools = new Map<number, Promise<string>>();
  const ctx: BenchContext = {
    quick,
    repetitions,
    warmup: 1,
    work,
    keepDir: `bench-results/${stamp}-failed`,
    progress: (line) => console.error(line),
    pool: (rows) => {
      let p = pools.get(rows);
      if (!p) {
        p = writePool(`${work}/pool-${rows}.parquet`, rows).then(() =>
          `${work}/pool-${rows}.parquet`
        );
        pools.set(rows, p);
      }
      return p;
    },
  };
  if (chosen.some((s) => s.name.includes("S3"))) {
    const s3 = await s3Server();
    if (s3) ctx.s3 = s3;
  }
  const kafka = chosen.some((s) => s.name.includes("Kafka")) ? await kafkaServer() : undefined;
  if (kafka) ctx.kafka = { brokers: kafka.brokers };
  try {
    return await runAndReport(ctx, chosen, wanted, args.json, started, stamp);
  } finally {
    if (kafka) {
      await new Deno.Command("sh", {
        args: [KAFKA_SERVER_SCRIPT, "stop", kafka.server],
        stdout: "null",
        stderr: "inherit",
      }).output();
    }
    await Deno.remove(work, { recursive: true }).catch(() => {});
    if (ctx.s3?.env.NEURALAKE_S3_SERVER) {
      await new Deno.Command("sh", {
        args: [S3_SERVER_SCRIPT, "stop", ctx.s3.env.NEURALAKE_S3_SERVER],
        stdout: "null",
        stderr: "inherit",
      }).output();
    }
  }
}

async function runAndReport(
  ctx: BenchContext,
  chosen: typeof SCENARIOS,
  wanted: string[],
  json: boolean,
  started: Date,
  stamp: string,
): Promise<number> {
  const { quick, repetitions } = ctx;

  const info = await machine();
  const results: ScenarioResult[] = [];
  const skipped: { name: string; reason: string }[] = [];
  for (const scenario of chosen) {
    console.error(`== ${scenario.name}`);
    try {
      results.push(...await scenario.run(ctx));
    } catch (error) {
      skipped.push({ name: scenario.name, reason: (error as Error).message });
      console.error(`${scenario.name} failed: ${(error as Error).stack}`);
    }
  }
  // Our S3 client against the AWS SDK on the same server, when S3 is in play.
  let s3Client: BenchS3Result | undefined;
  if (
    ctx.s3 &&
    (wanted.length === 0 ||
      wanted.some((w) => "S3 client vs AWS SDK".includes(w) || w.includes("S3")))
  ) {
    console.error("== S3 client vs AWS SDK");
    try {
      s3Client = await benchS3Ops({
        endpoint: ctx.s3.env.AWS_ENDPOINT_URL!,
        bucket: ctx.s3.bucket,
        accessKeyId: ctx.s3.env.AWS_ACCESS_KEY_ID!,
        secretAccessKey: ctx.s3.env.AWS_SECRET_ACCESS_KEY!,
        repetitions: quick ? 3 : Math.max(repetitions, 5),
      });
    } catch (error) {
      skipped.push({ name: "S3 client vs AWS SDK", reason: (error as Error).message });
    }
  }
  const report = {
    started_at: started.toISOString(),
    command: `deno task bench${quick ? " --quick" : ""}${
      wanted.map((w) => ` --scenario '${w}'`).join("")
    }`,
    quick,
    repetitions,
    machine: info,
    scenarios: results,
    ...(s3Client ? { s3_client: s3Client } : {}),
    failed: skipped,
  };
  const table = markdownTable(results) +
    (s3Client
      ? `\n\nS3 client vs @aws-sdk/client-s3 (ratio = SDK time / ours):\n\n${
        formatBenchTable(s3Client)
      }`
      : "");
  await Deno.mkdir("bench-results", { recursive: true });
  await Deno.writeTextFile(`bench-results/${stamp}.json`, JSON.stringify(report, null, 2) + "\n");
  await Deno.writeTextFile(
    `bench-results/${stamp}.md`,
    `# neuralake vs delta-rs, ${started.toISOString()}\n\n` +
      `Machine: ${info.cpus} cores (${info.cpu}), ${info.memory_gib} GiB, ${info.os}; Deno ${info.deno}, deltalake ${info.deltalake}, pyarrow ${info.pyarrow}.\n` +
      `Command: \`${report.command}\`. Medians of ${repetitions} repetitions after a warm-up; ratio > 1 means neuralake is better.\n\n` +
      table + "\n" +
      (skipped.length
        ? `\nFailed: ${skipped.map((s) => `${s.name}: ${s.reason}`).join("; ")}\n`
        : ""),
  );
  if (json) console.log(JSON.stringify(report, null, 2));
  else {
    console.log(table);
    if (skipped.length) {
      console.log(`\nFailed: ${skipped.map((s) => `${s.name}: ${s.reason}`).join("; ")}`);
    }
    console.log(`\nWritten to bench-results/${stamp}.json and .md`);
  }
  return skipped.length ? 1 : 0;
}

/**
 * The scenarios `--scenario` names: those named exactly so where there are
 * any ("streaming append" is also part of "streaming append on S3", which
 * starts a server of its own), else those whose name contains it. None
 * wanted: all of them.
 */
export function chooseScenarios<T extends { name: string }>(
  scenarios: readonly T[],
  wanted: readonly string[],
): T[] {
  const matches = (name: string, w: string) =>
    scenarios.some((s) => s.name === w) ? name === w : name.includes(w);
  return scenarios.filter((s) => wanted.length === 0 || wanted.some((w) => matches(s.name, w)));
}

if (import.meta.main) Deno.exit(await main(Deno.args));

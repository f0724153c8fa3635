/**
 * `neuralake stream [table]`: the main job. Writers, compaction and vacuum
 * run concurrently for a duration, then the run is verified and its metrics,
 * summary and report are written.
 */

import { runStream } from "../roles/orchestrator.ts";
import { redactedS3Config, resolveS3ConfigFromEnvironment } from "../storage/s3/config.ts";
import { describeStoreUri } from "../storage/open.ts";
import { log } from "../util/log.ts";
import { formatBytes, formatDurationFlag } from "../util/units.ts";
import { storageFigures } from "../report/format.ts";
import { GLOBAL_HELP, parseCommandArgs, type ParsedArgs, positionals } from "./args.ts";
import { formatFields, printJson, write } from "./output.ts";
import { JobMonitor } from "../metrics/monitor.ts";
import { CONFIG_FLAGS, CONFIG_HELP, configFromArgs, metricsAddrFlag } from "./stream_config.ts";
import { PROFILES, type StreamConfig } from "../roles/config_keys.ts";
import { UsageError } from "./args.ts";

const LOCAL = PROFILES.local;

export const STREAM_HELP = `Usage: neuralake stream [table] [options]

Stream generated neural recordings (${LOCAL.neurons} neurons per writer, 10 columns)
into a Delta table with several writers while compaction and vacuum run
alongside, then verify that every acknowledged row is in the table exactly
once. With no arguments it writes to ${LOCAL.table} on local
disk for ${formatDurationFlag(LOCAL.durationMs)}.

Each run writes <out>/streaming-<timestamp>/ (and points <out>/latest at it):
streaming_metrics.csv, streaming_results.json, summary_report.md, report.html,
and metrics.prom (the final /metrics figures, for a textfile collector).
The exit status is 1 if verification fails, a role crashed or a batch
failed: such a run is not a clean success, even when no row was lost.

With --source kafka the rows come from a Kafka topic instead of the
generator: --writers ingest roles join the consumer group --group and
consume --topic from --brokers into the table, exactly once (each partition's
progress is the table's txn <group>:<topic>:<partition>; a killed role
restarts and reads on from there), with compaction and vacuum alongside. The
table must have the neural schema (as \`neuralake produce\` sends). The run
stops at --duration, --until-idle or a signal, committing what is buffered;
its verification reads each partition again from its first offset up to the
committed one and checks that every message is in the table once, with its
rows, and nothing beyond. A message that does not fit the table goes to the
--dead-letter table (its topic, partition and offset; the verification counts
it as set aside, not missing); without one it ends the run with exit 1,
naming its partition and offset (check kafka_messages_fit). While
Kafka cannot be reached the roles wait and say so (at most every 5 s); past
--broker-timeout (default 5m with --until-idle) the run commits what it holds
and ends with exit 1, unverified, naming the broker timeout.

${CONFIG_HELP}

${GLOBAL_HELP}

Examples:
  neuralake stream
  neuralake stream s3://lab/neural_signals --duration 10m --profile production
  neuralake stream --isolation process --chaos kill-writers=5
  neuralake stream ./lab --source kafka --brokers 127.0.0.1:9092 --topic rigs \\
    --group lab --writers 2 --isolation process --chaos kill-ingest=3 --duration 1m
  neuralake stream ./lab --source kafka --topic rigs --group nightly --until-idle 30s \\
    --broker-timeout 2m --dead-letter ./lab_dead`;

/** Arguments of `stream`. */
export interface StreamArgs {
  args: ParsedArgs;
  table: string | undefined;
  json: boolean;
}

/** Parses `stream` arguments (validation of values happens with the config). */
export function parseStreamArgs(argv: string[]): StreamArgs {
  const args = parseCommandArgs("stream", argv, CONFIG_FLAGS);
  const [table] = positionals(args, ["table"], "stream", 1);
  return { args, table, json: args.values.json === true };
}

/** Runs `stream`. */
export async function runStreamCommand(parsed: StreamArgs): Promise<number> {
  const metricsAddr = metricsAddrFlag(parsed.args, "stream");
  const config = await configFromArgs(parsed.args, "stream", parsed.table);
  checkSourceFlags(config);
  if (config.source === "kafka") await checkKafka(config);
  const monitor = new JobMonitor(
    describeStoreUri(config.table).uri,
    "orchestrator",
    "orchestrator",
  );
  const location = describeStoreUri(config.table);
  const extraConfig = location.kind === "s3"
    ? { s3: redactedS3Config(await resolveS3ConfigFromEnvironment()) }
    : {};

  // SIGINT/SIGTERM stop gracefully; a second one aborts at once (main.ts exits 130).
  let signalled = 0;
  let requestStop!: () => void;
  let abort!: (status: number) => void;
  const stopSignal = new Promise<void>((resolve) => (requestStop = resolve));
  const aborted = new Promise<number>((resolve) => (abort = resolve));
  const onSignal = () => {
    signalled++;
    if (signalled === 1) {
      Deno.stderr.writeSync(
        new TextEncoder().encode(
          "\nstopping: finishing in-flight batches (press again to abort)\n",
        ),
      );
      requestStop();
    } else abort(130);
  };
  Deno.addSignalListener("SIGINT", onSignal);
  Deno.addSignalListener("SIGTERM", onSignal);

  if (metricsAddr !== undefined) {
    const server = monitor.serve(metricsAddr);
    log("stream").info("Serving /metrics and /healthz on {address}", {
      address: `${server.hostname}:${server.port}`,
    });
  }
  const tty = Deno.stderr.isTerminal() && !parsed.json;
  const encoder = new TextEncoder();
  let lastLog = 0;
  try {
    const finished = await Promise.race([
      runStream(config, {
        progress: tty,
        onEvent: (event) => monitor.observe(event),
        extraConfig,
        stopSignal,
        onProgress: (line) => {
          if (tty) Deno.stderr.writeSync(encoder.encode(`\r${line}\x1b[K`));
          else if (Date.now() - lastLog >= 5000) {
            lastLog = Date.now();
            log("stream").info("Progress: {line}", { line });
          }
        },
      }),
      aborted,
    ]);
    if (typeof finished === "number") return finished;
    const { results, dir } = finished;
    // The final figures, in the format a Prometheus textfile collector reads.
    await Deno.writeTextFile(`${dir.path}/metrics.prom`, await monitor.exporter.render());
    if (tty) Deno.stderr.writeSync(encoder.encode("\n"));
    if (parsed.json) printJson({ ...results, run_dir: dir.path });
    else {
      const t = results.totals;
      const l = results.latency_ms;
      write(formatFields([
        ["table", results.table],
        ["run", dir.path],
        ["rows acknowledged", t.rows_acknowledged.toLocaleString("en-US")],
        [
          "rows per second",
          `${Math.round(t.rows_per_second).toLocaleString("en-US")} (${
            Math.round(t.rows_per_second_writing).toLocaleString("en-US")
          } after a start-up of ${t.start_up_seconds} s)`,
        ],
        [
          "commits",
          `${t.commits} (versions ${t.versions.first ?? "-"} to ${t.versions.last ?? "-"})`,
        ],
        // A long run's percentiles come from a sketch: marked ≈.
        [
          "commit latency",
          `p50 ${approx(l.commit)}${l.commit.p50} ms, p99 ${approx(l.commit)}${l.commit.p99} ms`,
        ],
        ["visibility", `p99 ${approx(l.visibility)}${l.visibility.p99} ms`],
        [
          "compaction",
          `${results.compaction.runs} runs, ${results.compaction.files_in} files into ${results.compaction.files_out}`,
        ],
        [
          "vacuum",
          `${results.vacuum.runs} runs, ${results.vacuum.files_deleted} files (${
            formatBytes(results.vacuum.bytes_deleted)
          }) reclaimed`,
        ],
        ["on disk at the end", storageFigures(results)],
        [
          "errors",
          `${t.role_crashes} role crashes, ${t.batches_failed} failed batches, ${t.role_restarts} restarts`,
        ],
        ...(results.chaos.mode !== "none"
          ? [[
            "chaos",
            `${results.chaos.mode}: ${results.chaos.kills} kills, ${results.chaos.faults} faults injected`,
          ] as [string, string]]
          : []),
        ["verification", results.verification.passed ? "PASSED" : "FAILED"],
        ["outcome", results.clean ? "clean" : "NOT CLEAN: see errors above"],
      ]));
      for (const c of results.verification.checks) {
        if (!c.passed) write(`  FAILED ${c.name}: ${c.detail}\n`);
      }
      write(`report: ${dir.reportHtml}\n`);
    }
    return results.clean ? 0 : 1;
  } finally {
    await monitor.close();
    Deno.removeSignalListener("SIGINT", onSignal);
    Deno.removeSignalListener("SIGTERM", onSignal);
  }
}

/** Refuses a Kafka source without its flags, and Kafka flags without a Kafka source. */
export function checkSourceFlags(config: StreamConfig): void {
  const { brokers, topic, group, untilIdleMs, brokerTimeoutMs, deadLetter } = config.kafka;
  if (config.source !== "kafka") {
    if (untilIdleMs > 0) throw new UsageError("--until-idle needs --source kafka", "stream");
    if (brokerTimeoutMs > 0) {
      throw new UsageError("--broker-timeout needs --source kafka", "stream");
    }
    if (deadLetter) throw new UsageError("--dead-letter needs --source kafka", "stream");
    if (config.chaos.mode === "kill-ingest") {
      throw new UsageError(
        "--chaos kill-ingest needs --source kafka; kill-writers kills writers",
        "stream",
      );
    }
    return;
  }
  if (config.chaos.mode === "kill-writers") {
    throw new UsageError(
      "--source kafka runs ingest roles, not writers: use --chaos kill-ingest[=N]",
      "stream",
    );
  }
  if (brokers.length === 0) {
    throw new UsageError(
      "--source kafka: missing --brokers host:port (or NEURALAKE_KAFKA_BROKERS)",
      "stream",
    );
  }
  for (const broker of brokers) {
    if (!/^[^\s:]+:\d{1,5}$/.test(broker)) {
      throw new UsageError(`--brokers: "${broker}" is not host:port`, "stream");
    }
  }
  if (!topic) throw new UsageError("--source kafka: missing --topic <name>", "stream");
  if (!group) throw new UsageError("--source kafka: missing --group <id>", "stream");
}

/** How long the broker has to answer before the run is refused. */
const KAFKA_CHECK_MS = 15_000;

/** Refuses to start when the brokers cannot be reached or the topic does not exist. */
async function checkKafka(config: StreamConfig): Promise<void> {
  const { brokers, topic } = config.kafka;
  const where = brokers.join(",");
  let timer: ReturnType<typeof setTimeout> | undefined;
  let partitions: number;
  // The Kafka client is loaded only by runs that read Kafka.
  const { describeKafkaError, partitionCount } = await import("../sources/kafka.ts");
  try {
    partitions = await Promise.race([
      partitionCount({ brokers, clientId: "neuralake-stream" }, topic),
      new Promise<never>((_, reject) => {
        timer = setTimeout(
          () => reject(new Error(`no answer within ${formatDurationFlag(KAFKA_CHECK_MS)}`)),
          KAFKA_CHECK_MS,
        );
      }),
    ]);
  } catch (error) {
    throw new Error(
      `Cannot reach Kafka at ${where} (--brokers): ${describeKafkaError(error)}`,
    );
  } finally {
    clearTimeout(timer);
  }
  if (partitions === 0) {
    throw new Error(
      `Kafka topic ${topic} does not exist at ${where}: create it (neuralake produce does) ` +
        `or name another --topic`,
    );
  }
}

/** `≈` before the percentiles of a summary taken from a sketch (metrics/latency_stats.ts). */
function approx(summary: { approximate?: true }): string {
  return summary.approximate ? "≈" : "";
}

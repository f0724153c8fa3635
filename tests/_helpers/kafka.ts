/**
 * The Kafka test environment: the local broker started by
 * `scripts/kafka-server.sh start` (Apache Kafka in KRaft mode, jars cached
 * under .cache/), found through the variables that script exports.
 *
 * Invariants:
 * - A Kafka test declares `ignore: KAFKA_IGNORE`: it is skipped only when
 *   `NEURALAKE_KAFKA_BROKERS` is unset outside CI. Under `deno task test`
 *   the broker always runs, and in CI a missing broker fails every Kafka
 *   test with a message that says how to start one; none passes silently.
 * - Each test works on topics and groups of its own (`uniqueTopic`), so
 *   tests never read each other's messages.
 */

const BROKERS = Deno.env.get("NEURALAKE_KAFKA_BROKERS") ?? "";

/** True when the Kafka tests are to be skipped: no broker, and not in CI. */
export const KAFKA_IGNORE = BROKERS === "" && !Deno.env.get("CI");

/** The test broker's `host:port` list, or throws with instructions. */
export function kafkaBrokers(): string[] {
  const list = BROKERS.split(",").map((b) => b.trim()).filter((b) => b !== "");
  if (list.length === 0) {
    throw new Error(
      "Kafka tests need the local Kafka test broker, and NEURALAKE_KAFKA_BROKERS is not set: run " +
        'the tests with `deno task test`, or first `eval "$(scripts/kafka-server.sh start)"`',
    );
  }
  return list;
}

/** A topic (or group) name no other test uses: `<label>-<uuid>`. */
export function uniqueTopic(label: string): string {
  return `${label}-${crypto.randomUUID()}`;
}

/**
 * Stops the test broker and starts it again on the same port with the same
 * data (`scripts/kafka-server.sh restart`), for tests of clients that must
 * survive a broker restart. Resolves once the broker answers again.
 */
export async function restartKafkaBroker(): Promise<void> {
  await serverScript("restart");
}

/** Runs `scripts/kafka-server.sh <command>` on the test broker. */
async function serverScript(command: "restart" | "halt"): Promise<void> {
  const server = Deno.env.get("NEURALAKE_KAFKA_SERVER");
  if (!server) {
    throw new Error(
      `Running \`kafka-server.sh ${command}\` on the Kafka test broker needs ` +
        "NEURALAKE_KAFKA_SERVER, which `scripts/kafka-server.sh start` exports: run the tests " +
        "with `deno task test`",
    );
  }
  const script = new URL("../../scripts/kafka-server.sh", import.meta.url).pathname;
  const out = await new Deno.Command("sh", {
    args: [script, command, server],
    stdout: "null",
    stderr: "piped",
  }).output();
  if (!out.success) {
    throw new Error(
      `\`kafka-server.sh ${command}\` of the Kafka test broker failed: ${
        new TextDecoder().decode(out.stderr)
      }`,
    );
  }
}

/**
 * Stops the test broker but keeps its port and data
 * (`scripts/kafka-server.sh halt`): clients find nothing listening until
 * `restartKafkaBroker` starts it again.
 */
export async function haltKafkaBroker(): Promise<void> {
  await serverScript("halt");
}

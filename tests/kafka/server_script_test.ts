/**
 * The test-server scripts as several checkouts use them: worktrees share one
 * .cache through a symlink, so every checkout must name a server's state
 * directory alike. Otherwise one checkout's `start` sweeps the running server
 * of another as if it were dead (deleting a live broker's log directory).
 */

import { assertEquals } from "../_helpers/assert.ts";
import { KAFKA_IGNORE } from "../_helpers/kafka.ts";

const REPO = new URL("../../", import.meta.url).pathname.replace(/\/$/, "");

/** Runs `script status <dir>` from a path that reaches this checkout through a symlink. */
async function statusThroughSymlink(
  script: string,
  dir: string,
): Promise<{ code: number; out: string }> {
  const tmp = await Deno.makeTempDir({ prefix: "neuralake-link-" });
  try {
    await Deno.symlink(REPO, `${tmp}/checkout`);
    const out = await new Deno.Command("sh", {
      args: [`${tmp}/checkout/scripts/${script}`, "status", dir],
      stdout: "piped",
      stderr: "piped",
    }).output();
    const text = new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr);
    return { code: out.code, out: text.trim() };
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
}

Deno.test({
  name: "kafka-server.sh names the running broker alike from a checkout reached through a symlink",
  ignore: KAFKA_IGNORE,
  async fn() {
    const dir = Deno.env.get("NEURALAKE_KAFKA_SERVER") ?? "";
    assertEquals(await Deno.realPath(dir), dir);
    const { code, out } = await statusThroughSymlink("kafka-server.sh", dir);
    assertEquals({ code, running: out.startsWith("kafka-server: Kafka running on 127.0.0.1:") }, {
      code: 0,
      running: true,
    });
  },
});

Deno.test({
  name: "s3-server.sh names the running server alike from a checkout reached through a symlink",
  ignore: !Deno.env.get("NEURALAKE_S3_SERVER") && !Deno.env.get("CI"),
  async fn() {
    const dir = Deno.env.get("NEURALAKE_S3_SERVER") ?? "";
    assertEquals(await Deno.realPath(dir), dir);
    const { code, out } = await statusThroughSymlink("s3-server.sh", dir);
    assertEquals({ code, running: out.startsWith("s3-server: MinIO running on 127.0.0.1:") }, {
      code: 0,
      running: true,
    });
  },
});

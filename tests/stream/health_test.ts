/**
 * `/healthz` end to end: a real `stream` whose commits start failing half way
 * (`--chaos disk-full`) answers 200 while its writer commits, then 503 with a
 * JSON reason naming the failing role once the failures outlast the
 * threshold (`NEURALAKE_HEALTH_COMMIT_FAILURE`, short here).
 */

import { assert, assertEquals } from "../_helpers/assert.ts";
import { stream } from "../_helpers/stream_run.ts";
import { freePort } from "../_helpers/cli.ts";

interface Answer {
  status: number;
  body: { status: string; reasons: string[] };
}

Deno.test("/healthz answers 200 while commits land, then 503 naming the writer whose commits fail", async () => {
  const dir = await Deno.makeTempDir({ prefix: "neuralake-healthz-" });
  try {
    const port = freePort();
    const answers: Answer[] = [];
    // Polls until a 503 comes, or the endpoint closes (the run ended), or 90 s.
    const during = async () => {
      const deadline = Date.now() + 90_000;
      while (Date.now() < deadline && !answers.some((a) => a.status === 503)) {
        await new Promise((r) => setTimeout(r, 250));
        try {
          const response = await fetch(`http://127.0.0.1:${port}/healthz`);
          answers.push({ status: response.status, body: await response.json() });
        } catch (error) {
          if (!(error instanceof TypeError)) throw error;
          if (answers.length > 0) return; // closed: the run is over
        }
      }
    };
    await stream(`${dir}/table`, `${dir}/out`, [
      "--duration",
      "24s",
      "--writers",
      "1",
      "--no-compaction",
      "--no-vacuum",
      "--chaos",
      "disk-full",
      "--metrics-addr",
      `127.0.0.1:${port}`,
    ], { env: { NEURALAKE_HEALTH_COMMIT_FAILURE: "2s" }, during });

    const first503 = answers.findIndex((a) => a.status === 503);
    assert(first503 >= 0, `no 503 during the run: ${JSON.stringify(answers.at(-1))}`);
    // Healthy while the writer committed, before the disk filled.
    assert(first503 > 0, "no answer before the first 503");
    assertEquals(answers[0], { status: 200, body: { status: "ok", reasons: [] } });
    assert(answers.slice(0, first503).every((a) => a.status === 200));
    const sick = answers[first503]!.body;
    assertEquals(sick.status, "unhealthy");
    assert(
      sick.reasons.some((r) =>
        /^commits have failed for \d+ s \(threshold 2 s\)/.test(r) && r.includes("writer-0")
      ),
      JSON.stringify(sick),
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

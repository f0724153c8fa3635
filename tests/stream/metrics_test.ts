/**
 * `stream --metrics-addr`: /metrics and /healthz scraped during a real short
 * run, where the roles report from workers to the orchestrator's one
 * endpoint, and the final figures (metrics.prom) equal the run's results.
 */

import { assert, assertEquals } from "../_helpers/assert.ts";
import { checkRun, everyRoleWorked, stream } from "../_helpers/stream_run.ts";
import { freePort } from "../_helpers/cli.ts";
import { type Exposition, parseExposition, total } from "../_helpers/prometheus.ts";

Deno.test("stream serves /metrics and /healthz while it runs, and the figures add up", async () => {
  const dir = await Deno.makeTempDir({ prefix: "neuralake-metrics-" });
  const port = freePort();
  const base = `http://127.0.0.1:${port}`;
  const scrapes: Exposition[] = [];
  const health: { status: number; body: { status: string; reasons: string[] } }[] = [];
  const during = async () => {
    const deadline = Date.now() + 150_000;
    while (Date.now() < deadline && scrapes.length < 2) {
      await new Promise((r) => setTimeout(r, 500));
      try {
        const response = await fetch(`${base}/metrics`);
        assertEquals(
          response.headers.get("content-type"),
          "text/plain; version=0.0.4; charset=utf-8",
        );
        const x = parseExposition(await response.text());
        const rows = total(x, "neuralake_rows_committed_total");
        const both = ["writer-0", "writer-1"].every((w) =>
          total(x, "neuralake_commits_total", { role_id: w }) > 0
        );
        // A first scrape with rows, then one with more rows from both writers: the values move.
        const first = scrapes[0];
        if (
          first === undefined
            ? rows > 0
            : both && rows > total(first, "neuralake_rows_committed_total")
        ) {
          scrapes.push(x);
          const h = await fetch(`${base}/healthz`);
          health.push({ status: h.status, body: await h.json() });
        }
      } catch (error) {
        if (!(error instanceof TypeError)) throw error; // not listening yet
      }
    }
  };
  // The run goes on (SIGINT) until the two scrapes are taken and every role
  // has done what checkRun needs, however slowly a loaded machine starts them.
  const run = await stream(`${dir}/table`, `${dir}/out`, [
    "--duration",
    "600s",
    "--rate",
    "1024000",
    "--writers",
    "2",
    "--metrics-addr",
    `127.0.0.1:${port}`,
  ], { during, stopWhen: everyRoleWorked(2) });
  checkRun(run, 2);
  assertEquals(scrapes.length, 2, "no two scrapes with rows during the run");
  const live = scrapes[1]!;
  for (const writer of ["writer-0", "writer-1"]) {
    assert(total(live, "neuralake_commits_total", { role_id: writer }) > 0, `${writer} reported`);
  }
  assert(total(live, "neuralake_commit_latency_seconds_count") > 0);
  assert(total(live, "neuralake_table_version") > 0);
  assert(total(live, "neuralake_process_resident_memory_bytes", { role: "orchestrator" }) > 0);
  assertEquals(health.map((h) => h.status), [200, 200]);
  assertEquals(health[0]!.body, { status: "ok", reasons: [] });

  // The final figures equal the run's results.
  const final = parseExposition(
    await Deno.readTextFile(`${dir}/out/${run.results.run_id}/metrics.prom`),
  );
  const t = run.results.totals;
  assertEquals(total(final, "neuralake_rows_committed_total"), t.rows_acknowledged);
  assertEquals(total(final, "neuralake_commits_total"), t.commits);
  assertEquals(total(final, "neuralake_commit_conflicts_total"), t.conflicts);
  assertEquals(total(final, "neuralake_files_compacted_total"), run.results.compaction.files_in);
  assertEquals(total(final, "neuralake_files_vacuumed_total"), run.results.vacuum.files_deleted);
  assertEquals(total(final, "neuralake_batches_failed_total"), t.batches_failed);
  // The endpoint is gone with the run: it binds only while the job runs.
  const after = await fetch(`${base}/metrics`).then(() => "open", () => "closed");
  assertEquals(after, "closed");
});

Deno.test("stream in process isolation reports every child process's figures on the one endpoint", async () => {
  const dir = await Deno.makeTempDir({ prefix: "neuralake-metrics-proc-" });
  const port = freePort();
  let seen: Exposition | undefined;
  // Each role's process may take many seconds to start on a loaded machine:
  // the run goes on (SIGINT) until the endpoint has shown every role's
  // figures and the roles have done what checkRun needs.
  const roles = ["writer-0", "writer-1", "compactor-0", "vacuum-0"];
  const during = async () => {
    const deadline = Date.now() + 150_000;
    while (Date.now() < deadline && seen === undefined) {
      await new Promise((r) => setTimeout(r, 500));
      try {
        const x = parseExposition(await (await fetch(`http://127.0.0.1:${port}/metrics`)).text());
        const fromEach = roles.every((id) =>
          total(x, "neuralake_process_resident_memory_bytes", { role_id: id }) > 0
        );
        if (fromEach && total(x, "neuralake_rows_committed_total") > 0) seen = x;
      } catch (error) {
        if (!(error instanceof TypeError)) throw error;
      }
    }
  };
  const run = await stream(`${dir}/table`, `${dir}/out`, [
    "--duration",
    "600s",
    "--rate",
    "1024000",
    "--writers",
    "2",
    "--isolation",
    "process",
    "--metrics-addr",
    `127.0.0.1:${port}`,
  ], { during, stopWhen: everyRoleWorked(2, { maintenance: false }) });
  checkRun(run, 2, { maintenance: false });
  assert(seen, `the endpoint never showed figures from each of ${roles.join(", ")} with rows`);
  // Each role is its own process here: its resident memory is its own series.
  const rss = seen.samples.filter((s) => s.name === "neuralake_process_resident_memory_bytes");
  assert(new Set(rss.map((s) => s.labels.role_id)).size >= 4, JSON.stringify(rss));
});

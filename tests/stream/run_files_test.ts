/**
 * A stream's run files stay within --run-files-max: the metrics CSV is cut
 * into gzipped segments and the oldest deleted, while the run's figures
 * (which come from memory, not from the CSV) count every batch.
 */

import { assert, assertEquals } from "../_helpers/assert.ts";
import { stream } from "../_helpers/stream_run.ts";

const CAP = 16 * 1024;

Deno.test("stream --run-files-max keeps the metrics CSV within the cap, in gzipped segments with the header", async () => {
  const dir = await Deno.makeTempDir({ prefix: "run-files-" });
  // Three writers committing every 20 ms leave about 16 KiB of events in
  // 8 s: a cap of 16 KiB is cut into 4 KiB segments.
  const run = await stream(`${dir}/t`, `${dir}/runs`, [
    "--duration",
    "8s",
    "--batch-interval",
    "20ms",
    "--batch-rows",
    "2048",
    "--run-files-max",
    "16KiB",
    "--json",
  ]);
  assertEquals(run.status.code, 0, run.stderr.slice(-2000));
  assert(run.results.verification.passed, JSON.stringify(run.results.verification.checks));
  const runDir = `${dir}/runs/${run.results.run_id}`;
  const names = [...Deno.readDirSync(runDir)].map((e) => e.name)
    .filter((n) => n.startsWith("streaming_metrics")).sort();
  const segments = names.filter((n) => /^streaming_metrics\.\d{6}\.csv\.gz$/.test(n));
  assert(segments.length >= 1, names.join(", "));
  assert(!names.includes("streaming_metrics.000001.csv.gz"), `the oldest was kept: ${names}`);
  let kept = 0;
  for (const name of names) kept += (await Deno.stat(`${runDir}/${name}`)).size;
  assert(kept <= CAP + 512, `${kept} bytes of metrics kept, cap ${CAP}`);
  const header = (await Deno.readTextFile(`${runDir}/streaming_metrics.csv`)).split("\n")[0]!;
  const file = await Deno.open(`${runDir}/${segments[0]}`);
  const text = await new Response(file.readable.pipeThrough(new DecompressionStream("gzip")))
    .text();
  assertEquals(text.split("\n")[0], header);
  assert(text.split("\n").slice(1).some((l) => l.includes("batch_committed")), text.slice(0, 500));
  // Every batch is counted whatever the CSV kept.
  const commits = run.results.writers.reduce(
    (n: number, w: { commits: number }) => n + w.commits,
    0,
  );
  assert(commits >= 300, `only ${commits} commits: the CSV did not need cutting`);
});

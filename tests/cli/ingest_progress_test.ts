/**
 * A long `ingest` shows it is moving: a progress line on a terminal, and an
 * info log line at most every 10 s for a log file. Plus `version --json`.
 */

import { assert, assertEquals } from "../_helpers/assert.ts";
import { cli } from "../_helpers/cli.ts";
import { IngestProgress } from "../../src/cli/ingest.ts";
import { ProgressLine } from "../../src/cli/progress.ts";

Deno.test("IngestProgress shows the rows and batches committed, and logs them every 10 s", () => {
  let now = 0;
  const shown: string[] = [];
  const logged: string[] = [];
  const progress = new IngestProgress(
    new ProgressLine(true, (text) => shown.push(text), () => now, 200),
    {
      info: (_message: string, props: Record<string, unknown>) =>
        void logged.push(String(props.text)),
    },
    () => now,
  );
  progress.committed(1000, 3);
  now = 100;
  progress.committed(500, 4); // within 200 ms of the last update: not shown
  now = 9_000;
  progress.committed(2000, 5);
  now = 10_500;
  progress.committed(1, 6);
  progress.clear();
  assertEquals(shown, [
    "\r\x1b[2Kingest: committed 1,000 rows in 1 batches, table version 3",
    "\r\x1b[2Kingest: committed 3,500 rows in 3 batches, table version 5",
    "\r\x1b[2Kingest: committed 3,501 rows in 4 batches, table version 6",
    "\r\x1b[2K",
  ]);
  assertEquals(logged, ["3,501 rows in 4 batches, table version 6"]);
});

Deno.test("version --json prints the version as JSON", async () => {
  const text = await cli(["version"]);
  assertEquals(text.code, 0, text.stderr);
  const json = await cli(["--version", "--json"]);
  assertEquals(json.code, 0, json.stderr);
  const version = JSON.parse(json.stdout).version;
  assert(typeof version === "string" && text.stdout.trim() === `neuralake ${version}`, json.stdout);
});

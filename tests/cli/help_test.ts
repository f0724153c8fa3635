/**
 * Every command answers --help, and the entry point loads a command's module
 * only when that command runs, so that `neuralake --help` or a local `scan`
 * does not first load the Kafka client, the stream's roles and the S3 client.
 */

import { assert, assertEquals } from "../_helpers/assert.ts";
import { cli } from "../_helpers/cli.ts";

Deno.test("main.ts imports no command module statically", async () => {
  const main = await Deno.readTextFile(new URL("../../main.ts", import.meta.url));
  const statics = [...main.matchAll(/^import [^;]*? from "([^"]+)";/gms)].map((m) => m[1]!);
  assert(statics.length > 0, "no static imports found: the pattern is stale");
  const allowed = [
    "./src/util/errors.ts",
    "./src/util/log.ts",
    "./src/version.ts",
    "./src/cli/args.ts",
    "./src/cli/output.ts",
    "./src/util/redact.ts",
  ];
  assertEquals(statics.filter((s) => !allowed.includes(s)), []);
  // Each command's module is a literal dynamic import, which deno compile includes.
  const dynamic = [...main.matchAll(/await import\("([^"]+)"\)/g)].map((m) => m[1]!);
  assert(dynamic.includes("./src/cli/scan.ts") && dynamic.includes("./src/cli/ingest.ts"));
});

Deno.test("every command answers --help with its usage and the global options", async () => {
  const top = await cli(["--help"]);
  assertEquals(top.code, 0, top.stderr);
  const commands = top.stdout.split("Commands:\n")[1]!.split("\n\n")[0]!.split("\n")
    .map((line) => line.trim().split(" ")[0]!);
  assert(commands.length >= 16, top.stdout);
  for (const command of commands) {
    for (const flag of ["--help", "-h"]) {
      const r = await cli([command, flag]);
      assertEquals(r.code, 0, `${command} ${flag}: ${r.stderr}`);
      assert(r.stdout.includes(`Usage: neuralake ${command}`), `${command}: ${r.stdout}`);
      assert(r.stdout.includes("--json") && r.stdout.includes("--log-level"), command);
    }
  }
});

Deno.test("a misspelt command is answered with the closest real one and exit status 2", async () => {
  const r = await cli(["optimise", "t"]);
  assertEquals(r.code, 2, r.stderr);
  assert(r.stderr.includes('Unknown command "optimise"; did you mean optimize?'), r.stderr);
  const far = await cli(["zzzzzzzz"]);
  assertEquals(far.code, 2);
  assert(!far.stderr.includes("did you mean"), far.stderr);
});

Deno.test("options with a default say it in the help", async () => {
  /** The help block of `flag` in `text`: its line and the indented lines after it. */
  const block = (text: string, flag: string) => {
    const lines = text.split("\n");
    const at = lines.findIndex((l) => new RegExp(`^  ${flag}\\b`).test(l));
    if (at < 0) return undefined;
    let end = at + 1;
    while (end < lines.length && /^ {6,}\S/.test(lines[end]!)) end++;
    return lines.slice(at, end).join(" ");
  };
  const expectations: [string, string[]][] = [
    ["stream", ["--partition-by", "--metrics-addr", "--duration", "--writers"]],
    ["writer", ["--partition-by", "--metrics-addr", "--batch-rows"]],
    ["scan", ["--limit", "--version", "--format", "--columns"]],
    ["describe", ["--version"]],
    ["history", ["--limit", "--version"]],
    ["verify", ["--version"]],
    ["create", ["--partition-by"]],
    ["write", ["--partition-by", "--target-file-size", "--codec", "--mode"]],
    ["vacuum", ["--retention", "--metrics-addr", "--duration"]],
    ["ingest", ["--topic", "--group", "--dead-letter", "--until-idle", "--broker-timeout"]],
    ["produce", ["--topic", "--messages", "--rate", "--duration"]],
  ];
  for (const [command, flags] of expectations) {
    const help = (await cli([command, "--help"])).stdout;
    for (const flag of flags) {
      const text = block(help, flag);
      assert(text !== undefined, `${command} --help lacks ${flag}`);
      assert(/default|required/.test(text), `${command} ${flag} states no default: ${text}`);
    }
  }
});

Deno.test("neuralake help <command> shows that command's help; no command at all is a usage error on stderr", async () => {
  const help = await cli(["help", "vacuum"]);
  assertEquals(help.code, 0, help.stderr);
  assert(help.stdout.startsWith("Usage: neuralake vacuum"), help.stdout);
  const none = await cli([]);
  assertEquals(none.code, 2);
  assertEquals(none.stdout, "");
  assert(none.stderr.includes("Usage: neuralake <command>"), none.stderr);
});

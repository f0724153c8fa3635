/**
 * `deno task bench --scenario <name>`: an exact name runs only its
 * scenarios, any other text every scenario whose name contains it.
 */

import { BenchUsageError, chooseScenarios, parseBenchArgs } from "../../bench/main.ts";
import { assertEquals, assertThrows } from "../_helpers/assert.ts";

const SCENARIOS = [
  { name: "streaming append" },
  { name: "limit" },
  { name: "compaction" },
  { name: "compaction" },
  { name: "streaming append on S3" },
  { name: "small appends on S3" },
];
const names = (wanted: string[]) => chooseScenarios(SCENARIOS, wanted).map((s) => s.name);

Deno.test("chooseScenarios runs a scenario named exactly without those whose names contain it", () => {
  assertEquals(names(["streaming append"]), ["streaming append"]);
  assertEquals(names(["streaming append", "limit"]), ["streaming append", "limit"]);
  assertEquals(names(["compaction"]), ["compaction", "compaction"]);
});

Deno.test("chooseScenarios runs every scenario whose name contains a partial name, or all for none", () => {
  assertEquals(names(["S3"]), ["streaming append on S3", "small appends on S3"]);
  assertEquals(names(["streaming"]), ["streaming append", "streaming append on S3"]);
  assertEquals(names([]).length, SCENARIOS.length);
  assertEquals(names(["nothing"]), []);
});

Deno.test("parseBenchArgs() refuses an unknown flag, a bad value and an unknown scenario by name", () => {
  const refused = (argv: string[]) => {
    const error = assertThrows(() => parseBenchArgs(argv, SCENARIOS));
    assertEquals(error instanceof BenchUsageError, true, String(error));
    return error.message;
  };
  assertEquals(
    refused(["--scenario", "nope"]),
    '--scenario "nope" names no scenario; the scenarios are: streaming append, limit, ' +
      "compaction, streaming append on S3, small appends on S3",
  );
  assertEquals(refused(["--scenario", ""]).startsWith('--scenario "" names no scenario'), true);
  for (const bad of ["x", "0", "-1", "1.5", "1e3", ""]) {
    assertEquals(
      refused([`--repetitions=${bad}`]),
      `--repetitions must be a whole number of 1 or more, got "${bad}"`,
    );
  }
  assertEquals(
    refused(["--repetition", "3"]),
    "Unknown option --repetition; did you mean --repetitions?",
  );
  assertEquals(refused(["--frobnicate"]), "Unknown option --frobnicate");
  assertEquals(refused(["--scenario"]).includes("--scenario"), true);
  assertEquals(refused(["extra"]).includes("extra"), true);
});

Deno.test("parseBenchArgs() reads the flags it knows", () => {
  assertEquals(parseBenchArgs(["--quick", "--scenario", "S3", "--json"], SCENARIOS), {
    help: false,
    quick: true,
    json: true,
    repetitions: 3,
    wanted: ["S3"],
  });
  assertEquals(parseBenchArgs(["--repetitions", "7"], SCENARIOS).repetitions, 7);
  assertEquals(parseBenchArgs([], SCENARIOS).repetitions, 5);
});

const BENCH = new URL("../../bench/main.ts", import.meta.url).pathname;

async function bench(args: string[]) {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "--quiet", BENCH, ...args],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const decode = (b: Uint8Array) => new TextDecoder().decode(b);
  return { code: out.code, stdout: decode(out.stdout), stderr: decode(out.stderr) };
}

Deno.test("deno task bench with a bad flag or value exits 2 with a message naming it, no stack trace", async () => {
  for (
    const [args, message] of [
      [["--scenario", "nope"], '--scenario "nope" names no scenario; the scenarios are: '],
      [["--repetitions", "x"], '--repetitions must be a whole number of 1 or more, got "x"'],
      [["--quik"], "Unknown option --quik; did you mean --quick?"],
    ] as const
  ) {
    const r = await bench([...args]);
    assertEquals(r.code, 2, r.stderr);
    assertEquals(r.stderr.startsWith(`error: ${message}`), true, r.stderr);
    assertEquals(/\n\s+at /.test(r.stderr), false, r.stderr);
    assertEquals(r.stderr.includes('Run "deno task bench --help" for usage.'), true, r.stderr);
  }
  const help = await bench(["--help"]);
  assertEquals(help.code, 0, help.stderr);
  for (
    const listed of [
      "--scenario <name>",
      "--repetitions <N>",
      "--quick",
      "--json",
      "  limit",
      "  bulk append",
    ]
  ) {
    assertEquals(help.stdout.includes(listed), true, help.stdout);
  }
});

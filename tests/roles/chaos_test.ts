/** The chaos plan: seeded, inside the run, aimed at every crash window of each role. */

import { ChaosScheduler, planChaos, planFromStart, planKills } from "../../src/roles/chaos.ts";
import { chaosFlag } from "../../src/cli/stream_config.ts";
import { UsageError } from "../../src/cli/args.ts";
import { assert, assertEquals, assertThrows } from "../_helpers/assert.ts";

const ROLES = { writers: 3, compactor: true, vacuum: true };

Deno.test("planKills() spreads kills over the run and uses every way of killing", () => {
  const kills = planKills(6, 3, 60_000, 42);
  assertEquals(kills.length, 6);
  for (const k of kills) {
    assert(k.atMs >= 6_000 && k.atMs <= 48_000, `kill at ${k.atMs}`);
    assert(k.writer >= 0 && k.writer < 3);
  }
  assertEquals(
    new Set(kills.map((k) => k.method)),
    new Set(["random", "after-upload", "after-commit"]),
  );
  assertEquals(planKills(6, 3, 60_000, 42), kills, "seeded");
});

Deno.test("planChaos() kills the compactor mid-rewrite, after a commit and at random", () => {
  const plan = planChaos({ mode: "kill-compactor", kills: 3, partitionMs: 0 }, ROLES, 20_000, 7);
  assertEquals(plan.length, 3);
  assertEquals(new Set(plan.map((a) => a.kind === "kill" && a.target)), new Set(["compactor-0"]));
  assertEquals(
    new Set(plan.map((a) => a.kind === "kill" && a.method)),
    new Set(["after-upload", "after-commit", "random"]),
  );
  for (const a of plan) assert(a.atMs >= 2_000 && a.atMs <= 16_000, `at ${a.atMs}`);
  assertEquals(
    planChaos({ mode: "kill-compactor", kills: 3, partitionMs: 0 }, ROLES, 20_000, 7),
    plan,
  );
});

Deno.test("planChaos() kills vacuum mid-delete and at random, and plans nothing for a role that does not run", () => {
  const plan = planChaos({ mode: "kill-vacuum", kills: 2, partitionMs: 0 }, ROLES, 10_000, 1);
  assertEquals(plan.map((a) => a.kind === "kill" && a.method).sort(), ["mid-delete", "random"]);
  assertEquals(
    planChaos(
      { mode: "kill-vacuum", kills: 2, partitionMs: 0 },
      { ...ROLES, vacuum: false },
      10_000,
      1,
    ),
    [],
  );
});

Deno.test("planChaos() cuts one role off for the partition's duration", () => {
  const plan = planChaos({ mode: "partition", kills: 0, partitionMs: 3_000 }, ROLES, 20_000, 9);
  assertEquals(plan.length, 1);
  const p = plan[0]!;
  assert(p.kind === "partition");
  assertEquals(p.durationMs, 3_000);
  assertEquals(p.atMs, 5_000);
  assert(/^(writer-[0-2]|compactor-0)$/.test(p.target), p.target);
  const alone = planChaos(
    { mode: "partition", kills: 0, partitionMs: 1 },
    {
      writers: 0,
      compactor: false,
      vacuum: true,
    },
    20_000,
    9,
  );
  assertEquals(alone.map((a) => a.target), ["vacuum-0"]);
  assertEquals(planChaos({ mode: "storage-faults", kills: 3, partitionMs: 0 }, ROLES, 1, 1), []);
});

Deno.test("ChaosScheduler runs due actions and drops those after stop(), which returns them", async () => {
  const done: string[] = [];
  const late = { kind: "kill", atMs: 60_000, target: "writer-1", method: "random" } as const;
  const scheduler = new ChaosScheduler([
    { kind: "kill", atMs: 1, target: "writer-0", method: "random" },
    late,
  ], (a) => done.push(a.target));
  scheduler.start();
  await new Promise((r) => setTimeout(r, 30));
  assertEquals(scheduler.stop(), [late], "the action that did not happen is reported");
  assertEquals(done, ["writer-0"]);
});

Deno.test("planFromStart() spreads the actions over what is left of the run once every role is up", () => {
  const settings = { mode: "kill-compactor", kills: 3, partitionMs: 0 } as const;
  // Roles up 12 s into a 20 s run: every kill falls in the 8 s left, none before the roles exist.
  const plan = planFromStart(settings, ROLES, 20_000, 12_000, 7);
  assertEquals(plan.length, 3);
  for (const a of plan) {
    assert(a.atMs >= 800 && a.atMs <= 6_400, `at ${a.atMs} after the roles are up`);
  }
  // Timed from the start, the same plan's kills would have fallen before or past those 8 s.
  const fromStart = planChaos(settings, ROLES, 20_000, 7);
  assert(fromStart.some((a) => a.atMs < 12_000), JSON.stringify(fromStart));
  assertEquals(planFromStart(settings, ROLES, 20_000, 0, 7), fromStart);
});

Deno.test("--chaos values map to settings, and a bad one names the modes", () => {
  assertEquals(chaosFlag("kill-vacuum=2", "stream"), [["chaos.mode", "kill-vacuum"], [
    "chaos.kills",
    "2",
  ]]);
  assertEquals(chaosFlag("storage-faults=0.1", "stream"), [
    ["chaos.mode", "storage-faults"],
    ["chaos.faultRate", "0.1"],
  ]);
  assertEquals(chaosFlag("partition=5s", "stream"), [
    ["chaos.mode", "partition"],
    ["chaos.partitionMs", "5s"],
  ]);
  const error = assertThrows(() => chaosFlag("kill-everyone", "stream"), "kill-compactor[=N]");
  assert(error instanceof UsageError);
  assert(assertThrows(() => chaosFlag("none=3", "stream")) instanceof UsageError);
});

Deno.test("kill-ingest kills ingest roles, cycling random, after-upload and after-commit; a partition may cut one off", () => {
  const roles = { writers: 0, ingest: 2, compactor: true, vacuum: true };
  const kills = planChaos({ mode: "kill-ingest", kills: 3, partitionMs: 0 }, roles, 10_000, 4);
  assertEquals(kills.length, 3);
  for (const k of kills) {
    assert(k.target === "ingest-0" || k.target === "ingest-1", k.target);
    assert(k.atMs >= 1_000 && k.atMs <= 8_000, String(k.atMs));
  }
  assertEquals(
    kills.map((k) => k.kind === "kill" && k.method).sort(),
    ["after-commit", "after-upload", "random"],
  );
  assertEquals(
    planChaos(
      { mode: "kill-ingest", kills: 3, partitionMs: 0 },
      { ...roles, ingest: 0 },
      10_000,
      4,
    ),
    [],
  );
  const targets = new Set<string>();
  for (let seed = 0; seed < 40; seed++) {
    const [p] = planChaos({ mode: "partition", kills: 0, partitionMs: 1_000 }, roles, 10_000, seed);
    targets.add(p!.target);
  }
  assertEquals([...targets].sort(), ["compactor-0", "ingest-0", "ingest-1"]);
});

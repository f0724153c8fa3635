/**
 * `deno task bench --scenario <name>`: an exact name runs only its
 * scenarios, any other text every scenario whose name contains it.
 */

import { chooseScenarios } from "../../bench/main.ts";
import { assertEquals } from "../_helpers/assert.ts";

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

import { assertEquals } from "../_helpers/assert.ts";
import { judgeSoak, type SoakSample, soakWindows } from "../../scripts/soak_target.ts";

Deno.test("soakWindows() compares minutes 10-20 with the last 10, or quarters of a short run", () => {
  assertEquals(soakWindows(60), { baseline: [10, 20], tail: [50, 60] });
  assertEquals(soakWindows(20), { baseline: [5, 10], tail: [15, 20] });
});

Deno.test("judgeSoak() holds a flat series and fails one that keeps growing", () => {
  const samples: SoakSample[] = [];
  for (let minute = 1; minute <= 60; minute++) {
    samples.push({
      minute,
      values: { flat: 100 + (minute % 2 ? 3 : -3), growing: 100 + minute * 2, missing: null },
    });
  }
  const verdicts = judgeSoak(samples, soakWindows(60));
  const by = Object.fromEntries(verdicts.map((v) => [v.series, v]));
  assertEquals(by.flat!.held, true);
  assertEquals(by.growing!.held, false);
  // minutes 10..20 average 130; 50..60 average 210
  assertEquals(Math.round(by.growing!.change! * 1000) / 1000, Math.round(80 / 130 * 1000) / 1000);
  assertEquals(by.missing!.held, null);
});

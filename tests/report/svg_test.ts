/** The SVG chart primitives of the run report. */

import { assert, assertEquals, assertMatch, assertNotEquals } from "../_helpers/assert.ts";
import { formatCompact, histogramChart, lineChart, niceTicks } from "../../src/report/svg.ts";
import { escapeXml } from "../../src/util/xml.ts";

const OPTIONS = { title: "T", xLabel: "x", yLabel: "y" };

function assertFinite(svg: string): void {
  assert(!/NaN|Infinity|undefined/.test(svg), svg);
  assert(svg.startsWith("<svg") && svg.endsWith("</svg>"));
}

Deno.test("escapeXml() escapes the five XML specials", () => {
  assertEquals(
    escapeXml(`<a href="x">'&'</a>`),
    "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;",
  );
});

Deno.test("niceTicks() picks round steps covering the range", () => {
  assertEquals(niceTicks(0, 100, 5), [0, 20, 40, 60, 80, 100]);
  assertEquals(niceTicks(0, 1, 2), [0, 0.5, 1]);
  assertEquals(niceTicks(0, 1, 5), [0, 0.2, 0.4, 0.6, 0.8, 1]);
  assertEquals(niceTicks(7, 93, 4), [20, 40, 60, 80]);
  assertEquals(niceTicks(3, 3), [3]);
  assertEquals(niceTicks(NaN, 3), [0]);
  assertEquals(niceTicks(-0.3, 0.3, 3), [-0.2, 0, 0.2]);
});

Deno.test("formatCompact() shortens large numbers and never prints NaN", () => {
  assertEquals(formatCompact(950), "950");
  assertEquals(formatCompact(12_500), "12.5k");
  assertEquals(formatCompact(3_200_000), "3.2M");
  assertEquals(formatCompact(2_000_000), "2M");
  assertEquals(formatCompact(0.25), "0.25");
  assertEquals(formatCompact(1.5), "1.5");
  assertEquals(formatCompact(NaN), "0");
});

Deno.test("lineChart() copes with no points, one point and flat lines", () => {
  const empty = lineChart([], OPTIONS);
  assertFinite(empty);
  assertMatch(empty, /No data/);
  const one = lineChart([{ x: 3, y: 7 }], OPTIONS);
  assertFinite(one);
  assertMatch(one, /<circle/);
  assertFinite(lineChart([{ x: 0, y: 0 }, { x: 1, y: 0 }], OPTIONS));
  assertFinite(lineChart([{ x: 5, y: 2 }, { x: 5, y: 2 }], { ...OPTIONS, step: true }));
  assertFinite(lineChart([{ x: NaN, y: 1 }, { x: 1, y: Infinity }], OPTIONS));
});

Deno.test("lineChart() with step draws horizontal then vertical segments", () => {
  const svg = lineChart([{ x: 0, y: 0 }, { x: 1, y: 10 }, { x: 2, y: 5 }], {
    ...OPTIONS,
    step: true,
  });
  const d = /<path class="line" d="([^"]+)"/.exec(svg)![1]!;
  assertMatch(d, /^M[\d.]+ [\d.]+ H[\d.]+ V[\d.]+ H[\d.]+ V[\d.]+$/);
});

Deno.test("lineChart() maps the largest y to the top part of the plot", () => {
  const svg = lineChart([{ x: 0, y: 0 }, { x: 10, y: 100 }], { ...OPTIONS, height: 260 });
  const d = /<path class="line" d="M([\d.]+) ([\d.]+) L([\d.]+) ([\d.]+)"/.exec(svg)!;
  const [x0, y0, x1, y1] = d.slice(1).map(Number) as [number, number, number, number];
  assert(x1 > x0);
  assertEquals(y0, 260 - 44); // the bottom of the plot
  assert(y1 < 50, `y of the maximum is ${y1}`);
});

Deno.test("histogramChart() draws one bar per bin and the markers", () => {
  const svg = histogramChart(
    { scale: "log", bins: [{ lo: 1, hi: 10, count: 3 }, { lo: 10, hi: 100, count: 1 }] },
    [{ label: "p50", value: 5 }, { label: "p99", value: 90 }],
    OPTIONS,
  );
  assertFinite(svg);
  assertEquals(svg.match(/<rect class="bar"/g)?.length, 2);
  assertMatch(svg, /p50 5/);
  assertMatch(svg, /p99 90/);
});

Deno.test("histogramChart() copes with no bins and with one bin of one value", () => {
  assertFinite(histogramChart({ scale: "linear", bins: [] }, [], OPTIONS));
  const one = histogramChart(
    { scale: "linear", bins: [{ lo: 7, hi: 7, count: 3 }] },
    [{ label: "p50", value: 7 }],
    OPTIONS,
  );
  assertFinite(one);
  assertEquals(one.match(/<rect class="bar"/g)?.length, 1);
  const zero = histogramChart({ scale: "linear", bins: [{ lo: 0, hi: 0, count: 1 }] }, [], OPTIONS);
  assertFinite(zero);
});

Deno.test("chart titles and labels are escaped", () => {
  const svg = lineChart([], { title: "<b>&", xLabel: '"x"', yLabel: "'y'" });
  assert(!svg.includes("<b>"));
  assertMatch(svg, /&lt;b&gt;&amp;/);
  assertMatch(svg, /&quot;x&quot;/);
});

Deno.test("lineChart() marks kills and faults on the time axis, widening it to hold them", () => {
  const svg = lineChart([{ x: 0, y: 1 }, { x: 10, y: 2 }], {
    ...OPTIONS,
    marks: [
      { x: 4, kind: "kill", label: "4 s kill <writer-0>" },
      { x: 12, kind: "fault", label: "12 s fault" },
    ],
  });
  assertEquals(svg.match(/class="chaos-mark chaos-kill"/g)?.length, 1);
  assertEquals(svg.match(/class="chaos-mark chaos-fault"/g)?.length, 1);
  assert(svg.includes("<title>4 s kill &lt;writer-0&gt;</title>"));
  // The fault at 12 s is inside the plot: the axis reaches it.
  const xs = [...svg.matchAll(/chaos-mark[^>]*x1="([\d.]+)"/g)].map((m) => Number(m[1]));
  assert(xs[1]! <= 680 - 20 && xs[1]! > xs[0]!, String(xs));
});

Deno.test("lineChart() with a shared xRange gives charts of one run the same time axis", () => {
  const xTicks = (svg: string) =>
    [...svg.matchAll(/<line class="tick-mark" x1="([\d.]+)" y1="(\d+)"/g)]
      .map((m) => m[1])
      .join(",");
  const options = { title: "t", xLabel: "run time (s)", yLabel: "y", xRange: [0, 30] as const };
  const throughput = lineChart([{ x: 0, y: 5 }, { x: 30, y: 7 }], options);
  const files = lineChart([{ x: 1.7, y: 3 }, { x: 29, y: 9 }], { ...options, step: true });
  assertEquals(xTicks(files), xTicks(throughput));
  assert(xTicks(files).length > 0);
  // Without it, the files chart starts where its data does.
  const unaligned = lineChart([{ x: 1.7, y: 3 }, { x: 29, y: 9 }], { ...OPTIONS, step: true });
  assertNotEquals(xTicks(unaligned), xTicks(throughput));
});

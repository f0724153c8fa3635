/**
 * Float and double text as Java 17 prints it (Spark 4.0's `to_json` of a
 * variant), against the JDK's own output: tests/fixtures/java17_float_text.txt,
 * written by scripts/fixtures/JavaFloatText.java on Java 17.
 */

import { javaDouble, javaFloat } from "../../src/columnar/java_text.ts";
import { assert, assertEquals } from "../_helpers/assert.ts";

const FIXTURE = new URL("../fixtures/java17_float_text.txt", import.meta.url);

function lines(kind: "f" | "d"): [string, string][] {
  return Deno.readTextFileSync(FIXTURE).split("\n")
    .filter((l) => l.startsWith(`${kind} `))
    .map((l) => {
      const [, hex, text] = l.split(" ");
      return [hex!, text!];
    });
}

function mismatches(kind: "f" | "d"): string[] {
  const view = new DataView(new ArrayBuffer(8));
  const wrong: string[] = [];
  for (const [hex, java] of lines(kind)) {
    let ours: string;
    if (kind === "f") {
      view.setUint32(0, parseInt(hex, 16));
      ours = javaFloat(view.getFloat32(0));
    } else {
      view.setBigUint64(0, BigInt(`0x${hex}`));
      ours = javaDouble(view.getFloat64(0));
    }
    if (ours !== java) wrong.push(`${hex}: Java 17 prints ${java}, we print ${ours}`);
  }
  return wrong;
}

Deno.test("javaFloat() prints every float of the fixture as Java 17's Float.toString", () => {
  assert(lines("f").length > 8000, "the fixture holds the floats");
  assertEquals(mismatches("f").slice(0, 20), []);
});

Deno.test("javaDouble() prints every double of the fixture as Java 17's Double.toString", () => {
  assert(lines("d").length > 6000, "the fixture holds the doubles");
  assertEquals(mismatches("d").slice(0, 20), []);
});

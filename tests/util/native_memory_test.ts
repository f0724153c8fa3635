import { assert, assertEquals } from "../_helpers/assert.ts";
import { canReleaseFreedMemory, Releaser } from "../../src/util/native_memory.ts";

const MODULE = new URL("../../src/util/native_memory.ts", import.meta.url).href;

// Frees 200 MB of ArrayBuffers (malloc'ed below the mmap threshold) while a
// later one stays live, as a compaction pass leaves its buffers: glibc keeps
// the freed pages resident until they are released.
const SCRIPT = `
import { releaseFreedMemory } from ${JSON.stringify(MODULE)};
const rss = () => Deno.memoryUsage().rss;
let keep = [];
for (let i = 0; i < 2000; i++) { const b = new Uint8Array(100_000); b.fill(1); keep.push(b); }
keep = [keep[keep.length - 1]];
globalThis.gc(); globalThis.gc();
await new Promise((r) => setTimeout(r, 50));
const freed = rss();
const released = releaseFreedMemory();
console.log(JSON.stringify({ freed, after: rss(), released, kept: keep.length }));
`;

async function runScript(args: string[]) {
  const dir = await Deno.makeTempDir();
  const file = `${dir}/fragment.ts`;
  await Deno.writeTextFile(file, SCRIPT);
  try {
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["run", ...args, "--v8-flags=--expose-gc", file],
      stdout: "piped",
      stderr: "piped",
    }).output();
    const stderr = new TextDecoder().decode(out.stderr);
    assert(out.success, stderr);
    return JSON.parse(new TextDecoder().decode(out.stdout)) as {
      freed: number;
      after: number;
      released: boolean;
    };
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test({
  name: "releaseFreedMemory() gives freed malloc pages back to the system",
  ignore: !canReleaseFreedMemory(),
  fn: async () => {
    const { freed, after, released } = await runScript(["-A"]);
    assert(released);
    // 200 MB were freed but stayed resident; at least half of it goes back.
    assert(freed - after > 100e6, `resident ${freed} -> ${after} bytes`);
  },
});

Deno.test("releaseFreedMemory() does nothing without the FFI permission, and never prompts", async () => {
  const { freed, after, released } = await runScript([
    `--allow-read`,
    "--no-prompt",
  ]);
  assertEquals(released, false);
  assert(after > freed - 50e6, `resident ${freed} -> ${after} bytes without a release`);
});

Deno.test("Releaser trims after work at most once per interval", () => {
  const releaser = new Releaser(10_000);
  const first = releaser.afterWork(100_000);
  assertEquals(first, canReleaseFreedMemory());
  assertEquals(releaser.afterWork(105_000), false);
  assertEquals(releaser.afterWork(110_000), canReleaseFreedMemory());
});

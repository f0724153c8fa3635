/**
 * The S3 client and the shared AWS files are loaded only when an S3 store is
 * opened: a process that works on local tables (every role of a local stream
 * job) neither loads the client's npm modules nor reads `~/.aws`.
 */

import { assert, assertEquals } from "../_helpers/assert.ts";

const PROBE = new URL("../_helpers/open_store_probe.ts", import.meta.url).pathname;

/** Runs the probe with HOME at `home`: its outcome and the files it read. */
async function probe(
  home: string,
  args: string[],
  env: Record<string, string> = {},
): Promise<{ success: boolean; stdout: string; stderr: string; read: string[] }> {
  const audit = `${home}/audit.jsonl`;
  const output = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "--quiet", PROBE, ...args],
    env: { HOME: home, DENO_AUDIT_PERMISSIONS: audit, ...env },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const stderr = new TextDecoder().decode(output.stderr);
  const lines = (await Deno.readTextFile(audit)).split("\n").filter((l) => l !== "");
  const read = lines
    .map((line) => JSON.parse(line) as { permission: string; value: string | null })
    .filter((entry) => entry.permission === "read" && entry.value !== null)
    .map((entry) => entry.value!);
  const stdout = new TextDecoder().decode(output.stdout);
  return { success: output.success, stdout, stderr, read };
}

async function fakeHome(): Promise<string> {
  const home = await Deno.makeTempDir({ prefix: "neuralake-lazy-s3-" });
  await Deno.mkdir(`${home}/.aws`);
  await Deno.writeTextFile(`${home}/.aws/config`, "[default]\nregion = eu-west-1\n");
  // Malformed: a key without its secret, which opening an S3 store refuses.
  await Deno.writeTextFile(`${home}/.aws/credentials`, "[default]\naws_access_key_id = AKID\n");
  return home;
}

Deno.test("opening a local store does not read ~/.aws; opening an S3 store does", async () => {
  const home = await fakeHome();
  try {
    const local = await probe(home, [`${home}/table`, "write"]);
    assert(local.success, `opening a local store failed: ${local.stderr}`);
    assertEquals(local.stdout.trim(), `ok file://${home}/table`);
    assert(local.read.some((path) => path.startsWith(`${home}/table`)), "the audit log works");
    const aws = local.read.filter((path) => path.includes("/.aws/"));
    assertEquals(aws, [], "a local store read the shared AWS files");

    const s3 = await probe(home, ["s3://lab/t"]);
    assert(!s3.success, "the malformed credentials file was accepted");
    assert(s3.stderr.includes(`Incomplete S3 credentials in profile default`), s3.stderr);
    assert(s3.stderr.includes(`${home}/.aws/credentials`), s3.stderr);
    assert(s3.read.includes(`${home}/.aws/config`), `read: ${s3.read.join(", ")}`);
  } finally {
    await Deno.remove(home, { recursive: true });
  }
});

/** The modules a module imports statically, transitively (`deno info`). */
async function staticGraph(entry: string): Promise<string[]> {
  const output = await new Deno.Command(Deno.execPath(), {
    args: ["info", "--json", new URL(entry, import.meta.url).pathname],
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert(output.success, new TextDecoder().decode(output.stderr));
  type Dependency = { code?: { specifier: string }; isDynamic?: boolean };
  const info = JSON.parse(new TextDecoder().decode(output.stdout)) as {
    roots: string[];
    modules: { specifier: string; dependencies?: Dependency[] }[];
    redirects: Record<string, string>;
  };
  const modules = new Map(info.modules.map((m) => [m.specifier, m]));
  const seen = new Set(info.roots);
  const queue = [...info.roots];
  while (queue.length > 0) {
    for (const dependency of modules.get(queue.pop()!)?.dependencies ?? []) {
      const specifier = dependency.code?.specifier;
      if (specifier === undefined || dependency.isDynamic) continue;
      const resolved = info.redirects[specifier] ?? specifier;
      if (!seen.has(resolved)) {
        seen.add(resolved);
        queue.push(resolved);
      }
    }
  }
  return [...seen];
}

Deno.test("the roles and the table API import the S3 client only dynamically", async () => {
  for (const entry of ["../../src/roles/run_role.ts", "../../src/ops/table.ts"]) {
    const graph = await staticGraph(entry);
    assert(graph.some((s) => s.endsWith("/src/storage/open.ts")), `${entry} opens stores`);
    const s3 = graph.filter((s) =>
      s.includes("/src/storage/s3/s3_store.ts") || s.includes("/src/storage/s3/config.ts") ||
      s.includes("@smithy/") || s.includes("@aws-crypto/") || s.includes("@aws-sdk/")
    );
    assertEquals(s3, [], `${entry} imports the S3 client statically`);
  }
});

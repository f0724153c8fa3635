/**
 * A password embedded in an S3 endpoint URL never reaches what neuralake
 * prints: errors (text and `--json`), `config show`, `health` and log lines.
 * The endpoint here cannot be parsed (a space in the host), which is the case
 * that used to be echoed whole.
 */

import { assert, assertEquals } from "../_helpers/assert.ts";
import { cli } from "../_helpers/cli.ts";

const PASSWORD = "SEKRET-pw-4711";
const ENV = {
  AWS_ENDPOINT_URL: `http://lab:${PASSWORD}@minio lab:9000`,
  AWS_ACCESS_KEY_ID: "AKIATEST",
  AWS_SECRET_ACCESS_KEY: "test-secret-value",
  AWS_PROFILE: "",
  AWS_SHARED_CREDENTIALS_FILE: "/nonexistent/credentials",
  AWS_CONFIG_FILE: "/nonexistent/config",
  NO_COLOR: "1",
};

for (
  const args of [
    ["config", "show", "s3://bucket/table"],
    ["config", "show", "s3://bucket/table", "--json"],
    ["health", "s3://bucket/table"],
    ["health", "s3://bucket/table", "--json"],
    ["describe", "s3://bucket/table"],
  ]
) {
  Deno.test(`neuralake ${args.join(" ")} names a bad endpoint without its password`, async () => {
    const out = await cli(args, { env: ENV });
    assertEquals(out.code, 1, out.stderr);
    const shown = out.stdout + out.stderr;
    assert(!shown.includes(PASSWORD), `the password shows:\n${shown}`);
    assert(shown.includes("Invalid S3 endpoint"), shown);
    assert(shown.includes("http://<redacted>@minio lab:9000"), shown);
  });
}

Deno.test("log lines never show the user information of a URL", async () => {
  const logModule = new URL("../../src/util/log.ts", import.meta.url).href;
  const config = new URL("../../deno.json", import.meta.url).pathname;
  const out = await new Deno.Command(Deno.execPath(), {
    args: [
      "eval",
      "--config",
      config,
      `import { log, setupLogging } from ${JSON.stringify(logModule)};
       setupLogging("info", "json");
       log("test").info("Proxy {proxy} failed", { proxy: "http://u:${PASSWORD}@proxy:3128" });
       setupLogging("info", "text");
       log("test").warn("Endpoint http://u:${PASSWORD}@host:9000 is down");`,
    ],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const stderr = new TextDecoder().decode(out.stderr);
  assert(out.success, stderr);
  assertEquals(stderr.split("\n").filter((l) => l.includes("<redacted>@")).length, 2, stderr);
  assert(!stderr.includes(PASSWORD), `the password shows:\n${stderr}`);
});

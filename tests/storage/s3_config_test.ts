/**
 * S3 configuration resolution: environment variables, profiles from real
 * temporary credential and config files, endpoint precedence, the refusal of
 * plain HTTP, addressing, and redaction of secrets.
 */

import {
  loadAwsSharedFiles,
  redactedS3Config,
  resolveS3Config,
} from "../../src/storage/s3/config.ts";
import { S3Credentials } from "../../src/storage/s3/credentials.ts";
import { bucketAddress, parseS3Uri, requestPath } from "../../src/storage/s3/location.ts";
import { assert, assertEquals, assertThrows } from "../_helpers/assert.ts";

const SECRET = "s3cr3t/KEY+with=signs";
const TOKEN = "session-token-value-FwoGZXIvYXdzE";
const BASE_ENV = { AWS_ACCESS_KEY_ID: "AKIAENV", AWS_SECRET_ACCESS_KEY: SECRET };

/** Writes credential and config files into a temp dir; returns an env pointing at them. */
async function withAwsFiles(
  credentials: string,
  config: string,
  fn: (env: Record<string, string>) => void | Promise<void>,
): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "neuralake-aws-" });
  try {
    await Deno.writeTextFile(`${dir}/credentials`, credentials);
    await Deno.writeTextFile(`${dir}/config`, config);
    await fn({
      AWS_SHARED_CREDENTIALS_FILE: `${dir}/credentials`,
      AWS_CONFIG_FILE: `${dir}/config`,
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

const CREDENTIALS_FILE = `
# a comment
[default]
aws_access_key_id = AKIADEFAULT
aws_secret_access_key = default/secret+value

[lab]
aws_access_key_id=AKIALAB
aws_secret_access_key=lab-secret   ; inline comment
aws_session_token = ${TOKEN}
`;

const CONFIG_FILE = `
[default]
region = eu-west-1

[profile lab]
region = eu-central-1
s3 =
  endpoint_url = https://minio.lab.example:9000
  addressing_style = virtual

[profile sso-only]
sso_session = corp
region = us-west-2

[profile config-creds]
aws_access_key_id = AKIACONFIG
aws_secret_access_key = config-secret
endpoint_url = https://objects.example.org
`;

Deno.test("resolveS3Config reads credentials and region from the environment", () => {
  const config = resolveS3Config({
    ...BASE_ENV,
    AWS_REGION: "ap-south-1",
    AWS_SESSION_TOKEN: TOKEN,
  });
  assertEquals(config.region, "ap-south-1");
  assertEquals(config.credentials?.accessKeyId, "AKIAENV");
  assertEquals(config.credentials?.reveal().secretAccessKey, SECRET);
  assertEquals(config.credentials?.reveal().sessionToken, TOKEN);
  assertEquals(config.credentials?.source, "environment");
  assertEquals(config.endpoint, "https://s3.ap-south-1.amazonaws.com");
  assertEquals(config.endpointSource, "default");
  assertEquals(config.forcePathStyle, false, "AWS is addressed virtual-hosted");
  assertEquals(config.payloadSigning, "unsigned");
});

Deno.test("resolveS3Config falls back to AWS_DEFAULT_REGION, then us-east-1", () => {
  assertEquals(
    resolveS3Config({ ...BASE_ENV, AWS_DEFAULT_REGION: "sa-east-1" }).region,
    "sa-east-1",
  );
  assertEquals(
    resolveS3Config({ ...BASE_ENV, AWS_REGION: "eu-north-1", AWS_DEFAULT_REGION: "sa-east-1" })
      .region,
    "eu-north-1",
  );
  assertEquals(resolveS3Config(BASE_ENV).region, "us-east-1");
});

Deno.test("AWS_ENDPOINT_URL_S3 wins over AWS_ENDPOINT_URL, and options win over both", () => {
  const env = {
    ...BASE_ENV,
    AWS_ENDPOINT_URL: "https://generic.example.com",
    AWS_ENDPOINT_URL_S3: "https://s3-only.example.com/",
  };
  const fromEnv = resolveS3Config(env);
  assertEquals(fromEnv.endpoint, "https://s3-only.example.com");
  assertEquals(fromEnv.endpointSource, "AWS_ENDPOINT_URL_S3");
  assertEquals(fromEnv.forcePathStyle, true, "a custom endpoint is path-style by default");
  const generic = resolveS3Config({ ...BASE_ENV, AWS_ENDPOINT_URL: "https://generic.example.com" });
  assertEquals(generic.endpointSource, "AWS_ENDPOINT_URL");
  const fromOptions = resolveS3Config(env, {}, { endpoint: "https://option.example.com" });
  assertEquals(fromOptions.endpoint, "https://option.example.com");
  assertEquals(fromOptions.endpointSource, "options");
  const ignored = resolveS3Config({ ...env, AWS_IGNORE_CONFIGURED_ENDPOINT_URLS: "true" });
  assertEquals(ignored.endpointSource, "default");
});

Deno.test("a plain-HTTP endpoint is refused unless AWS_ALLOW_HTTP or allowHttp allows it", () => {
  const env = { ...BASE_ENV, AWS_ENDPOINT_URL: "http://127.0.0.1:9000" };
  const error = assertThrows(() => resolveS3Config(env), "AWS_ALLOW_HTTP=true");
  assert(error.message.includes("http://127.0.0.1:9000"), error.message);
  assert(!error.message.includes(SECRET));
  assertThrows(() => resolveS3Config({ ...env, AWS_ALLOW_HTTP: "false" }), "unencrypted");
  assertThrows(() => resolveS3Config({ ...env, AWS_ALLOW_HTTP: "true" }, {}, { allowHttp: false }));
  const allowed = resolveS3Config({ ...env, AWS_ALLOW_HTTP: "true" });
  assertEquals(allowed.allowHttp, true);
  assertEquals(
    allowed.payloadSigning,
    "sha256",
    "bodies are signed when TLS does not protect them",
  );
  assertEquals(resolveS3Config(env, {}, { allowHttp: true }).endpoint, "http://127.0.0.1:9000");
});

Deno.test("malformed endpoints are refused with the reason", () => {
  assertThrows(
    () => resolveS3Config({ ...BASE_ENV, AWS_ENDPOINT_URL: "not a url" }),
    "expected a URL",
  );
  assertThrows(
    () => resolveS3Config({ ...BASE_ENV, AWS_ENDPOINT_URL: "ftp://x" }),
    "http and https",
  );
  const withPassword = assertThrows(
    () => resolveS3Config({ ...BASE_ENV, AWS_ENDPOINT_URL: "https://user:pw@host" }),
    "user name or password",
  );
  assert(!withPassword.message.includes("pw@"), withPassword.message);
});

Deno.test("an endpoint that cannot be parsed is echoed without its user name and password", () => {
  for (const endpoint of ["http://u:SEKRET-9@exa mple.com:9000", "http://u:SEK RET/9@host:x"]) {
    const error = assertThrows(
      () => resolveS3Config({ ...BASE_ENV, AWS_ENDPOINT_URL: endpoint }),
      "Invalid S3 endpoint",
    );
    const views = [error.message, error.stack ?? "", Deno.inspect(error, { depth: 10 })];
    for (let cause = error.cause; cause; cause = (cause as Error).cause) {
      views.push(Deno.inspect(cause, { depth: 10 }));
    }
    for (const view of views) {
      assert(!view.includes("SEK"), `the password shows: ${view}`);
    }
    assert(error.message.includes("<redacted>@"), error.message);
  }
});

Deno.test("profiles are read from credential and config files named by the environment", async () => {
  await withAwsFiles(CREDENTIALS_FILE, CONFIG_FILE, async (paths) => {
    const files = await loadAwsSharedFiles(paths);
    const byDefault = resolveS3Config(paths, files);
    assertEquals(byDefault.credentials?.accessKeyId, "AKIADEFAULT");
    assertEquals(byDefault.credentials?.reveal().secretAccessKey, "default/secret+value");
    assertEquals(byDefault.region, "eu-west-1");
    assertEquals(byDefault.profile, "default");

    const lab = resolveS3Config({ ...paths, AWS_PROFILE: "lab" }, files);
    assertEquals(lab.credentials?.accessKeyId, "AKIALAB");
    assertEquals(lab.credentials?.reveal().secretAccessKey, "lab-secret", "inline comment dropped");
    assertEquals(lab.credentials?.reveal().sessionToken, TOKEN);
    assertEquals(lab.region, "eu-central-1");
    assertEquals(lab.endpoint, "https://minio.lab.example:9000");
    assertEquals(lab.endpointSource, "profile");
    assertEquals(lab.forcePathStyle, false, "addressing_style = virtual");
    assert(lab.credentials!.source.includes("profile lab"), lab.credentials!.source);

    const configCreds = resolveS3Config({ ...paths }, files, { profile: "config-creds" });
    assertEquals(configCreds.credentials?.accessKeyId, "AKIACONFIG");
    assertEquals(configCreds.endpoint, "https://objects.example.org");
    assertEquals(configCreds.region, "us-east-1");
  });
});

Deno.test("a named profile beats environment credentials; otherwise the environment beats the default profile", async () => {
  await withAwsFiles(CREDENTIALS_FILE, CONFIG_FILE, async (paths) => {
    const files = await loadAwsSharedFiles(paths);
    const named = resolveS3Config({ ...paths, ...BASE_ENV, AWS_PROFILE: "lab" }, files);
    assertEquals(named.credentials?.accessKeyId, "AKIALAB");
    const unnamed = resolveS3Config({ ...paths, ...BASE_ENV }, files);
    assertEquals(unnamed.credentials?.accessKeyId, "AKIAENV");
    assertEquals(unnamed.region, "eu-west-1", "the default profile still supplies the region");
    const explicit = resolveS3Config({ ...paths, AWS_PROFILE: "lab" }, files, {
      credentials: { accessKeyId: "AKIAOPT", secretAccessKey: "opt" },
    });
    assertEquals(explicit.credentials?.accessKeyId, "AKIAOPT");
    assertEquals(explicit.credentials?.source, "options");
  });
});

Deno.test("an unknown or unsupported profile is refused with advice", async () => {
  await withAwsFiles(CREDENTIALS_FILE, CONFIG_FILE, async (paths) => {
    const files = await loadAwsSharedFiles(paths);
    const missing = assertThrows(
      () => resolveS3Config({ ...paths, AWS_PROFILE: "nope" }, files),
      "Cannot find the AWS profile nope (from AWS_PROFILE)",
    );
    assert(missing.message.includes(paths.AWS_SHARED_CREDENTIALS_FILE!), missing.message);
    assertThrows(
      () => resolveS3Config(paths, files, { profile: "sso-only" }),
      "aws configure export-credentials --profile sso-only",
    );
  });
});

Deno.test("missing shared files are simply absent", async () => {
  const files = await loadAwsSharedFiles({ HOME: "/nonexistent-home-for-test" });
  assertEquals(files.credentials, {});
  assertEquals(files.config, {});
  assertEquals(files.credentialsPath, "/nonexistent-home-for-test/.aws/credentials");
  assertEquals(resolveS3Config({}, files).credentials, undefined);
});

Deno.test("incomplete credentials are refused without showing the half that is there", () => {
  const error = assertThrows(
    () => resolveS3Config({ AWS_SECRET_ACCESS_KEY: SECRET }),
    "set both AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY",
  );
  assert(!error.message.includes(SECRET));
});

Deno.test("numeric options are validated, and AWS_MAX_ATTEMPTS sets the retries", () => {
  assertEquals(resolveS3Config({ ...BASE_ENV, AWS_MAX_ATTEMPTS: "3" }).maxRetries, 2);
  assertEquals(resolveS3Config(BASE_ENV, {}, { maxRetries: 0 }).maxRetries, 0);
  assertThrows(() => resolveS3Config(BASE_ENV, {}, { multipartPartSize: 1024 }), "5 MiB to 5 GiB");
  assertThrows(() => resolveS3Config(BASE_ENV, {}, { requestTimeoutMs: 0 }), "positive integer");
  const config = resolveS3Config(BASE_ENV);
  assertEquals(config.multipartThreshold, 100 * 1024 * 1024);
  assertEquals(config.multipartPartSize, 16 * 1024 * 1024);
});

Deno.test("the config and its credentials never show the secret or the token", () => {
  const config = resolveS3Config({ ...BASE_ENV, AWS_SESSION_TOKEN: TOKEN });
  const views = [
    JSON.stringify(config),
    JSON.stringify({ wrapped: config }),
    Deno.inspect(config, { depth: 20, showHidden: true, getters: true }),
    Deno.inspect({ config }, { depth: 20 }),
    String(config.credentials),
    Deno.inspect(config.credentials, { showHidden: true, getters: true }),
    JSON.stringify(config.credentials),
    JSON.stringify(redactedS3Config(config)),
  ];
  for (const view of views) {
    assert(!view.includes(SECRET), `shows the secret: ${view}`);
    assert(!view.includes(TOKEN), `shows the token: ${view}`);
  }
  const redacted = redactedS3Config(config);
  assertEquals(redacted.credentials?.secretAccessKey, "<redacted>");
  assertEquals(redacted.credentials?.sessionToken, "<redacted>");
  assertEquals(redacted.credentials?.accessKeyId, "AKIAENV");
  assertEquals(redacted.addressing, "virtual-hosted");
});

Deno.test("S3Credentials.redact removes the secret and the token from any text", () => {
  const credentials = new S3Credentials({
    accessKeyId: "AKIA1",
    secretAccessKey: SECRET,
    sessionToken: TOKEN,
  });
  assertEquals(
    credentials.redact(`x-amz-security-token:${TOKEN}\nkey=${SECRET}`),
    "x-amz-security-token:<redacted>\nkey=<redacted>",
  );
});

Deno.test("shared files are parsed as the AWS SDK parses them: nested blocks, comments, default", async () => {
  await withAwsFiles(
    "[x]\naws_access_key_id = AKIAX ; a comment\naws_secret_access_key = b#not-a-comment\n",
    "[profile default]\nregion = ap-south-1\n[profile x]\ns3 =\n  max_concurrent_requests = 4\n" +
      "  addressing_style = path\nregion = sa-east-1\nnot a setting\n[sso-session corp]\nx = 1\n",
    async (paths) => {
      const files = await loadAwsSharedFiles(paths);
      assertEquals(files.config?.["x"], {
        "s3.max_concurrent_requests": "4",
        "s3.addressing_style": "path",
        region: "sa-east-1",
      });
      assertEquals(files.config?.["default"], { region: "ap-south-1" });
      const x = resolveS3Config({ AWS_PROFILE: "x" }, files);
      assertEquals(x.credentials?.reveal().secretAccessKey, "b#not-a-comment");
      assertEquals(x.credentials?.accessKeyId, "AKIAX");
      assertEquals(x.region, "sa-east-1");
      assertEquals(resolveS3Config({}, files).region, "ap-south-1");
    },
  );
});

Deno.test("parseS3Uri reads the bucket and prefix of s3:// and s3a:// URIs", () => {
  assertEquals(parseS3Uri("s3://lab/recordings/t1/"), { bucket: "lab", prefix: "recordings/t1" });
  assertEquals(parseS3Uri("s3a://lab/t"), { bucket: "lab", prefix: "t" });
  assertEquals(parseS3Uri("s3://lab"), { bucket: "lab", prefix: "" });
  assertThrows(() => parseS3Uri("s3://lab/a/../b"), "not a plain prefix");
  assertThrows(() => parseS3Uri("s3:///t"), "not a bucket name");
  assertThrows(() => parseS3Uri("gs://lab/t"), "expected s3://bucket/prefix");
});

Deno.test("buckets are addressed virtual-hosted on AWS and path-style on custom endpoints", () => {
  const aws = resolveS3Config({ ...BASE_ENV, AWS_REGION: "eu-west-1" });
  const virtual = bucketAddress(aws, "lab-data");
  assertEquals(virtual, {
    protocol: "https:",
    host: "lab-data.s3.eu-west-1.amazonaws.com",
    basePath: "",
    pathStyle: false,
  });
  assertEquals(requestPath(virtual, "t/a b.json"), "/t/a%20b.json");
  assertEquals(requestPath(virtual), "/");
  // A dotted bucket would not match the TLS certificate: path-style instead.
  assertEquals(bucketAddress(aws, "lab.data").host, "s3.eu-west-1.amazonaws.com");
  const custom = resolveS3Config({ ...BASE_ENV, AWS_ENDPOINT_URL: "https://minio.local:9000/s3" });
  const path = bucketAddress(custom, "lab");
  assertEquals(path.host, "minio.local:9000");
  assertEquals(requestPath(path, "t/ሴ"), "/s3/lab/t/%E1%88%B4");
  const forced = bucketAddress(
    resolveS3Config(BASE_ENV, {}, { forcePathStyle: true }),
    "lab",
  );
  assertEquals(requestPath(forced, "k"), "/lab/k");
});

/**
 * The S3 test environment: the local server started by
 * `scripts/s3-server.sh start` (MinIO, built and cached under .cache/), found
 * through the variables that script exports.
 *
 * Invariants:
 * - Without `NEURALAKE_TEST_BUCKET` every S3 test fails, with a message that
 *   says how to start the server; none passes silently.
 * - Stores are built from explicit options (not from whatever AWS_* happens
 *   to be set), and each gets a fresh prefix, so tests never share objects.
 */

import { resolveS3Config, type S3Options } from "../../src/storage/s3/config.ts";
import { S3Store } from "../../src/storage/s3/s3_store.ts";

/** Where the test server is and how to sign for it. */
export interface S3TestEnv {
  endpoint: string;
  bucket: string;
  region: string;
  accessKeyId: string;
  secretAccessKey: string;
}

/** Reads the test server's settings, or throws with instructions. */
export function s3TestEnv(): S3TestEnv {
  const env = Deno.env.toObject();
  const bucket = env["NEURALAKE_TEST_BUCKET"];
  const endpoint = env["AWS_ENDPOINT_URL"];
  const accessKeyId = env["AWS_ACCESS_KEY_ID"];
  const secretAccessKey = env["AWS_SECRET_ACCESS_KEY"];
  if (!bucket || !endpoint || !accessKeyId || !secretAccessKey) {
    throw new Error(
      "S3 tests need the local S3 test server, and NEURALAKE_TEST_BUCKET is not set: run the " +
        'tests with `deno task test`, or first `eval "$(scripts/s3-server.sh start)"`',
    );
  }
  return {
    endpoint,
    bucket,
    region: env["AWS_REGION"] || "us-east-1",
    accessKeyId,
    secretAccessKey,
  };
}

/** A prefix no other test uses: `tests/<label>-<uuid>`. */
export function uniquePrefix(label: string): string {
  return `tests/${label}-${crypto.randomUUID()}`;
}

/** The options that point a store at the test server (or at `endpoint`, a proxy). */
export function testS3Options(overrides: S3Options = {}, endpoint?: string): S3Options {
  const env = s3TestEnv();
  return {
    endpoint: endpoint ?? env.endpoint,
    region: env.region,
    credentials: { accessKeyId: env.accessKeyId, secretAccessKey: env.secretAccessKey },
    allowHttp: true,
    backoff: { baseMs: 5, maxMs: 50 },
    ...overrides,
  };
}

/** Opens a store on a fresh prefix of the test bucket. */
export function makeTestS3Store(
  label: string,
  overrides: S3Options = {},
  options: { endpoint?: string; prefix?: string } = {},
): S3Store {
  const env = s3TestEnv();
  const config = resolveS3Config({}, {}, testS3Options(overrides, options.endpoint));
  return new S3Store(`s3://${env.bucket}/${options.prefix ?? uniquePrefix(label)}`, config);
}

/** Deletes every object under a store's root. */
export async function emptyStore(store: S3Store): Promise<void> {
  const keys: string[] = [];
  for await (const meta of store.list("")) keys.push(meta.key);
  if (keys.length > 0) await store.delete(keys);
}

/** Deterministic pseudo-random bytes, distinct for each seed, for object bodies. */
export function pattern(size: number, seed: number): Uint8Array {
  const bytes = new Uint8Array(size);
  let x = seed;
  for (let i = 0; i < size; i++) {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    bytes[i] = x >>> 24;
  }
  return bytes;
}

/**
 * The storage backends that interop and end-to-end tests run against: a
 * temporary local directory, and a fresh prefix on the local S3 test server.
 * A test loops over `BACKENDS` so that every Delta behaviour is proven on both.
 */

import { openTable, type Table } from "../../src/ops/table.ts";
import { s3TestEnv, testS3Options, uniquePrefix } from "./s3.ts";

/** Where a test's tables live. */
export interface Backend {
  name: "local" | "s3";
  /** A new, empty table location. */
  newTable(label: string): Promise<{ uri: string; table: Table }>;
  /** delta-rs `storage_options` for this backend. */
  storageOptions(): Record<string, string> | undefined;
}

/** Tables in temporary directories. */
export const localBackend: Backend = {
  name: "local",
  async newTable(label) {
    const dir = await Deno.makeTempDir({ prefix: `neuralake-${label}-` });
    const uri = `${dir}/table`;
    return { uri, table: await openTable(uri) };
  },
  storageOptions: () => undefined,
};

/** Tables under fresh prefixes of the S3 test bucket. */
export const s3Backend: Backend = {
  name: "s3",
  async newTable(label) {
    const env = s3TestEnv();
    const uri = `s3://${env.bucket}/${uniquePrefix(label)}`;
    return { uri, table: await openTable(uri, { s3: testS3Options() }) };
  },
  storageOptions() {
    const env = s3TestEnv();
    return {
      AWS_ENDPOINT_URL: env.endpoint,
      AWS_ACCESS_KEY_ID: env.accessKeyId,
      AWS_SECRET_ACCESS_KEY: env.secretAccessKey,
      AWS_REGION: env.region,
      AWS_ALLOW_HTTP: "true",
      // delta-rs commits with S3's conditional put, as neuralake does.
      AWS_S3_ALLOW_UNSAFE_RENAME: "true",
      conditional_put: "etag",
    };
  },
};

/** Every backend. */
export const BACKENDS: Backend[] = [localBackend, s3Backend];

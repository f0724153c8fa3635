/**
 * S3 operation throughput, side by side: our `S3Store` against the AWS SDK for
 * JavaScript (`@aws-sdk/client-s3`) on the same server in the same run, for
 * PUT and GET of 1 MiB and 64 MiB objects and a paged LIST.
 *
 * Invariants:
 * - Every row says what each client did (`variant`). The first PUT row of a
 *   size runs both clients with their defaults: ours goes multipart at
 *   `multipartThreshold` (100 MiB), and signs bodies with SHA-256 over http;
 *   the SDK sends one PutObject whatever the size, with a SHA-256 payload
 *   signature plus its default CRC32 checksum. A second PUT row compares like
 *   with like in the other shape: a single PUT for both if our default was
 *   multipart, else the same multipart upload for both (the SDK driven
 *   through CreateMultipartUpload, UploadPart and CompleteMultipartUpload
 *   with our part size and concurrency).
 * - The clients take turns within each repetition, in alternating order, so
 *   that drift in the server hits both alike.
 * - A ratio above 1 means ours is faster (SDK median time / our median time).
 * - Everything written goes under a fresh prefix and is deleted at the end.
 *
 *   eval "$(scripts/s3-server.sh start)"; deno run -A bench/s3_ops.ts [--repetitions 5]
 */

import {
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client as SdkClient,
  UploadPartCommand,
} from "@aws-sdk/client-s3";
import { resolveS3Config, type S3Options } from "../src/storage/s3/config.ts";
import { S3Store } from "../src/storage/s3/s3_store.ts";

const MiB = 1024 * 1024;

/** Where to run and how much. */
export interface BenchS3Options {
  endpoint: string;
  bucket: string;
  accessKeyId: string;
  secretAccessKey: string;
  /** @default "us-east-1" */
  region?: string;
  /** Object sizes for PUT and GET. @default [1 MiB, 64 MiB] */
  sizes?: number[];
  /** Timed runs per operation and client. @default 5 */
  repetitions?: number;
  /** Objects in the listed prefix (more than 1,000 makes the listing page). @default 1500 */
  listKeys?: number;
}

/** One client's timings for one operation. */
export interface BenchSample {
  medianMs: number;
  /** MiB/s for PUT and GET, keys/s for LIST. */
  throughput: number;
}

/** One row of the comparison. */
export interface BenchRow {
  op: "PUT" | "GET" | "LIST";
  /** `1 MiB`, `64 MiB`, or `1500 keys`. */
  size: string;
  /** What each client did: `ours: single PUT / SDK: PutObject`. */
  variant: string;
  unit: "MiB/s" | "keys/s";
  ours: BenchSample;
  sdk: BenchSample;
  /** SDK median / our median: above 1 means ours is faster. */
  ratio: number;
}

/** The whole result. */
export interface BenchS3Result {
  endpoint: string;
  repetitions: number;
  rows: BenchRow[];
}

/**
 * Runs the comparison against a running S3 server and returns medians and
 * ratios.
 *
 * @example
 * ```ts
 * const result = await benchS3Ops({
 *   endpoint: "http://127.0.0.1:9000",
 *   bucket: "neuralake-test",
 *   accessKeyId: "AKIA...",
 *   secretAccessKey: "...",
 * });
 * console.log(formatBenchTable(result));
 * ```
 */
export async function benchS3Ops(options: BenchS3Options): Promise<BenchS3Result> {
  const region = options.region ?? "us-east-1";
  const repetitions = options.repetitions ?? 5;
  const sizes = options.sizes ?? [1 * MiB, 64 * MiB];
  const listKeys = options.listKeys ?? 1500;
  const prefix = `bench/s3-ops-${crypto.randomUUID()}`;
  const credentials = {
    accessKeyId: options.accessKeyId,
    secretAccessKey: options.secretAccessKey,
  };

  const storeWith = (overrides: S3Options) =>
    new S3Store(
      `s3://${options.bucket}/${prefix}`,
      resolveS3Config({}, {}, {
        endpoint: options.endpoint,
        region,
        credentials,
        allowHttp: options.endpoint.startsWith("http:"),
        verifyConditionalWrites: false,
        ...overrides,
      }),
    );
  const ours = storeWith({});
  const config = ours.config;
  const signing = config.payloadSigning === "sha256" ? "SHA-256 payload" : "unsigned payload";
  const partSize = config.multipartPartSize;
  const concurrency = config.multipartConcurrency;
  const oursSingle = storeWith({ multipartThreshold: Number.MAX_SAFE_INTEGER });
  const oursMultipart = storeWith({ multipartThreshold: partSize });
  const sdk = new SdkClient({
    endpoint: options.endpoint,
    region,
    credentials,
    forcePathStyle: true,
  });
  const sdkKey = (key: string) => `${prefix}/${key}`;
  const sdkPut = async (key: string, bytes: Uint8Array) => {
    await sdk.send(new PutObjectCommand({ Bucket: options.bucket, Key: sdkKey(key), Body: bytes }));
  };
  const sdkMultipart = async (key: string, bytes: Uint8Array) => {
    const target = { Bucket: options.bucket, Key: sdkKey(key) };
    const { UploadId } = await sdk.send(new CreateMultipartUploadCommand(target));
    const count = Math.ceil(bytes.length / partSize);
    const parts = new Array<{ ETag: string; PartNumber: number }>(count);
    let next = 0;
    const worker = async () => {
      while (next < count) {
        const index = next++;
        const res = await sdk.send(
          new UploadPartCommand({
            ...target,
            UploadId,
            PartNumber: index + 1,
            Body: bytes.subarray(index * partSize, (index + 1) * partSize),
          }),
        );
        parts[index] = { ETag: res.ETag!, PartNumber: index + 1 };
      }
    };
    await Promise.all(Array.from({ length: Math.min(count, concurrency) }, worker));
    await sdk.send(
      new CompleteMultipartUploadCommand({
        ...target,
        UploadId,
        MultipartUpload: { Parts: parts },
      }),
    );
  };

  const rows: BenchRow[] = [];
  const sdkSingle = "SDK: PutObject, SHA-256 payload + CRC32 (its defaults)";
  try {
    for (const size of sizes) {
      const bytes = new Uint8Array(size).map((_, i) => (i * 2654435761) >>> 24);
      const label = `${size / MiB} MiB`;
      const parts = `${Math.ceil(size / partSize)} x ${partSize / MiB} MiB parts, ` +
        `${concurrency} in flight`;
      const multipartByDefault = size >= config.multipartThreshold;
      const put = await alternate(repetitions, {
        ours: (rep) => ours.put(`put-${size}-ours-${rep}`, bytes),
        sdk: (rep) => sdkPut(`put-${size}-sdk-${rep}`, bytes),
      });
      const oursDefault = multipartByDefault
        ? `ours: multipart (default at this size), ${parts}, ${signing}`
        : `ours: single PUT (default at this size), ${signing}`;
      rows.push(row("PUT", label, `${oursDefault} / ${sdkSingle}`, "MiB/s", put, size / MiB));
      if (multipartByDefault) {
        const single = await alternate(repetitions, {
          ours: (rep) => oursSingle.put(`put-${size}-single-${rep}`, bytes),
          sdk: (rep) => sdkPut(`put-${size}-sdk-single-${rep}`, bytes),
        });
        rows.push(
          row(
            "PUT",
            label,
            `ours: single PUT (forced), ${signing} / ${sdkSingle}`,
            "MiB/s",
            single,
            size / MiB,
          ),
        );
      } else if (size >= 2 * partSize) {
        const multipart = await alternate(repetitions, {
          ours: (rep) => oursMultipart.put(`put-${size}-multipart-${rep}`, bytes),
          sdk: (rep) => sdkMultipart(`put-${size}-sdk-multipart-${rep}`, bytes),
        });
        rows.push(
          row(
            "PUT",
            label,
            `both: multipart (forced), ${parts}; ours: ${signing} / ` +
              `SDK: SHA-256 payload + CRC32 per part`,
            "MiB/s",
            multipart,
            size / MiB,
          ),
        );
      }

      await ours.put(`get-${size}`, bytes);
      const get = await alternate(repetitions, {
        ours: async () => {
          const got = await ours.get(`get-${size}`);
          if (got?.length !== size) throw new Error(`GET returned ${got?.length} bytes`);
        },
        sdk: async () => {
          const res = await sdk.send(
            new GetObjectCommand({ Bucket: options.bucket, Key: sdkKey(`get-${size}`) }),
          );
          const got = await res.Body!.transformToByteArray();
          if (got.length !== size) throw new Error(`SDK GET returned ${got.length} bytes`);
        },
      });
      rows.push(
        row(
          "GET",
          label,
          "both: one GetObject, whole body in memory (SDK: checksum mode on, its default)",
          "MiB/s",
          get,
          size / MiB,
        ),
      );
    }

    const empty = new Uint8Array(0);
    const listed = Array.from({ length: listKeys }, (_, i) => `list/${String(i).padStart(6, "0")}`);
    for (let i = 0; i < listed.length; i += 50) {
      await Promise.all(listed.slice(i, i + 50).map((key) => ours.put(key, empty)));
    }
    const list = await alternate(repetitions, {
      ours: async () => {
        let n = 0;
        for await (const _ of ours.list("list/")) n++;
        if (n !== listKeys) throw new Error(`LIST returned ${n} keys`);
      },
      sdk: async () => {
        let n = 0;
        let token: string | undefined;
        do {
          const res = await sdk.send(
            new ListObjectsV2Command({
              Bucket: options.bucket,
              Prefix: sdkKey("list/"),
              ContinuationToken: token,
            }),
          );
          n += res.Contents?.length ?? 0;
          token = res.IsTruncated ? res.NextContinuationToken : undefined;
        } while (token);
        if (n !== listKeys) throw new Error(`SDK LIST returned ${n} keys`);
      },
    });
    rows.push(
      row(
        "LIST",
        `${listKeys} keys`,
        "both: ListObjectsV2 pages of up to 1000 keys (ours: encoding-type=url)",
        "keys/s",
        list,
        listKeys,
      ),
    );
  } finally {
    const keys: string[] = [];
    for await (const meta of ours.list("")) keys.push(meta.key);
    await ours.delete(keys);
    sdk.destroy();
  }
  return { endpoint: options.endpoint, repetitions, rows };
}

/** Formats a result as a Markdown table, with each row's variant below it. */
export function formatBenchTable(result: BenchS3Result): string {
  const lines = [
    `S3 operations against ${result.endpoint}, median of ${result.repetitions} runs each`,
    "",
    "| # | op | size | ours median | ours | SDK median | SDK | ratio (>1: ours faster) |",
    "|---|---|---|---:|---:|---:|---:|---:|",
  ];
  result.rows.forEach((r, i) => {
    lines.push(
      `| ${i + 1} | ${r.op} | ${r.size} | ${r.ours.medianMs.toFixed(1)} ms | ${
        r.ours.throughput.toFixed(1)
      } ${r.unit} | ${r.sdk.medianMs.toFixed(1)} ms | ${r.sdk.throughput.toFixed(1)} ${r.unit} | ${
        r.ratio.toFixed(2)
      } |`,
    );
  });
  lines.push("", "Variants:");
  result.rows.forEach((r, i) => lines.push(`${i + 1}. ${r.op} ${r.size}: ${r.variant}`));
  return lines.join("\n");
}

type Runner = (repetition: number) => Promise<unknown>;

/** Times both runners `repetitions` times, alternating which goes first. */
async function alternate(
  repetitions: number,
  runners: { ours: Runner; sdk: Runner },
): Promise<{ ours: number[]; sdk: number[] }> {
  const times = { ours: [] as number[], sdk: [] as number[] };
  // One untimed warm-up each: connections, JIT, the SDK's lazy imports.
  await runners.ours(-1);
  await runners.sdk(-1);
  for (let rep = 0; rep < repetitions; rep++) {
    const order = rep % 2 === 0 ? (["ours", "sdk"] as const) : (["sdk", "ours"] as const);
    for (const who of order) {
      const started = performance.now();
      await runners[who](rep);
      times[who].push(performance.now() - started);
    }
  }
  return times;
}

function row(
  op: BenchRow["op"],
  size: string,
  variant: string,
  unit: BenchRow["unit"],
  times: { ours: number[]; sdk: number[] },
  amount: number,
): BenchRow {
  const ours = median(times.ours);
  const sdk = median(times.sdk);
  return {
    op,
    size,
    variant,
    unit,
    ours: { medianMs: ours, throughput: amount / (ours / 1000) },
    sdk: { medianMs: sdk, throughput: amount / (sdk / 1000) },
    ratio: sdk / ours,
  };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

if (import.meta.main) {
  const env = Deno.env.toObject();
  const missing = ["AWS_ENDPOINT_URL", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"]
    .filter((name) => !env[name]);
  const bucket = env["NEURALAKE_BENCH_BUCKET"] ?? env["NEURALAKE_TEST_BUCKET"];
  if (missing.length > 0 || !bucket) {
    console.error(
      `bench/s3_ops.ts needs a running S3 server (missing ${
        [...missing, bucket ? [] : ["NEURALAKE_TEST_BUCKET"]].flat().join(", ")
      }): run eval "$(scripts/s3-server.sh start)" first`,
    );
    Deno.exit(1);
  }
  const flag = Deno.args.indexOf("--repetitions");
  const repetitions = flag >= 0 ? Number(Deno.args[flag + 1]) : 5;
  const result = await benchS3Ops({
    endpoint: env["AWS_ENDPOINT_URL"]!,
    bucket,
    region: env["AWS_REGION"] || "us-east-1",
    accessKeyId: env["AWS_ACCESS_KEY_ID"]!,
    secretAccessKey: env["AWS_SECRET_ACCESS_KEY"]!,
    repetitions,
  });
  console.log(formatBenchTable(result));
}

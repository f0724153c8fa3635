/**
 * Multipart uploads: large `put`s split into parts that upload in parallel,
 * and the listing of uploads still open under a prefix.
 *
 * Invariants:
 * - At most `multipartConcurrency` parts are in flight; they may finish in
 *   any order, and the completion lists every part in ascending part number
 *   with its own ETag.
 * - An upload either completes or is aborted: any failure after
 *   CreateMultipartUpload stops new parts from starting, waits for the parts
 *   in flight, and aborts the upload before the first error propagates, so
 *   no parts are left behind to be billed (if the abort itself fails, the
 *   error says so and names the upload ID).
 * - Parts are views of the caller's bytes (no copies), at least 5 MiB each
 *   except the last, and at most 10,000 of them: the part size grows if the
 *   object needs it.
 */

import type { S3Client } from "./client.ts";
import { CLIENT_CODES, S3Error } from "./errors.ts";
import { child, children, childText, escapeXml, parseXml } from "./xml.ts";

const MAX_PARTS = 10_000;

/** An upload that was started and neither completed nor aborted. */
export interface MultipartUploadInfo {
  /** The full object key in the bucket. */
  objectKey: string;
  uploadId: string;
  /** When it started, in ms since the epoch. */
  initiated: number;
}

/** The part size for an object of `size` bytes, at least `preferred`. */
export function choosePartSize(size: number, preferred: number): number {
  return Math.max(preferred, Math.ceil(size / MAX_PARTS));
}

/**
 * Uploads `bytes` to `objectKey` in parts, `multipartConcurrency` at a time.
 * `storeKey` names the object in messages.
 */
export async function putMultipart(
  client: S3Client,
  objectKey: string,
  storeKey: string,
  bytes: Uint8Array,
): Promise<void> {
  const base = { objectKey, storeKey } as const;
  const layout = partLayout(client, bytes);
  const creating = client.send({
    ...base,
    operation: "CreateMultipartUpload",
    method: "POST",
    query: { uploads: "" },
  });
  // A part's hash does not depend on the upload ID, and a part cannot start
  // before its hash is signed: hash the first one during the round trip.
  // Only the first, because its answer cannot be noticed while this thread
  // hashes, and hashing further would hold back part 1 behind parts 2 to 4.
  creating.catch(() => {}); // it is awaited below; until then, no unhandled rejection
  await new Promise((resolve) => setTimeout(resolve, 0)); // lets the request go out
  const firstHash = client.payloadHash(layout.part(0));
  const created = await creating;
  const uploadId = readXml(client, created.body, "InitiateMultipartUploadResult", storeKey)
    .uploadId;
  try {
    const etags = await uploadParts(client, objectKey, storeKey, uploadId, layout, firstHash);
    await complete(client, objectKey, storeKey, uploadId, etags, bytes.length);
  } catch (error) {
    try {
      await abortMultipartUpload(client, objectKey, uploadId);
    } catch (abortError) {
      const original = error instanceof S3Error ? error : undefined;
      throw new S3Error(
        `${
          error instanceof Error ? error.message : String(error)
        }; aborting upload ${uploadId} also failed, so its parts remain until it is aborted ` +
          `(or a lifecycle rule removes it)`,
        {
          status: original?.status ?? 0,
          code: original?.code ?? CLIENT_CODES.network,
          requestId: original?.requestId,
          operation: original?.operation ?? "UploadPart",
          key: storeKey,
        },
        { cause: abortError },
      );
    }
    throw error;
  }
}

/** The parts of an upload: views of the caller's bytes. */
interface PartLayout {
  count: number;
  part(index: number): Uint8Array;
}

function partLayout(client: S3Client, bytes: Uint8Array): PartLayout {
  const partSize = choosePartSize(bytes.length, client.config.multipartPartSize);
  return {
    count: Math.max(1, Math.ceil(bytes.length / partSize)),
    part: (index) =>
      bytes.subarray(index * partSize, Math.min(bytes.length, (index + 1) * partSize)),
  };
}

async function uploadParts(
  client: S3Client,
  objectKey: string,
  storeKey: string,
  uploadId: string,
  layout: PartLayout,
  firstHash: string,
): Promise<string[]> {
  const count = layout.count;
  const etags = new Array<string>(count);
  let next = 0;
  let failed = false;
  let firstError: unknown;
  const worker = async () => {
    while (!failed && next < count) {
      const index = next++;
      try {
        const res = await client.send({
          operation: "UploadPart",
          method: "PUT",
          objectKey,
          storeKey,
          query: { partNumber: String(index + 1), uploadId },
          body: layout.part(index),
          payloadHash: index === 0 ? firstHash : undefined,
        });
        const etag = res.headers.get("etag");
        if (!etag) {
          throw client.makeError({
            status: res.status,
            code: CLIENT_CODES.badResponse,
            operation: "UploadPart",
            key: storeKey,
            serverMessage: `part ${index + 1} came back without an ETag`,
          }, {});
        }
        etags[index] = etag;
      } catch (error) {
        if (!failed) firstError = error;
        failed = true;
        return;
      }
    }
  };
  // Every worker settles before an abort, so that no part lands after it.
  await Promise.all(
    Array.from({ length: Math.min(count, client.config.multipartConcurrency) }, worker),
  );
  if (failed) throw firstError;
  return etags;
}

async function complete(
  client: S3Client,
  objectKey: string,
  storeKey: string,
  uploadId: string,
  etags: string[],
  size: number,
): Promise<void> {
  const parts = etags.map((etag, i) =>
    `<Part><PartNumber>${i + 1}</PartNumber><ETag>${escapeXml(etag)}</ETag></Part>`
  ).join("");
  const body = new TextEncoder().encode(
    `<?xml version="1.0" encoding="UTF-8"?>` +
      `<CompleteMultipartUpload xmlns="http://s3.amazonaws.com/doc/2006-03-01/">${parts}` +
      `</CompleteMultipartUpload>`,
  );
  try {
    await client.send({
      operation: "CompleteMultipartUpload",
      method: "POST",
      objectKey,
      storeKey,
      query: { uploadId },
      headers: { "content-type": "application/xml" },
      body,
      errorIn200: true,
    });
  } catch (error) {
    // A retried completion of an upload that an earlier, unanswered attempt
    // completed finds no upload: the object is there, with the right size.
    if (error instanceof S3Error && error.code === "NoSuchUpload" && error.attempts > 1) {
      const head = await client.send({
        operation: "HeadObject",
        method: "HEAD",
        objectKey,
        storeKey,
      });
      if (head.outcome.kind === "ok" && Number(head.headers.get("content-length")) === size) return;
    }
    throw error;
  }
}

/** Aborts an upload; an upload that is already gone counts as aborted. */
export async function abortMultipartUpload(
  client: S3Client,
  objectKey: string,
  uploadId: string,
): Promise<void> {
  try {
    await client.send({
      operation: "AbortMultipartUpload",
      method: "DELETE",
      objectKey,
      query: { uploadId },
    });
  } catch (error) {
    if (error instanceof S3Error && error.code === "NoSuchUpload") return;
    throw error;
  }
}

/** Lists the uploads that are still open under `prefix` (a full object key prefix). */
export async function listMultipartUploads(
  client: S3Client,
  prefix: string,
): Promise<MultipartUploadInfo[]> {
  const out: MultipartUploadInfo[] = [];
  let keyMarker: string | undefined;
  let uploadIdMarker: string | undefined;
  for (;;) {
    const query: Record<string, string> = { uploads: "", prefix };
    if (keyMarker !== undefined) query["key-marker"] = keyMarker;
    if (uploadIdMarker !== undefined) query["upload-id-marker"] = uploadIdMarker;
    const res = await client.send({ operation: "ListMultipartUploads", method: "GET", query });
    const root = parseXml(new TextDecoder().decode(res.body));
    for (const upload of children(root, "Upload")) {
      out.push({
        objectKey: childText(upload, "Key") ?? "",
        uploadId: childText(upload, "UploadId") ?? "",
        initiated: Date.parse(childText(upload, "Initiated") ?? ""),
      });
    }
    if (childText(root, "IsTruncated") !== "true") return out;
    keyMarker = childText(root, "NextKeyMarker");
    uploadIdMarker = childText(root, "NextUploadIdMarker");
    if (!keyMarker) return out;
  }
}

function readXml(
  client: S3Client,
  body: Uint8Array,
  rootName: string,
  storeKey: string,
): { uploadId: string } {
  try {
    const root = parseXml(new TextDecoder().decode(body));
    const uploadId = root.name === rootName ? child(root, "UploadId")?.text : undefined;
    if (uploadId) return { uploadId };
  } catch (error) {
    throw client.makeError(
      {
        status: 200,
        code: CLIENT_CODES.badResponse,
        operation: "CreateMultipartUpload",
        key: storeKey,
        serverMessage: "the response is not XML",
      },
      {},
      error,
    );
  }
  throw client.makeError({
    status: 200,
    code: CLIENT_CODES.badResponse,
    operation: "CreateMultipartUpload",
    key: storeKey,
    serverMessage: `the response has no ${rootName}/UploadId`,
  }, {});
}

/**
 * Batch deletion: DeleteObjects in batches of at most 1,000 keys, each with
 * the Content-MD5 header that S3 requires for it.
 *
 * Invariants:
 * - A key that is already absent counts as deleted (S3 reports it so, and a
 *   server that says NoSuchKey is taken at its word).
 * - Keys that XML 1.0 cannot carry (control characters) are deleted one by
 *   one with DeleteObject instead of being mangled into a batch.
 * - A per-key refusal is reported in `failed`; a refused request throws.
 */

import { createHash } from "node:crypto";
import type { DeleteOutcome } from "../object_store.ts";
import type { S3Client } from "./client.ts";
import { CLIENT_CODES } from "./errors.ts";
import { children, childText, escapeXml, isXmlSafe, parseXml } from "./xml.ts";

/** The most keys S3 accepts in one DeleteObjects request. */
export const DELETE_BATCH_SIZE = 1000;

/** How many batches are in flight at once. */
const CONCURRENT_BATCHES = 4;

/**
 * Deletes `keys` (store keys, already checked), mapping each to its object key
 * with `objectKey`.
 */
export async function deleteObjects(
  client: S3Client,
  keys: string[],
  objectKey: (key: string) => string,
): Promise<DeleteOutcome> {
  const unique = [...new Set(keys)];
  const batchable = unique.filter(isXmlSafe);
  const single = unique.filter((key) => !isXmlSafe(key));
  const batches: string[][] = [];
  for (let i = 0; i < batchable.length; i += DELETE_BATCH_SIZE) {
    batches.push(batchable.slice(i, i + DELETE_BATCH_SIZE));
  }
  const failures = new Map<string, string>();
  let next = 0;
  const worker = async () => {
    while (next < batches.length) {
      const batch = batches[next++]!;
      for (const [key, reason] of await deleteBatch(client, batch, objectKey)) {
        failures.set(key, reason);
      }
    }
  };
  await Promise.all(
    Array.from({ length: Math.min(CONCURRENT_BATCHES, batches.length) }, () => worker()),
  );
  for (const key of single) {
    const res = await client.send({
      operation: "DeleteObject",
      method: "DELETE",
      objectKey: objectKey(key),
      storeKey: key,
    });
    if (res.outcome.kind !== "ok" && res.outcome.kind !== "not-found") {
      failures.set(key, `${res.status} ${res.code ?? ""}`.trim());
    }
  }
  return {
    deleted: keys.filter((key) => !failures.has(key)),
    failed: keys.filter((key) => failures.has(key)).map((key) => ({
      key,
      reason: failures.get(key)!,
    })),
  };
}

/** Deletes one batch; returns the keys that failed, with reasons. */
async function deleteBatch(
  client: S3Client,
  keys: string[],
  objectKey: (key: string) => string,
): Promise<Map<string, string>> {
  const byObjectKey = new Map(keys.map((key) => [objectKey(key), key]));
  const objects = [...byObjectKey.keys()]
    .map((k) => `<Object><Key>${escapeXml(k)}</Key></Object>`)
    .join("");
  const body = new TextEncoder().encode(
    `<?xml version="1.0" encoding="UTF-8"?>` +
      `<Delete xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Quiet>true</Quiet>${objects}` +
      `</Delete>`,
  );
  const res = await client.send({
    operation: "DeleteObjects",
    method: "POST",
    query: { delete: "" },
    headers: {
      "content-type": "application/xml",
      "content-md5": createHash("md5").update(body).digest("base64"),
    },
    body,
  });
  const failed = new Map<string, string>();
  if (res.outcome.kind !== "ok") {
    for (const key of keys) failed.set(key, `${res.status} ${res.code ?? ""}`.trim());
    return failed;
  }
  let errors;
  try {
    const root = parseXml(new TextDecoder().decode(res.body));
    errors = children(root, "Error");
  } catch (error) {
    throw client.makeError(
      {
        status: res.status,
        code: CLIENT_CODES.badResponse,
        operation: "DeleteObjects",
        serverMessage: "the DeleteResult is not XML",
      },
      {},
      error,
    );
  }
  for (const error of errors) {
    const code = childText(error, "Code") ?? "Unknown";
    if (code === "NoSuchKey") continue;
    const key = byObjectKey.get(childText(error, "Key") ?? "");
    if (key === undefined) continue;
    failed.set(key, `${code}: ${childText(error, "Message") ?? "refused"}`);
  }
  return failed;
}

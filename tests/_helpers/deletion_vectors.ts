/**
 * Tables with deletion vectors, made by the protocol as Spark's DELETE makes
 * them: a commit that removes a file and adds it back with a vector (stored
 * in a DV file under an optional random prefix, inline in the log, or in a
 * DV file named by an absolute URI).
 */

import type { Action, Add, DeletionVectorDescriptor } from "../../src/delta/actions.ts";
import {
  encodeDeletionVector,
  frameDeletionVectors,
  z85Encode,
} from "../../src/delta/deletion_vector.ts";
import { schemaFromFields } from "../../src/delta/schema.ts";
import { createTableActions } from "../../src/ops/create.ts";
import { addFor, dataFileKey } from "../../src/ops/data_files.ts";
import { encodeParquet } from "../../src/parquet/encode.ts";
import type { Field } from "../../src/columnar/batch.ts";
import type { ObjectStore } from "../../src/storage/object_store.ts";

/** The protocol of a table with deletion vectors, as Spark 3.5+ creates it. */
export const DV_PROTOCOL: Action = {
  protocol: {
    minReaderVersion: 3,
    minWriterVersion: 7,
    readerFeatures: ["deletionVectors"],
    writerFeatures: ["deletionVectors"],
  },
};

/** How a vector is stored. */
export type DvStorage = { kind: "u"; prefix?: string } | { kind: "i" } | {
  kind: "p";
  rootUri: string;
};

/** Version 0 of a table with the deletionVectors feature. */
export function createDvTableActions(fields: Field[], partitionColumns: string[] = []): Action[] {
  // neuralake does not create such tables itself: the protocol and the
  // property are set here, as an engine with deletion vectors would.
  return createTableActions({ schema: schemaFromFields(fields), partitionColumns }).map((a) =>
    "protocol" in a ? DV_PROTOCOL : "metaData" in a
      ? {
        metaData: {
          ...a.metaData,
          configuration: { ...a.metaData.configuration, "delta.enableDeletionVectors": "true" },
        },
      }
      : a
  );
}

/** Writes one data file of `long` ids and returns its `add`. */
export async function writeIdFile(
  store: ObjectStore,
  ids: number[],
  options: { directory?: string; partitionValues?: Record<string, string | null> } = {},
): Promise<Add> {
  const fields: Field[] = [{ name: "id", type: "long", nullable: true }];
  const file = encodeParquet({
    fields,
    columns: [{ values: BigInt64Array.from(ids.map(BigInt)) }],
    length: ids.length,
  });
  const key = dataFileKey(options.directory ?? "", 0);
  await store.put(key, file.bytes);
  return addFor(key, file, options.partitionValues ?? {}, fields);
}

/**
 * The actions of a DELETE that gives `add` a vector deleting `rows`
 * (positions in the file, ascending): remove of the old logical file, add of
 * the new one with wide statistics. A DV file is written for `u` and `p`.
 */
export async function deleteRows(
  store: ObjectStore,
  add: Add,
  rows: number[],
  storage: DvStorage,
  now = Date.now(),
): Promise<{ actions: Action[]; add: Add; dvKey?: string }> {
  const serialized = encodeDeletionVector(rows);
  let dv: DeletionVectorDescriptor;
  let dvKey: string | undefined;
  if (storage.kind === "i") {
    dv = {
      storageType: "i",
      pathOrInlineDv: z85Encode(serialized),
      sizeInBytes: serialized.length,
      cardinality: rows.length,
    };
  } else {
    const uuid = crypto.randomUUID();
    const name = `deletion_vector_${uuid}.bin`;
    const prefix = storage.kind === "u" ? storage.prefix ?? "" : "";
    dvKey = prefix ? `${prefix}/${name}` : name;
    const framed = frameDeletionVectors([serialized]);
    await store.put(dvKey, framed.bytes);
    const uuidBytes = Uint8Array.from(
      uuid.replaceAll("-", "").match(/../g)!.map((h) => parseInt(h, 16)),
    );
    dv = {
      storageType: storage.kind,
      pathOrInlineDv: storage.kind === "u"
        ? prefix + z85Encode(uuidBytes)
        : `${storage.rootUri.replace(/\/$/, "")}/${dvKey}`,
      offset: framed.offsets[0]!,
      sizeInBytes: serialized.length,
      cardinality: rows.length,
    };
  }
  const stats = add.stats ? JSON.parse(add.stats) : {};
  stats.tightBounds = false;
  const next: Add = { ...add, stats: JSON.stringify(stats), deletionVector: dv };
  const remove: Action = {
    remove: {
      path: add.path,
      deletionTimestamp: now,
      dataChange: true,
      extendedFileMetadata: true,
      partitionValues: add.partitionValues,
      size: add.size,
      ...(add.deletionVector ? { deletionVector: add.deletionVector } : {}),
    },
  };
  return { actions: [remove, { add: next }], add: next, ...(dvKey ? { dvKey } : {}) };
}

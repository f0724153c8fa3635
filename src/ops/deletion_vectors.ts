/**
 * Loading deletion vectors: the join between a file's descriptor (delta/)
 * and the store its bytes live in. A relative (`u`) vector is read from the
 * table's store; an absolute (`p`) one from the table's store when it lies
 * under the table root, else from a store opened at its own directory (a
 * shallow clone points at its source table's vectors); an inline (`i`) one
 * needs no I/O.
 *
 * Invariants: the rows returned are exactly the descriptor's cardinality, in
 * ascending order; a missing, short or corrupt vector is an error naming the
 * data file and the vector, never an empty set.
 */

import type { Add, DeletionVectorDescriptor } from "../delta/actions.ts";
import {
  decodeDeletionVector,
  deletionVectorRange,
  locateDeletionVector,
  unframeDeletionVector,
} from "../delta/deletion_vector.ts";
import { decodeFilePath, isAbsoluteFilePath } from "../delta/partition.ts";
import { describeStoreUri, openStore } from "../storage/open.ts";
import { joinUri, type ObjectStore } from "../storage/object_store.ts";
import type { Table } from "./table.ts";

/**
 * The rows of a data file that its deletion vector deletes, ascending; an
 * empty array for a file without one.
 */
export async function deletedRowsOf(table: Table, add: Add): Promise<Float64Array> {
  const dv = add.deletionVector;
  if (!dv) return new Float64Array(0);
  try {
    const rows = decodeDeletionVector(await serializedVector(table, dv), `of ${add.path}`);
    if (rows.length !== dv.cardinality) {
      throw new RangeError(
        `it holds ${rows.length} rows, the log says cardinality ${dv.cardinality}`,
      );
    }
    return rows;
  } catch (error) {
    throw new Error(
      `Cannot read the deletion vector of ${add.path}: ${(error as Error).message}`,
      { cause: error },
    );
  }
}

async function serializedVector(table: Table, dv: DeletionVectorDescriptor): Promise<Uint8Array> {
  const location = locateDeletionVector(dv);
  if (location.kind === "inline") return location.bytes;
  let store: ObjectStore = table.store;
  let key: string;
  if (location.kind === "relative") {
    key = location.key;
  } else {
    const inside = keyUnderRoot(table.store.uri, location.uri);
    if (inside !== undefined) {
      key = inside;
    } else {
      const slash = location.uri.lastIndexOf("/");
      store = await openStore(location.uri.slice(0, slash));
      key = location.uri.slice(slash + 1);
    }
  }
  const range = deletionVectorRange(dv);
  const framed = await store.get(key, range);
  if (!framed) throw new Error(`the file ${joinUri(store.uri, key)} does not exist`);
  return unframeDeletionVector(framed, dv, joinUri(store.uri, key));
}

/**
 * Where a data file's bytes are: `add.path` relative to the table root, or
 * an absolute URI, read from the table's store when it lies under the root,
 * else from a store opened at its own directory (a shallow clone's files
 * live in its source table).
 */
export async function dataFileLocation(
  table: Table,
  path: string,
): Promise<{ store: ObjectStore; key: string }> {
  if (!isAbsoluteFilePath(path)) return { store: table.store, key: decodeFilePath(path) };
  const inside = keyUnderRoot(table.store.uri, path);
  if (inside !== undefined) return { store: table.store, key: inside };
  const slash = path.lastIndexOf("/");
  const store = await openStore(path.slice(0, slash));
  return { store, key: decodeURIComponent(path.slice(slash + 1)) };
}

/**
 * The key of an absolute URI relative to a table root URI, or undefined when
 * it lies elsewhere.
 */
export function keyUnderRoot(rootUri: string, uri: string): string | undefined {
  let root: string;
  let target: string;
  try {
    root = describeStoreUri(rootUri).uri;
    target = describeStoreUri(uri).uri;
  } catch {
    return undefined;
  }
  const prefix = root.endsWith("/") ? root : `${root}/`;
  if (!target.startsWith(prefix)) return undefined;
  return decodeURI(target.slice(prefix.length));
}

/**
 * The keys, relative to the table root, of the DV files a descriptor names;
 * undefined for inline vectors and files outside the root.
 */
export function deletionVectorKey(
  rootUri: string,
  dv: DeletionVectorDescriptor,
): string | undefined {
  const location = locateDeletionVector(dv);
  if (location.kind === "inline") return undefined;
  if (location.kind === "relative") return location.key;
  return keyUnderRoot(rootUri, location.uri);
}

/**
 * The rows of `[start, start + count)` that ascending `deleted` rows leave,
 * as positions relative to `start`.
 */
export function keptPositions(
  deleted: Float64Array,
  start: number,
  count: number,
): Uint32Array {
  let d = lowerBound(deleted, start);
  const end = start + count;
  let dropped = 0;
  for (let k = d; k < deleted.length && deleted[k]! < end; k++) dropped++;
  const out = new Uint32Array(count - dropped);
  let o = 0;
  for (let row = start; row < end; row++) {
    if (d < deleted.length && deleted[d] === row) {
      d++;
      continue;
    }
    out[o++] = row - start;
  }
  return out;
}

function lowerBound(sorted: Float64Array, value: number): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (sorted[mid]! < value) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

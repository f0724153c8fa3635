/**
 * The join between the object store and the Parquet reader: a `ByteSource`
 * over one object. Small objects are fetched whole on first read (one
 * request); large ones by ranges, so a scan of a big file reads only the
 * footer and the column chunks it needs.
 */

import { joinUri, type ObjectStore } from "../storage/object_store.ts";
import type { ByteSource } from "../parquet/byte_source.ts";

/** Objects up to this size are fetched whole rather than by ranges. */
const WHOLE_OBJECT_BYTES = 8 * 1024 * 1024;

/**
 * A byte source over one object; `size` (from the log) saves a `head`. With
 * `ranges`, even a small object is read by ranges: right for reading only a
 * footer.
 */
export async function objectSourceOf(
  store: ObjectStore,
  key: string,
  size?: number,
  options: { ranges?: boolean } = {},
): Promise<ByteSource> {
  const missing = () => new Error(`File not found: ${joinUri(store.uri, key)}`);
  let byteLength = size;
  let whole: Promise<Uint8Array> | undefined;
  if (byteLength === undefined && options.ranges) {
    const meta = await store.head(key);
    if (!meta) throw missing();
    byteLength = meta.size;
  } else if (byteLength === undefined) {
    // One GET answers both the size and the content of small files.
    const bytes = await store.get(key);
    if (!bytes) throw missing();
    byteLength = bytes.byteLength;
    whole = Promise.resolve(bytes);
  }
  const length = byteLength;
  return {
    byteLength: length,
    name: key,
    read: async (offset, count) => {
      if ((length <= WHOLE_OBJECT_BYTES && !options.ranges) || whole) {
        whole ??= store.get(key).then((bytes) => {
          if (!bytes) throw missing();
          return bytes;
        });
        const bytes = await whole;
        return bytes.subarray(offset, offset + count);
      }
      const bytes = await store.get(key, { offset, length: count });
      if (!bytes) throw missing();
      return bytes;
    },
  };
}

/**
 * A store that passes every request through one function before the store
 * below it: the seam on which request retries (retry.ts) and injected faults
 * (faults.ts) are built, so that each only says what it does around one
 * request and none re-implements the forwarding.
 *
 * Invariants:
 * - Every request of the `ObjectStore` interface goes through `around`
 *   exactly once per attempt, named by its operation and key; optional
 *   members exist on the wrapper only if the inner store has them.
 * - A listing goes through `around` until its first entry arrived: that is
 *   the request; later pages stream from the inner store as they come.
 */

import type { ObjectMeta, ObjectStore, StagedObject } from "./object_store.ts";

/**
 * A request of the store interface; `claim` is a staged put-if-absent, and
 * `sync` a `syncPrefix` (a flush, which changes nothing stored).
 */
export type StoreOp =
  | "get"
  | "head"
  | "put"
  | "putIfAbsent"
  | "list"
  | "delete"
  | "stage"
  | "claim"
  | "discard"
  | "sync"
  | "removeStaleTemporaries"
  | "removeMadeDirectories";

/** True for requests that change what is stored. */
export function isWrite(op: StoreOp): boolean {
  return op === "put" || op === "putIfAbsent" || op === "stage" || op === "claim" ||
    op === "delete";
}

/** Runs one request (`run`) of operation `op` on `key`; may retry, delay or fail it. */
export type Around = <T>(op: StoreOp, key: string, run: () => Promise<T>) => Promise<T>;

/** Wraps `store` so that each of its requests goes through `around`. */
export function interceptStore(store: ObjectStore, around: Around): ObjectStore {
  const wrapped: ObjectStore = {
    uri: store.uri,
    get: (key, range) => around("get", key, () => store.get(key, range)),
    head: (key) => around("head", key, () => store.head(key)),
    put: (key, bytes) => around("put", key, () => store.put(key, bytes)),
    putIfAbsent: (key, bytes) => around("putIfAbsent", key, () => store.putIfAbsent(key, bytes)),
    delete: (keys) => around("delete", keys[0] ?? "", () => store.delete(keys)),
    list: (prefix, startAfter) => listThrough(store, around, prefix, startAfter),
  };
  if (store.headIsCheap) Object.assign(wrapped, { headIsCheap: true });
  if (store.stage) {
    const stage = store.stage.bind(store);
    wrapped.stage = async (bytes: Uint8Array, near: string): Promise<StagedObject> => {
      const staged = await around("stage", near, () => stage(bytes, near));
      return {
        putIfAbsent: (key, onTaken) => around("claim", key, () => staged.putIfAbsent(key, onTaken)),
        discard: () => around("discard", near, () => staged.discard()),
      };
    };
  }
  if (store.listKeys) {
    const listKeys = store.listKeys.bind(store);
    wrapped.listKeys = (prefix, options) => around("list", prefix, () => listKeys(prefix, options));
  }
  if (store.syncPrefix) {
    const sync = store.syncPrefix.bind(store);
    wrapped.syncPrefix = (prefix) => around("sync", prefix, () => sync(prefix));
  }
  if (store.removeStaleTemporaries) {
    const remove = store.removeStaleTemporaries.bind(store);
    wrapped.removeStaleTemporaries = (beforeMs) =>
      around("removeStaleTemporaries", "", () => remove(beforeMs));
  }
  if (store.removeMadeDirectories) {
    const remove = store.removeMadeDirectories.bind(store);
    wrapped.removeMadeDirectories = () => around("removeMadeDirectories", "", () => remove());
  }
  return wrapped;
}

async function* listThrough(
  store: ObjectStore,
  around: Around,
  prefix: string,
  startAfter: string | undefined,
): AsyncIterable<ObjectMeta> {
  const { iterator, first } = await around("list", prefix, async () => {
    const iterator = store.list(prefix, startAfter)[Symbol.asyncIterator]();
    return { iterator, first: await iterator.next() };
  });
  for (let next = first; !next.done; next = await iterator.next()) yield next.value;
}

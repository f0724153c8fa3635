/**
 * An in-memory store for unit tests, with an injectable clock so that
 * retention rules can be tested without waiting.
 */

import { checkKey, compareKeys } from "./keys.ts";
import type {
  ByteRange,
  DeleteOutcome,
  ObjectMeta,
  ObjectStore,
  PutIfAbsentOutcome,
} from "./object_store.ts";

interface Entry {
  bytes: Uint8Array;
  lastModified: number;
}

/** A store that keeps objects in a map. */
export class MemoryStore implements ObjectStore {
  readonly uri: string;
  readonly objects = new Map<string, Entry>();
  /** The clock that stamps `lastModified`, in ms since the epoch. */
  now: () => number;

  constructor(uri = "memory://test", now: () => number = Date.now) {
    this.uri = uri;
    this.now = now;
  }

  get(key: string, range?: ByteRange): Promise<Uint8Array | undefined> {
    checkKey(key);
    const entry = this.objects.get(key);
    if (!entry) return Promise.resolve(undefined);
    if (!range) return Promise.resolve(entry.bytes.slice());
    const end = range.length === undefined ? undefined : range.offset + range.length;
    return Promise.resolve(entry.bytes.slice(range.offset, end));
  }

  head(key: string): Promise<ObjectMeta | undefined> {
    checkKey(key);
    const entry = this.objects.get(key);
    return Promise.resolve(
      entry ? { key, size: entry.bytes.length, lastModified: entry.lastModified } : undefined,
    );
  }

  put(key: string, bytes: Uint8Array): Promise<void> {
    checkKey(key);
    this.objects.set(key, { bytes: bytes.slice(), lastModified: this.now() });
    return Promise.resolve();
  }

  putIfAbsent(key: string, bytes: Uint8Array): Promise<PutIfAbsentOutcome> {
    checkKey(key);
    if (this.objects.has(key)) return Promise.resolve("exists");
    this.objects.set(key, { bytes: bytes.slice(), lastModified: this.now() });
    return Promise.resolve("created");
  }

  async *list(prefix: string, startAfter?: string): AsyncIterable<ObjectMeta> {
    checkKey(prefix, true);
    const keys = [...this.objects.keys()]
      .filter((k) => k.startsWith(prefix))
      .filter((k) => startAfter === undefined || compareKeys(k, startAfter) > 0)
      .sort(compareKeys);
    for (const key of keys) {
      const entry = this.objects.get(key);
      if (entry) yield { key, size: entry.bytes.length, lastModified: entry.lastModified };
    }
  }

  delete(keys: string[]): Promise<DeleteOutcome> {
    for (const key of keys) {
      checkKey(key);
      this.objects.delete(key);
    }
    return Promise.resolve({ deleted: [...keys], failed: [] });
  }
}

/**
 * A store wrapper that lets chaos kill a writer at exact points of its
 * protocol: right after a data file upload (before the commit), and right
 * after a commit was created (before it was acknowledged). Those are the two
 * windows where a crash could lose or duplicate data if the protocol were
 * wrong, so chaos runs aim for them as well as for random moments.
 */

import type { ObjectStore } from "../storage/object_store.ts";
import { LOG_DIR } from "../ops/table.ts";
import type { ChaosPhase } from "./messages.ts";

/** Wraps a store; `onPhase` is called when a phase point is passed. */
export function chaosStore(
  store: ObjectStore,
  onPhase: (phase: ChaosPhase, key: string) => void,
): ObjectStore {
  return {
    uri: store.uri,
    ...(store.headIsCheap ? { headIsCheap: true } : {}),
    get: (key, range) => store.get(key, range),
    head: (key) => store.head(key),
    list: (prefix, startAfter) => store.list(prefix, startAfter),
    delete: (keys) => store.delete(keys),
    async put(key, bytes) {
      await store.put(key, bytes);
      if (!key.startsWith(`${LOG_DIR}/`)) onPhase("after-upload", key);
    },
    async putIfAbsent(key, bytes) {
      const outcome = await store.putIfAbsent(key, bytes);
      if (outcome === "created") onPhase("after-commit", key);
      return outcome;
    },
    ...(store.stage
      ? {
        async stage(bytes: Uint8Array, near: string) {
          const staged = await store.stage!(bytes, near);
          return {
            async putIfAbsent(key: string) {
              const outcome = await staged.putIfAbsent(key);
              if (outcome === "created") onPhase("after-commit", key);
              return outcome;
            },
            discard: () => staged.discard(),
          };
        },
      }
      : {}),
  };
}

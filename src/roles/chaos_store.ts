/**
 * The store a role runs on: the table's store, with the chaos of the run
 * layered on it, and request retries above that.
 *
 * - Faults (storage-faults, partition, disk-full) are injected at the
 *   storage seam (storage/faults.ts), below the retries, so the role meets
 *   them the way it would meet a failing disk or S3 endpoint; each one is
 *   reported as a `fault` event.
 * - Retries (storage/retry.ts) let a role ride out transient failures; a
 *   failure that outlasts their budget fails the role, which the
 *   orchestrator counts as a crash and restarts.
 * - Phase points let chaos kill a role at exact points of its protocol:
 *   right after a data file (or a compacted file) is uploaded, before the
 *   commit; right after a commit was created, before it was acknowledged;
 *   and with half of a vacuum pass's deletions done. Those are the windows
 *   where a crash could lose or duplicate data if the protocol were wrong.
 */

import { faultyStore } from "../storage/faults.ts";
import type { ObjectStore } from "../storage/object_store.ts";
import { retryingStore } from "../storage/retry.ts";
import { LOG_DIR, type Table } from "../ops/table.ts";
import { deriveKey, mixCounter, toUnit } from "../sources/prng.ts";
import type { ChaosPhase, RoleChannel, RoleSpec } from "./messages.ts";
import { streamTable } from "./table_setup.ts";

/** The time budget of one storage request of a role, retries included. */
export const ROLE_RETRY_BUDGET_MS = 5_000;

/** When a disk-full chaos run fills the disk: half way into the run. */
export function diskFullAt(spec: RoleSpec): number {
  return spec.runStartMs + Math.round(spec.config.durationMs * 0.5);
}

/** The run's table as a role sees it: its store through `roleStore`. */
export async function roleTable(
  spec: RoleSpec,
  channel: RoleChannel,
  seq: () => number = () => -1,
): Promise<Table> {
  const base = await streamTable(spec.config);
  return { ...base, store: roleStore(spec, channel, base.store, seq) };
}

/**
 * The store of a role: `base` with the run's faults, retries and phase
 * points. `seq` tells the batch in flight, for the `dying` report.
 */
export function roleStore(
  spec: RoleSpec,
  channel: RoleChannel,
  base: ObjectStore,
  seq: () => number = () => -1,
): ObjectStore {
  const { config, id } = spec;
  const mode = config.chaos.mode;
  let store = base;
  if (mode === "storage-faults" || mode === "partition" || mode === "disk-full") {
    // Seeded per role and incarnation, so a restart does not replay its faults.
    const key = deriveKey(config.seed, `${id}:${Date.now()}`);
    let n = 0;
    store = faultyStore(store, {
      rate: mode === "storage-faults" ? config.chaos.faultRate : 0,
      random: () => toUnit(mixCounter(key, n++)),
      partitionedUntil: () => channel.partitionedUntil,
      ...(mode === "disk-full" ? { diskFullFrom: diskFullAt(spec) } : {}),
      onFault: (f) =>
        channel.send({
          type: "event",
          at: Date.now(),
          event: {
            role: spec.kind,
            role_id: id,
            event: "fault",
            detail: `${f.kind} on ${f.op} ${f.key}${f.ms !== undefined ? ` (${f.ms} ms)` : ""}`,
          },
        }),
    });
  }
  store = retryingStore(store, { budgetMs: ROLE_RETRY_BUDGET_MS });
  return chaosStore(store, (phase) => {
    if (channel.armed.has(phase)) {
      channel.send({ type: "dying", id, phase, seq: seq() });
      channel.die();
    }
  }, (phase) => channel.armed.has(phase));
}

/**
 * Wraps a store; `onPhase` is called when a phase point is passed (and may
 * not return). A delete is split in two only while `armed("mid-delete")`.
 */
export function chaosStore(
  store: ObjectStore,
  onPhase: (phase: ChaosPhase, key: string) => void,
  armed: (phase: ChaosPhase) => boolean = () => true,
): ObjectStore {
  return {
    uri: store.uri,
    ...(store.headIsCheap ? { headIsCheap: true } : {}),
    get: (key, range) => store.get(key, range),
    head: (key) => store.head(key),
    list: (prefix, startAfter) => store.list(prefix, startAfter),
    async delete(keys) {
      if (keys.length === 0 || !armed("mid-delete")) return await store.delete(keys);
      // Half of the keys first, so that a kill here leaves a pass half done.
      const half = Math.ceil(keys.length / 2);
      const first = await store.delete(keys.slice(0, half));
      onPhase("mid-delete", keys[0]!);
      const rest = half < keys.length
        ? await store.delete(keys.slice(half))
        : { deleted: [], failed: [] };
      return {
        deleted: [...first.deleted, ...rest.deleted],
        failed: [...first.failed, ...rest.failed],
      };
    },
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
            async putIfAbsent(key: string, onTaken?: () => void) {
              const outcome = await staged.putIfAbsent(key, onTaken);
              if (outcome === "created") onPhase("after-commit", key);
              return outcome;
            },
            discard: () => staged.discard(),
          };
        },
      }
      : {}),
    ...(store.removeStaleTemporaries
      ? { removeStaleTemporaries: (beforeMs: number) => store.removeStaleTemporaries!(beforeMs) }
      : {}),
    ...(store.syncPrefix ? { syncPrefix: (prefix: string) => store.syncPrefix!(prefix) } : {}),
  };
}

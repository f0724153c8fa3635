/**
 * Conflict detection between a transaction and the commits that won the
 * versions it tried to take. Each rule is a named, pure function over the
 * transaction's intent and one winning commit; the first rule with a verdict
 * decides.
 *
 * The rules (DESIGN.md, "The commit protocol"):
 * - our own commit (same `txnId`): we already committed, so success;
 * - the same `txn` appId at an equal or higher version: the batch is already
 *   in the table, so success without writing it again;
 * - the same `txn` appId at a lower version: another process committed part
 *   of what this transaction read as not yet committed (a Kafka partition
 *   that moved to another consumer), so this one is stale: conflict, as
 *   Spark's `ConcurrentTransactionException`;
 * - a protocol or metadata change: conflict;
 * - a removal of a file this transaction read: conflict (two compactions of
 *   the same files; the loser drops its bin);
 * - added data while this transaction replaces the whole table: conflict;
 * - a change to a domain this transaction changes: conflict.
 * A blind append therefore conflicts only with metadata or protocol changes.
 */

import type { Action, Txn } from "./actions.ts";
import { fileKey } from "./replay.ts";

/** What a transaction read and what it writes, as far as conflicts go. */
export interface TransactionIntent {
  /** The unique id written into `commitInfo.txnId`. */
  txnId: string;
  /** The version the transaction read. */
  readVersion: number;
  /** Decoded paths of files that must still be active for this transaction to hold. */
  readFiles: ReadonlySet<string>;
  /** True if the transaction replaces everything it read (overwrite). */
  readWholeTable: boolean;
  /** The `txn` markers this transaction commits. */
  appTxns: readonly Txn[];
  /** Domains whose metadata this transaction changes. */
  domains: readonly string[];
}

/** The verdict of the conflict rules on one winning commit. */
export type ConflictVerdict =
  | { kind: "none" }
  | { kind: "ours" }
  | { kind: "already-committed"; rule: string; reason: string }
  | { kind: "conflict"; rule: string; reason: string };

/** One named conflict rule. */
export interface ConflictRule {
  name: string;
  check(intent: TransactionIntent, winner: readonly Action[]): ConflictVerdict;
}

const NONE: ConflictVerdict = { kind: "none" };

/** The winner is our own earlier attempt (its commitInfo holds our txnId). */
export const ourOwnCommit: ConflictRule = {
  name: "ourOwnCommit",
  check(intent, winner) {
    for (const a of winner) {
      if ("commitInfo" in a && a.commitInfo.txnId === intent.txnId) return { kind: "ours" };
    }
    return NONE;
  },
};

/** The winner already committed one of our app markers at an equal or higher version. */
export const appAlreadyCommitted: ConflictRule = {
  name: "appAlreadyCommitted",
  check(intent, winner) {
    if (intent.appTxns.length === 0) return NONE;
    for (const a of winner) {
      if (!("txn" in a)) continue;
      for (const mine of intent.appTxns) {
        if (a.txn.appId === mine.appId && a.txn.version >= mine.version) {
          return {
            kind: "already-committed",
            rule: this.name,
            reason:
              `application "${mine.appId}" already committed version ${a.txn.version} (>= ${mine.version})`,
          };
        }
      }
    }
    return NONE;
  },
};

/**
 * The winner committed one of our app markers at a lower version: someone
 * else moved that application forward since we read it, so what we commit
 * may overlap what it committed (a Kafka partition's offsets, reassigned
 * while a batch was in flight). The caller must read the marker again.
 */
export const appCommittedConcurrently: ConflictRule = {
  name: "appCommittedConcurrently",
  check(intent, winner) {
    if (intent.appTxns.length === 0) return NONE;
    for (const a of winner) {
      if (!("txn" in a)) continue;
      for (const mine of intent.appTxns) {
        if (a.txn.appId === mine.appId && a.txn.version < mine.version) {
          return {
            kind: "conflict",
            rule: this.name,
            reason: `application "${mine.appId}" committed version ${a.txn.version} ` +
              `concurrently, after this transaction read it`,
          };
        }
      }
    }
    return NONE;
  },
};

/** The winner changed the protocol. */
export const protocolChanged: ConflictRule = {
  name: "protocolChanged",
  check(_intent, winner) {
    return winner.some((a) => "protocol" in a)
      ? { kind: "conflict", rule: this.name, reason: "a concurrent commit changed the protocol" }
      : NONE;
  },
};

/** The winner changed the table metadata (schema, partitioning, properties). */
export const metadataChanged: ConflictRule = {
  name: "metadataChanged",
  check(_intent, winner) {
    return winner.some((a) => "metaData" in a)
      ? {
        kind: "conflict",
        rule: this.name,
        reason: "a concurrent commit changed the table metadata",
      }
      : NONE;
  },
};

/** The winner removed a file that this transaction read. */
export const removedFilesWeRead: ConflictRule = {
  name: "removedFilesWeRead",
  check(intent, winner) {
    if (intent.readFiles.size === 0) return NONE;
    for (const a of winner) {
      if ("remove" in a && intent.readFiles.has(fileKey(a.remove.path))) {
        return {
          kind: "conflict",
          rule: this.name,
          reason: `a concurrent commit removed ${a.remove.path}, which this transaction read`,
        };
      }
    }
    return NONE;
  },
};

/** The winner added data while this transaction replaces the whole table. */
export const addedWhileReplacing: ConflictRule = {
  name: "addedWhileReplacing",
  check(intent, winner) {
    if (!intent.readWholeTable) return NONE;
    return winner.some((a) => "add" in a && a.add.dataChange)
      ? {
        kind: "conflict",
        rule: this.name,
        reason: "a concurrent commit added data to the table that this transaction replaces",
      }
      : NONE;
  },
};

/** The winner changed a domain that this transaction changes. */
export const sameDomainChanged: ConflictRule = {
  name: "sameDomainChanged",
  check(intent, winner) {
    if (intent.domains.length === 0) return NONE;
    for (const a of winner) {
      if ("domainMetadata" in a && intent.domains.includes(a.domainMetadata.domain)) {
        return {
          kind: "conflict",
          rule: this.name,
          reason: `a concurrent commit changed domain "${a.domainMetadata.domain}"`,
        };
      }
    }
    return NONE;
  },
};

/** The rules in the order they are applied. */
export const CONFLICT_RULES: readonly ConflictRule[] = [
  ourOwnCommit,
  appAlreadyCommitted,
  appCommittedConcurrently,
  protocolChanged,
  metadataChanged,
  removedFilesWeRead,
  addedWhileReplacing,
  sameDomainChanged,
];

/** Applies the rules to one winning commit; the first verdict decides. */
export function checkConflicts(
  intent: TransactionIntent,
  winner: readonly Action[],
  rules: readonly ConflictRule[] = CONFLICT_RULES,
): ConflictVerdict {
  for (const rule of rules) {
    const verdict = rule.check(intent, winner);
    if (verdict.kind !== "none") return verdict;
  }
  return NONE;
}

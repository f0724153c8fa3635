/**
 * Row tracking (PROTOCOL.md, "Row Tracking") for commits that add new rows:
 * each new file gets `baseRowId` (its first fresh row id, after the table's
 * high water mark) and `defaultRowCommitVersion` (the commit's version), and
 * the commit raises the high water mark in the `delta.rowTracking` domain.
 *
 * Invariants: ids are assigned after the newest high water mark, the
 * snapshot's or a concurrent winner's, so two appends never share an id;
 * files without `numRecords` cannot be tracked and are refused.
 */

import type { Action, DomainMetadata } from "./actions.ts";

/** The domain that holds the row id high water mark. */
export const ROW_TRACKING_DOMAIN = "delta.rowTracking";

/** The high water mark a domain records, or -1 when no row id was assigned yet. */
export function rowIdHighWaterMark(domain: DomainMetadata | undefined): number {
  if (!domain || domain.removed) return -1;
  try {
    const value = JSON.parse(domain.configuration)?.rowIdHighWaterMark;
    if (typeof value === "number" && Number.isSafeInteger(value)) return value;
  } catch {
    // fall through to the error below
  }
  throw new Error(
    `Cannot assign row ids: the ${ROW_TRACKING_DOMAIN} domain holds no rowIdHighWaterMark: ${domain.configuration}`,
  );
}

/**
 * The `actionsFor` (CommitOptions) of a commit that adds new rows to a
 * row-tracking table: the actions with row ids assigned after the newest
 * high water mark (the snapshot's or a winner's), plus the raised mark.
 */
export function rowTrackingActions(
  snapshotDomain: DomainMetadata | undefined,
): (
  actions: readonly Action[],
  version: number,
  winners: readonly (readonly Action[])[],
) => Action[] {
  return (actions, version, winners) => {
    let mark = rowIdHighWaterMark(snapshotDomain);
    for (const winner of winners) {
      for (const a of winner) {
        if ("domainMetadata" in a && a.domainMetadata.domain === ROW_TRACKING_DOMAIN) {
          mark = Math.max(mark, rowIdHighWaterMark(a.domainMetadata));
        }
      }
    }
    const out: Action[] = [];
    let assigned = false;
    for (const action of actions) {
      if (!("add" in action) || !action.add.dataChange) {
        out.push(action);
        continue;
      }
      const rows = numRecords(action.add.stats);
      if (rows === undefined) {
        throw new Error(
          `Cannot assign row ids to ${action.add.path}: its stats have no numRecords`,
        );
      }
      out.push({ add: { ...action.add, baseRowId: mark + 1, defaultRowCommitVersion: version } });
      mark += rows;
      assigned = true;
    }
    if (!assigned) return out;
    out.push({
      domainMetadata: {
        domain: ROW_TRACKING_DOMAIN,
        configuration: JSON.stringify({
          rowIdHighWaterMark: mark,
          domainName: ROW_TRACKING_DOMAIN,
        }),
        removed: false,
      },
    });
    return out;
  };
}

function numRecords(stats: string | null | undefined): number | undefined {
  if (!stats) return undefined;
  try {
    const n = JSON.parse(stats).numRecords;
    return typeof n === "number" ? n : undefined;
  } catch {
    return undefined;
  }
}

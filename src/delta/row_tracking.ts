/**
 * Row tracking (PROTOCOL.md, "Row Tracking") for commits that add files:
 * each new file gets `baseRowId` (its first fresh row id, after the table's
 * high water mark) and `defaultRowCommitVersion` (the commit's version), and
 * the commit raises the high water mark in the `delta.rowTracking` domain.
 * This holds for a compaction's file too (`dataChange: false`), as Spark's
 * OPTIMIZE does: its rows keep their ids through the materialized columns
 * (`materializedRowTracking`), and its fresh `baseRowId` is never read.
 *
 * Invariants: ids are assigned after the newest high water mark, the
 * snapshot's or a concurrent winner's, so two commits never share an id;
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
 * The `actionsFor` (CommitOptions) of a commit that adds files to a
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
  return rowTrackingActionsAfter(rowIdHighWaterMark(snapshotDomain));
}

/** The high water mark a commit sets, or undefined if it sets none. */
export function markOfCommit(actions: readonly Action[]): number | undefined {
  let mark: number | undefined;
  for (const a of actions) {
    if ("domainMetadata" in a && a.domainMetadata.domain === ROW_TRACKING_DOMAIN) {
      mark = Math.max(mark ?? -1, rowIdHighWaterMark(a.domainMetadata));
    }
  }
  return mark;
}

/**
 * `rowTrackingActions` from a known high water mark: the mark as of the
 * version the commit read (or any later one: a mark only rises, so folding
 * a commit twice is harmless).
 */
export function rowTrackingActionsAfter(known: number): (
  actions: readonly Action[],
  version: number,
  winners: readonly (readonly Action[])[],
) => Action[] {
  return (actions, version, winners) => {
    let mark = known;
    for (const winner of winners) mark = Math.max(mark, markOfCommit(winner) ?? -1);
    const out: Action[] = [];
    let assigned = false;
    for (const action of actions) {
      // Every new file gets fresh ids, whether it adds rows or moves them.
      if (!("add" in action) || action.add.baseRowId != null) {
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

/**
 * A row-tracking table's high water mark as of a version, kept by a writer
 * that appends batch after batch (a stream writer): each commit assigns ids
 * after the mark as of the version it read and the marks of the winners of
 * its lost races, at the version it is put at; once committed, the mark is
 * the one it wrote. A writer whose read version moved past `version` (it
 * followed the table) reads the commits in between first (`catchUp`).
 *
 * Invariant: `mark` is at least the high water mark of every version up to
 * `version`, so ids assigned after it are fresh.
 */
export class RowIdMark {
  constructor(public version: number, public mark: number) {}

  /** The mark of a snapshot (its version and `delta.rowTracking` domain). */
  static of(snapshot: {
    version: number;
    domains: ReadonlyMap<string, DomainMetadata>;
  }): RowIdMark {
    return new RowIdMark(
      snapshot.version,
      rowIdHighWaterMark(snapshot.domains.get(ROW_TRACKING_DOMAIN)),
    );
  }

  /** Raises the mark past the commits after `version`, oldest first (`version + 1` on). */
  fold(commits: readonly (readonly Action[])[]): void {
    for (const commit of commits) this.mark = Math.max(this.mark, markOfCommit(commit) ?? -1);
    this.version += commits.length;
  }

  /**
   * The `actionsFor` of one commit that read version `readVersion` (at most
   * `version`): when it lands, call `committed` with its version.
   */
  actionsFor(readVersion: number): {
    actionsFor: (
      actions: readonly Action[],
      version: number,
      winners: readonly (readonly Action[])[],
    ) => Action[];
    committed: (version: number) => void;
  } {
    if (readVersion > this.version) {
      throw new Error(
        `Cannot assign row ids: the high water mark is known as of version ${this.version}, and the commit read version ${readVersion}`,
      );
    }
    const assign = rowTrackingActionsAfter(this.mark);
    let last: { version: number; mark: number | undefined } | undefined;
    return {
      actionsFor: (actions, version, winners) => {
        const out = assign(actions, version, winners);
        let mark = markOfCommit(out);
        for (const winner of winners) mark = Math.max(mark ?? -1, markOfCommit(winner) ?? -1);
        last = { version, mark };
        return out;
      },
      committed: (version) => {
        if (last?.version !== version) return;
        this.version = Math.max(this.version, version);
        this.mark = Math.max(this.mark, last.mark ?? -1);
      },
    };
  }
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

/** The names of a table's materialized row tracking columns (PROTOCOL.md). */
export interface MaterializedColumns {
  rowId: string;
  rowCommitVersion: string;
}

/**
 * The physical names of the materialized row id and row commit version
 * columns that `configuration` names. Throws, naming the missing key, when
 * the table has none: its row ids could not be kept through a rewrite.
 */
export function materializedColumns(configuration: Record<string, string>): MaterializedColumns {
  const rowId = configuration["delta.rowTracking.materializedRowIdColumnName"];
  const rowCommitVersion =
    configuration["delta.rowTracking.materializedRowCommitVersionColumnName"];
  for (
    const [key, value] of [
      ["delta.rowTracking.materializedRowIdColumnName", rowId],
      ["delta.rowTracking.materializedRowCommitVersionColumnName", rowCommitVersion],
    ]
  ) {
    if (!value) {
      throw new Error(
        `Cannot rewrite files of this row-tracking table without losing row ids: its configuration has no ${key}`,
      );
    }
  }
  return { rowId: rowId!, rowCommitVersion: rowCommitVersion! };
}

/**
 * Fills a file's materialized row tracking columns where they are null, in
 * place: a row's id is the materialized value if present, else `baseRowId`
 * plus its position in the physical file (before deletion vectors); its
 * commit version is the materialized value, else `defaultRowCommitVersion`.
 * `rowStart` is the physical position of the columns' first row; a column
 * without a null mask has every value. A file without `baseRowId` (one not
 * yet backfilled while row tracking is being turned on) has rows without
 * ids: they stay null, and so take fresh ids from the file they move to;
 * likewise commit versions without `defaultRowCommitVersion`.
 */
export function fillRowTracking(
  rowIds: { values: BigInt64Array; nulls?: Uint8Array | undefined },
  versions: { values: BigInt64Array; nulls?: Uint8Array | undefined },
  length: number,
  rowStart: number,
  file: { baseRowId?: number | null; defaultRowCommitVersion?: number | null },
): void {
  const base = file.baseRowId;
  if (rowIds.nulls && base != null) {
    for (let i = 0; i < length; i++) {
      if (!rowIds.nulls[i]) continue;
      rowIds.values[i] = BigInt(base + rowStart + i);
      rowIds.nulls[i] = 0;
    }
  }
  const version = file.defaultRowCommitVersion;
  if (versions.nulls && version != null) {
    for (let i = 0; i < length; i++) {
      if (!versions.nulls[i]) continue;
      versions.values[i] = BigInt(version);
      versions.nulls[i] = 0;
    }
  }
}

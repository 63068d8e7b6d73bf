import type { Database } from 'better-sqlite3';

/** Links `at` follows before it scans the table down from the revision instead. */
const AT_WALK_LIMIT = 256;

/** A change-log row as stored; `prev` links to the same key's previous entry. */
export interface HistoryRow {
  revision: number;
  key: string;
  action: string;
  format: string;
  value: Buffer | null;
  ts: number;
  actor: string;
  prev: number | null;
}

/**
 * Per-key reads and pruning of the SQLite change log, which links each key's entries newest to
 * oldest (see linkHistoryChains). A walk costs one rowid lookup per entry it passes.
 */
export class SqliteHistory {
  private readonly stmt;

  constructor(private readonly db: Database) {
    this.stmt = {
      entry: db.prepare<[number], HistoryRow>('SELECT * FROM kv_history WHERE revision = ?'),
      current: db.prepare<[string], number>('SELECT revision FROM kv WHERE key = ?').pluck(),
      head: db.prepare<[string], number>('SELECT revision FROM kv_history_heads WHERE key = ?').pluck(),
      newestFirst: db.prepare('SELECT revision, key, ts FROM kv_history ORDER BY revision DESC').raw(),
      scanDown: db.prepare<[number, string], HistoryRow>(
        'SELECT * FROM kv_history WHERE revision <= ? AND key = ? ORDER BY revision DESC LIMIT 1',
      ),
    };
  }

  /** The key's entries, newest first, up to `limit`. */
  list(key: string, limit: number): HistoryRow[] {
    const rows: HistoryRow[] = [];
    for (let row = this.newest(key); row && rows.length < limit; row = this.previous(row)) rows.push(row);
    return rows;
  }

  /**
   * The key's newest entry at or below `revision`. Only a key with many later entries has a long
   * walk, and such a busy key's entries lie close together, so past AT_WALK_LIMIT links a scan of
   * the table down from `revision` finds the entry sooner.
   */
  at(key: string, revision: number): HistoryRow | undefined {
    let row = this.newest(key);
    for (let steps = 0; row && row.revision > revision; steps++) {
      if (steps === AT_WALK_LIMIT) return this.stmt.scanDown.get(revision, key);
      row = this.previous(row);
    }
    return row;
  }

  /**
   * Drop entries older than `before` (ms) beyond the newest `keepPerKey` of their key; once one
   * entry of a key goes, so do its older ones, so every chain stays whole from its newest entry.
   * Returns the revisions dropped.
   */
  prune(before: number, keepPerKey: number): number[] {
    const seen = new Map<string, number>();
    const cut = new Set<string>();
    const doomed: number[] = [];
    for (const [revision, key, ts] of this.stmt.newestFirst.iterate() as Iterable<[number, string, number]>) {
      const n = (seen.get(key) ?? 0) + 1;
      seen.set(key, n);
      if (n > keepPerKey && (cut.has(key) || ts < before)) {
        cut.add(key);
        doomed.push(revision);
      }
    }
    const drop = this.db.prepare('DELETE FROM kv_history WHERE revision = ?');
    for (const revision of doomed) drop.run(revision);
    if (doomed.length > 0) {
      this.db.exec('DELETE FROM kv_history_heads WHERE revision NOT IN (SELECT revision FROM kv_history)');
    }
    return doomed;
  }

  private newest(key: string): HistoryRow | undefined {
    const current = this.stmt.current.get(key);
    const row = current === undefined ? undefined : this.entry(current, key);
    if (row) return row;
    // a deleted key, or a row the original server re-created without a change-log entry
    const head = this.stmt.head.get(key);
    return head === undefined ? undefined : this.entry(head, key);
  }

  private previous(row: HistoryRow): HistoryRow | undefined {
    return row.prev === null ? undefined : this.entry(row.prev, row.key);
  }

  private entry(revision: number, key: string): HistoryRow | undefined {
    const row = this.stmt.entry.get(revision);
    return row?.key === key ? row : undefined;
  }
}

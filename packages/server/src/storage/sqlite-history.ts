import type { Database } from 'better-sqlite3';
import type { ChangeEntry } from './store.js';

/** Links `at` follows before it scans the table down from the revision instead. */
const AT_WALK_LIMIT = 256;
/** Change-log rows pruning reads, or deletes, in one turn of the event loop. */
export const PRUNE_CHUNK = 10_000;

const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

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
 * The SQLite change log: appends, per-key reads and pruning. It links each key's entries newest
 * to oldest (see linkHistoryChains); a walk costs one rowid lookup per entry it passes.
 */
export class SqliteHistory {
  private readonly stmt;
  private readonly dropChunk;
  private pruning: Promise<number> | undefined;

  constructor(private readonly db: Database) {
    this.stmt = {
      entry: db.prepare<[number], HistoryRow>('SELECT * FROM kv_history WHERE revision = ?'),
      current: db.prepare<[string], number>('SELECT revision FROM kv WHERE key = ?').pluck(),
      head: db.prepare<[string], number>('SELECT revision FROM kv_history_heads WHERE key = ?').pluck(),
      setHead: db.prepare('INSERT OR REPLACE INTO kv_history_heads (key, revision) VALUES (?, ?)'),
      dropHead: db.prepare('DELETE FROM kv_history_heads WHERE key = ?'),
      append: db.prepare(
        'INSERT INTO kv_history (revision, key, action, format, value, ts, actor, prev) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
      ),
      newestBelow: db
        .prepare('SELECT revision, key, ts FROM kv_history WHERE revision < ? ORDER BY revision DESC LIMIT ?')
        .raw(),
      anyBefore: db.prepare<[number], number>('SELECT 1 FROM kv_history WHERE ts < ? LIMIT 1').pluck(),
      drop: db.prepare('DELETE FROM kv_history WHERE revision = ?'),
      raiseFloor: db.prepare(`UPDATE stash_meta SET value = max(value, ?) WHERE name = 'pruned_through'`),
      scanDown: db.prepare<[number, string], HistoryRow>(
        'SELECT * FROM kv_history WHERE revision <= ? AND key = ? ORDER BY revision DESC LIMIT 1',
      ),
    };
    this.dropChunk = db.transaction((revisions: readonly number[]) => {
      this.stmt.raiseFloor.run(revisions.at(-1));
      for (const revision of revisions) this.stmt.drop.run(revision);
    });
  }

  /**
   * Log a change inside the writer's transaction, linked to the key's previous entry: the revision
   * its kv row had (`current`), or for a re-created key the head its delete left behind.
   */
  append(entry: ChangeEntry, current: number | undefined): void {
    const s = this.stmt;
    let prev = current ?? null;
    if (entry.action === 'delete') s.setHead.run(entry.key, entry.revision);
    else if (current === undefined) {
      const head = s.head.get(entry.key);
      if (head !== undefined) {
        prev = head;
        s.dropHead.run(entry.key);
      }
    }
    const { revision, key, action, format, value, timestamp, actor } = entry;
    s.append.run(revision, key, action, format, value, timestamp.getTime(), actor, prev);
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
   * entry of a key goes, so do its older ones. Works a chunk per turn of the event loop, so a large
   * log never stalls requests; writes meanwhile only add newer entries, which can only keep more.
   * Returns how many entries went.
   */
  prune(before: number, keepPerKey: number): Promise<number> {
    this.pruning ??= this.pruneChunked(before, keepPerKey).finally(() => (this.pruning = undefined));
    return this.pruning;
  }

  private async pruneChunked(before: number, keepPerKey: number): Promise<number> {
    // nothing older than the retention (the index on ts answers): no entry can go, and walking
    // the whole log to find that out cost a populated server 30 MB of heap at every start
    if (this.stmt.anyBefore.get(before) === undefined) return 0;
    const seen = new Map<string, number>();
    const cut = new Set<string>();
    const doomed: number[] = [];
    for (let below = Number.MAX_SAFE_INTEGER; ; await nextTurn()) {
      if (!this.db.open) return 0;
      const rows = this.stmt.newestBelow.all(below, PRUNE_CHUNK) as [number, string, number][];
      for (const [revision, key, ts] of rows) {
        const n = (seen.get(key) ?? 0) + 1;
        seen.set(key, n);
        if (n > keepPerKey && (cut.has(key) || ts < before)) {
          cut.add(key);
          doomed.push(revision);
        }
      }
      if (rows.length < PRUNE_CHUNK) break;
      below = (rows.at(-1) as [number, string, number])[0];
    }
    // oldest first, so every chain stays whole from its newest entry; the replay floor rises with
    // each chunk, so a stream resuming meanwhile is told the log no longer reaches back, never a gap
    doomed.reverse();
    let dropped = 0;
    while (dropped < doomed.length) {
      if (dropped > 0) await nextTurn();
      if (!this.db.open) break;
      const part = doomed.slice(dropped, dropped + PRUNE_CHUNK);
      this.dropChunk.immediate(part);
      dropped += part.length;
    }
    if (dropped > 0 && this.db.open) {
      this.db.exec('DELETE FROM kv_history_heads WHERE revision NOT IN (SELECT revision FROM kv_history)');
    }
    return dropped;
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

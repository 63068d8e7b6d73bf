import Database from 'better-sqlite3';
import type { Format } from '@stash/client/core';
import { isFormat } from '@stash/client/core';
import { GroupCommitQueue, type UnitOutcome } from './group-commit.js';
import { migrateSqlite } from './sqlite-schema.js';
import {
  KeyNotFoundError,
  RevisionConflictError,
  type ChangeAction,
  type ChangeEntry,
  type ExportResult,
  type KeyMeta,
  type KeyRecord,
  type ListOptions,
  type Store,
  type WriteOp,
} from './store.js';
import { formatGoTime, parseStoredTime } from './time-format.js';
import { prefixUpperBound } from './prefix-range.js';
import { SqliteRowCache } from './sqlite-row-cache.js';
import { SqliteHistory, type HistoryRow } from './sqlite-history.js';

const DEFAULT_ROW_CACHE = 1000;

export interface SqliteStoreOptions {
  /** file path, `:memory:` or a `file:` DSN */
  path: string;
  /** `full`: an acknowledged write is fsynced; `normal`: the original's trade-off */
  sync?: 'full' | 'normal';
  /** rows kept in memory for reads (0 disables); see SqliteRowCache */
  rowCache?: number;
}

interface KvRow {
  key: string;
  value: Buffer;
  format: string;
  created_at: unknown;
  updated_at: unknown;
  revision: number;
}
/** list rows come back as arrays (better-sqlite3 raw mode): cheaper than objects at 100s of rows */
type MetaRow = [key: string, size: number, format: string, zk: number, createdAt: unknown, updatedAt: unknown, revision: number];
interface WriteUnit {
  ops: readonly WriteOp[];
  actor: string;
}

const asFormat = (f: string): Format => (isFormat(f) ? f : 'text');
const META_COLUMNS = `key, length(CAST(value AS BLOB)) AS size, format,
  (length(CAST(value AS BLOB)) > 4 AND substr(CAST(value AS BLOB), 1, 4) = X'245A4B24') AS zk,
  created_at, updated_at, revision`;

function toRecord(row: KvRow): KeyRecord {
  return {
    key: row.key,
    value: typeof row.value === 'string' ? Buffer.from(row.value) : row.value,
    format: asFormat(row.format),
    createdAt: parseStoredTime(row.created_at),
    updatedAt: parseStoredTime(row.updated_at),
    revision: row.revision,
  };
}
function toMeta(row: MetaRow): KeyMeta {
  return {
    key: row[0],
    size: row[1],
    format: asFormat(row[2]),
    zkEncrypted: row[3] === 1,
    createdAt: parseStoredTime(row[4]),
    updatedAt: parseStoredTime(row[5]),
    revision: row[6],
  };
}
/** The list order of the Store contract: updated_at descending, the later revision first on a tie. */
function newestFirst(a: KeyMeta, b: KeyMeta): number {
  return b.updatedAt.getTime() - a.updatedAt.getTime() || b.revision - a.revision;
}

function toChange(row: HistoryRow): ChangeEntry {
  return {
    revision: row.revision,
    key: row.key,
    action: row.action as ChangeAction,
    format: asFormat(row.format),
    value: row.value,
    timestamp: new Date(row.ts),
    actor: row.actor,
  };
}

/** SQLite adapter: WAL, one connection, writes grouped into one transaction + one fsync. */
export class SqliteStore implements Store {
  readonly engine = 'sqlite' as const;
  readonly db: Database.Database;
  private readonly writes: GroupCommitQueue<WriteUnit, ChangeEntry[]>;
  private readonly stmt;
  private readonly rows: SqliteRowCache;
  private readonly log: SqliteHistory;

  constructor(options: SqliteStoreOptions) {
    const path = options.path.startsWith('file:') ? options.path.slice(5).split('?')[0] || ':memory:' : options.path;
    this.db = new Database(path);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('busy_timeout = 5000');
    this.db.pragma(`synchronous = ${options.sync === 'normal' ? 'NORMAL' : 'FULL'}`);
    this.db.pragma('foreign_keys = ON');
    migrateSqlite(this.db);
    const db = this.db;
    this.stmt = {
      get: db.prepare('SELECT key, value, format, created_at, updated_at, revision FROM kv WHERE key = ?'),
      exists: db.prepare('SELECT revision FROM kv WHERE key = ?').pluck(),
      // ordered in JS, on parsed times: cheaper than SQLite's temporary sort b-tree, and exact
      // where old rows mix time layouts that do not sort as text
      listAll: db.prepare(`SELECT ${META_COLUMNS} FROM kv`).raw(),
      listRange: db.prepare(`SELECT ${META_COLUMNS} FROM kv WHERE key >= ? AND key < ?`).raw(),
      exportAll: db.prepare('SELECT key, value, format, created_at, updated_at, revision FROM kv ORDER BY key'),
      exportRange: db.prepare(
        'SELECT key, value, format, created_at, updated_at, revision FROM kv WHERE key >= ? AND key < ? ORDER BY key',
      ),
      insert: db.prepare(
        'INSERT INTO kv (key, value, format, created_at, updated_at, revision) VALUES (?, ?, ?, ?, ?, ?)',
      ),
      update: db.prepare('UPDATE kv SET value = ?, format = ?, updated_at = ?, revision = ? WHERE key = ?'),
      delete: db.prepare('DELETE FROM kv WHERE key = ?'),
      revision: db.prepare(`SELECT value FROM stash_meta WHERE name = 'revision'`).pluck(),
      setRevision: db.prepare(`UPDATE stash_meta SET value = ? WHERE name = 'revision'`),
      prunedThrough: db.prepare(`SELECT value FROM stash_meta WHERE name = 'pruned_through'`).pluck(),
      since: db.prepare('SELECT * FROM kv_history WHERE revision > ? ORDER BY revision LIMIT ?'),
      begin: db.prepare('BEGIN IMMEDIATE'),
      commit: db.prepare('COMMIT'),
      rollback: db.prepare('ROLLBACK'),
      savepoint: db.prepare('SAVEPOINT unit'),
      release: db.prepare('RELEASE unit'),
      rollbackTo: db.prepare('ROLLBACK TO unit'),
    };
    this.log = new SqliteHistory(db);
    this.writes = new GroupCommitQueue((units) => this.commitGroup(units));
    const dataVersion = db.prepare('PRAGMA data_version').pluck();
    this.rows = new SqliteRowCache(() => dataVersion.get() as number, options.rowCache ?? DEFAULT_ROW_CACHE);
  }

  peek(key: string): KeyRecord | undefined {
    return this.rows.get(key);
  }

  get(key: string): Promise<KeyRecord | undefined> {
    const held = this.rows.get(key);
    if (held) return Promise.resolve(held);
    const row = this.stmt.get.get(key) as KvRow | undefined;
    return Promise.resolve(row && this.rows.remember(toRecord(row)));
  }

  list(options: ListOptions = {}): Promise<KeyMeta[]> {
    const prefix = options.prefix ?? '';
    const upper = prefixUpperBound(prefix);
    // no bound only for '' and all-U+10FFFF prefixes; the filter makes the latter exact
    const rows = (
      upper === undefined ? this.stmt.listAll.all() : this.stmt.listRange.all(prefix, upper)
    ) as MetaRow[];
    const metas: KeyMeta[] = [];
    for (const row of rows) if (row[0].startsWith(prefix)) metas.push(toMeta(row));
    return Promise.resolve(metas.sort(newestFirst));
  }

  exportValues(prefix = ''): Promise<ExportResult> {
    const read = this.db.transaction(() => {
      const upper = prefixUpperBound(prefix);
      const rows = (
        upper === undefined ? this.stmt.exportAll.all() : this.stmt.exportRange.all(prefix, upper)
      ) as KvRow[];
      const items = rows.filter((r) => r.key.startsWith(prefix)).map(toRecord);
      return { revision: this.stmt.revision.get() as number, items };
    });
    return Promise.resolve(read.deferred());
  }

  apply(ops: readonly WriteOp[], actor = ''): Promise<ChangeEntry[]> {
    return this.writes.submit({ ops, actor });
  }

  private commitGroup(units: readonly WriteUnit[]): UnitOutcome<ChangeEntry[]>[] {
    const s = this.stmt;
    const outcomes: UnitOutcome<ChangeEntry[]>[] = [];
    s.begin.run();
    try {
      let revision = s.revision.get() as number;
      const now = new Date();
      const stamp = formatGoTime(now);
      for (const unit of units) {
        const before = revision;
        // a single op checks before it writes, so only multi-op units need a savepoint to undo
        const guarded = unit.ops.length > 1;
        if (guarded) s.savepoint.run();
        try {
          const entries = unit.ops.map((op) => this.applyOne(op, ++revision, now, stamp, unit.actor));
          if (guarded) s.release.run();
          outcomes.push({ ok: true, value: entries });
        } catch (error) {
          // SQLITE_FULL or an I/O error while spilling the page cache rolls back the whole
          // transaction (savepoint included): the group fails with that error, not "no such savepoint"
          if (!this.db.inTransaction) throw error;
          if (guarded) {
            s.rollbackTo.run();
            s.release.run();
          } else if (!(error instanceof RevisionConflictError || error instanceof KeyNotFoundError)) {
            throw error; // failed mid-write without a savepoint: the whole group rolls back
          }
          revision = before; // a failed unit's revisions never became visible, so they are reused
          outcomes.push({ ok: false, error });
        }
      }
      s.setRevision.run(revision);
      s.commit.run();
    } catch (error) {
      if (this.db.inTransaction) s.rollback.run();
      this.rows.clear();
      throw error;
    }
    for (const o of outcomes) if (o.ok) for (const e of o.value) this.rows.invalidate(e.key);
    return outcomes;
  }

  private applyOne(op: WriteOp, revision: number, now: Date, stamp: string, actor: string): ChangeEntry {
    const s = this.stmt;
    const current = s.exists.get(op.key) as number | undefined;
    if (op.ifRevision !== undefined && op.ifRevision !== (current ?? 0)) {
      throw new RevisionConflictError(op.key, current ?? 0);
    }
    let action: ChangeAction;
    let format: Format = 'text';
    let value: Buffer | null = null;
    if (op.kind === 'delete') {
      if (current === undefined) throw new KeyNotFoundError(op.key);
      s.delete.run(op.key);
      action = 'delete';
    } else {
      value = Buffer.from(op.value.buffer, op.value.byteOffset, op.value.byteLength);
      format = op.format;
      if (current !== undefined) {
        s.update.run(value, format, stamp, revision, op.key);
        action = 'update';
      } else {
        s.insert.run(op.key, value, format, stamp, stamp, revision);
        action = 'create';
      }
    }
    const entry: ChangeEntry = { revision, key: op.key, action, format, value, timestamp: now, actor };
    this.log.append(entry, current);
    return entry;
  }

  history(key: string, limit: number): Promise<ChangeEntry[]> {
    return Promise.resolve(this.log.list(key, limit).map(toChange));
  }

  async getAt(key: string, revision: number): Promise<KeyRecord | undefined> {
    const row = this.log.at(key, revision);
    if (row) {
      if (row.action === 'delete' || row.value === null) return undefined;
      const ts = new Date(row.ts);
      return { key, value: row.value, format: asFormat(row.format), createdAt: ts, updatedAt: ts, revision: row.revision };
    }
    // keys written before the change log existed: only their current value is known
    const current = await this.get(key);
    return current && current.revision <= revision && revision <= (this.stmt.revision.get() as number)
      ? current
      : undefined;
  }

  changesSince(after: number, limit: number): Promise<ChangeEntry[]> {
    return Promise.resolve((this.stmt.since.all(after, limit) as HistoryRow[]).map(toChange));
  }

  currentRevision(): Promise<number> {
    return Promise.resolve(this.stmt.revision.get() as number);
  }

  oldestRetainedRevision(): Promise<number> {
    return Promise.resolve((this.stmt.prunedThrough.get() as number) + 1);
  }

  pruneHistory(before: Date, keepPerKey: number): Promise<number> {
    return this.log.prune(before.getTime(), keepPerKey);
  }

  close(): Promise<void> {
    this.writes.close();
    if (this.db.open) this.db.close();
    return Promise.resolve();
  }
}

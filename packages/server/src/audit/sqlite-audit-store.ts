import type { Database } from 'better-sqlite3';
import { rfc3339 } from '../shared/wire-format.js';
import { prefixUpperBound } from '../storage/prefix-range.js';
import { toAuditEntry, type AuditRow } from './audit-row.js';
import {
  keyMatch,
  type AuditFilter,
  type AuditPage,
  type AuditRecord,
  type AuditStore,
} from './audit-store.js';

const COLUMNS = 'id, timestamp, action, key, actor, actor_type, result, ip, user_agent, value_size, request_id';

// timestamps are TEXT as in the original: RFC 3339 in whole seconds, written in UTC so that text
// order is time order (the original wrote server-local time, which is the same on a UTC host)
export const sqliteAuditTime = (date: Date): string => rfc3339(date);

/** Audit rows in the `audit_log` table of the store's SQLite database (same connection). */
export class SqliteAuditStore implements AuditStore {
  private readonly insertRow;
  private readonly insertMany;

  constructor(private readonly db: Database) {
    this.insertRow = db.prepare(
      `INSERT INTO audit_log (timestamp, action, key, actor, actor_type, result, ip, user_agent, value_size, request_id)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    // one transaction (one fsync) per batch of buffered rows
    this.insertMany = db.transaction((records: readonly AuditRecord[]) => {
      for (const r of records) {
        this.insertRow.run(
          sqliteAuditTime(r.timestamp),
          r.action,
          r.key,
          r.actor,
          r.actorType,
          r.result,
          r.ip || null,
          r.userAgent || null,
          r.valueSize,
          r.requestId || null,
        );
      }
    });
  }

  insert(records: readonly AuditRecord[]): Promise<void> {
    if (records.length > 0) this.insertMany.immediate(records);
    return Promise.resolve();
  }

  query(filter: AuditFilter, limit: number, offset = 0): Promise<AuditPage> {
    const where: string[] = [];
    const params: unknown[] = [];
    const add = (condition: string, ...values: unknown[]): void => {
      where.push(condition);
      params.push(...values);
    };
    if (filter.key !== undefined) {
      const match = keyMatch(filter.key);
      // a byte-order range is an exact, case-sensitive prefix test (SQLite's LIKE folds ASCII case)
      if ('exact' in match) add('key = ?', match.exact);
      else {
        const upper = prefixUpperBound(match.prefix);
        if (upper === undefined) add('key >= ?', match.prefix);
        else add('key >= ? AND key < ?', match.prefix, upper);
      }
    }
    if (filter.actor !== undefined) add('actor = ?', filter.actor);
    if (filter.actorType !== undefined) add('actor_type = ?', filter.actorType);
    if (filter.action !== undefined) add('action = ?', filter.action);
    if (filter.result !== undefined) add('result = ?', filter.result);
    if (filter.from) add('timestamp >= ?', sqliteAuditTime(filter.from));
    if (filter.to) add('timestamp <= ?', sqliteAuditTime(filter.to));
    const clause = where.length > 0 ? `WHERE ${where.join(' AND ')}` : '';
    const read = this.db.transaction(() => {
      const rows = this.db
        .prepare(`SELECT ${COLUMNS} FROM audit_log ${clause} ORDER BY timestamp DESC, id DESC LIMIT ? OFFSET ?`)
        .all(...params, limit, offset) as AuditRow[];
      const total = this.db.prepare(`SELECT COUNT(*) FROM audit_log ${clause}`).pluck().get(...params) as number;
      return { entries: rows.map(toAuditEntry), total };
    });
    return Promise.resolve(read.deferred());
  }

  deleteBefore(cutoff: Date): Promise<number> {
    const info = this.db.prepare('DELETE FROM audit_log WHERE timestamp < ?').run(sqliteAuditTime(cutoff));
    return Promise.resolve(info.changes);
  }
}

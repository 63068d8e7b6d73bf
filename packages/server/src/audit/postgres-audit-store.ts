import type { Sql } from 'postgres';
import { escapeLike, keyMatch, type AuditFilter, type AuditPage, type AuditRecord, type AuditStore } from './audit-store.js';
import { toAuditEntry } from './audit-row.js';
import { AUDIT_LOG_TABLE } from '../storage/postgres-schema.js';

const COLUMNS = 'id, timestamp, action, key, actor, actor_type, result, ip, user_agent, value_size, request_id';

/** Audit rows in PostgreSQL's `audit_log` (TIMESTAMPTZ timestamps), on the store's pool. */
export class PostgresAuditStore implements AuditStore {
  private constructor(private readonly sql: Sql) {}

  static async create(sql: Sql): Promise<PostgresAuditStore> {
    await sql.unsafe(AUDIT_LOG_TABLE); // normally there already (storage schema); never depend on the order
    return new PostgresAuditStore(sql);
  }

  async insert(records: readonly AuditRecord[]): Promise<void> {
    if (records.length === 0) return;
    const rows = records.map((r) => ({
      timestamp: r.timestamp,
      action: r.action,
      key: r.key,
      actor: r.actor,
      actor_type: r.actorType,
      result: r.result,
      ip: r.ip || null,
      user_agent: r.userAgent || null,
      value_size: r.valueSize,
      request_id: r.requestId || null,
    }));
    await this.sql`INSERT INTO audit_log ${this.sql(rows)}`;
  }

  async query(filter: AuditFilter, limit: number, offset = 0): Promise<AuditPage> {
    const where: string[] = [];
    const params: Array<string | Date | number> = [];
    const add = (condition: string, value: string | Date | number): void => {
      params.push(value);
      where.push(condition.replace('?', `$${params.length}`));
    };
    if (filter.key !== undefined) {
      const match = keyMatch(filter.key);
      if ('exact' in match) add('key = ?', match.exact);
      else if (match.prefix !== '') add(`key LIKE ? ESCAPE '\\'`, `${escapeLike(match.prefix)}%`);
    }
    if (filter.actor !== undefined) add('actor = ?', filter.actor);
    if (filter.actorType !== undefined) add('actor_type = ?', filter.actorType);
    if (filter.action !== undefined) add('action = ?', filter.action);
    if (filter.result !== undefined) add('result = ?', filter.result);
    // whole seconds, as the SQLite adapter and the original's RFC 3339 text compare
    if (filter.from) add(`timestamp >= date_trunc('second', ?::timestamptz)`, filter.from);
    if (filter.to) add(`timestamp < date_trunc('second', ?::timestamptz) + interval '1 second'`, filter.to);
    const clause = where.length > 0 ? `WHERE ${where.join(' AND ')}` : '';
    const [rows, counted] = await Promise.all([
      this.sql.unsafe(`SELECT ${COLUMNS} FROM audit_log ${clause} ORDER BY timestamp DESC, id DESC LIMIT $${params.length + 1} OFFSET $${params.length + 2}`, [
        ...params,
        limit,
        offset,
      ]),
      this.sql.unsafe(`SELECT COUNT(*) AS n FROM audit_log ${clause}`, params),
    ]);
    return { entries: rows.map(toAuditEntry), total: Number(counted[0]?.['n'] ?? 0) };
  }

  async deleteBefore(cutoff: Date): Promise<number> {
    const result = await this.sql`DELETE FROM audit_log WHERE timestamp < ${cutoff}`;
    return result.count;
  }
}

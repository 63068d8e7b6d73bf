import type { AuditFilter, AuditPage, AuditRecord } from '../shared/audit-records.js';

export * from '../shared/audit-records.js';

/** Persistence of the audit log; one adapter per database engine, on the KV store's connection. */
export interface AuditStore {
  insert(records: readonly AuditRecord[]): Promise<void>;
  /** newest first: `limit` entries after skipping `offset` */
  query(filter: AuditFilter, limit: number, offset?: number): Promise<AuditPage>;
  /** delete rows older than `cutoff`; returns how many went */
  deleteBefore(cutoff: Date): Promise<number>;
}

/** The key filter split into exact match or prefix (a trailing `*`). */
export function keyMatch(key: string): { exact: string } | { prefix: string } {
  return key.endsWith('*') ? { prefix: key.slice(0, -1) } : { exact: key };
}

/** Escape `\`, `%` and `_` so a prefix is literal inside `LIKE ... ESCAPE '\'`. */
export function escapeLike(text: string): string {
  return text.replace(/[\\%_]/g, (c) => `\\${c}`);
}

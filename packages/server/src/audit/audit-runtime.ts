import type { FastifyInstance } from 'fastify';
import type { AccessControl } from '../shared/access.js';
import type { Logger } from '../logger.js';
import type { PostgresStore } from '../storage/postgres-store.js';
import type { SqliteStore } from '../storage/sqlite-store.js';
import type { Store } from '../storage/store.js';
import { createAuditRecorder } from './audit-hook.js';
import { AuditLog } from './audit-log.js';
import { createAuditQueryRoute } from './audit-query-route.js';
import type { AuditStore } from './audit-store.js';

export interface AuditRuntime {
  log: AuditLog;
  /** the `/kv` recording hook and `POST /audit/query`, for createApp's `plugins` */
  plugins: Array<(app: FastifyInstance) => void>;
  /** write the last rows; call after the HTTP server closed and before the store does */
  close(): Promise<void>;
}

export interface AuditDeps {
  /** the raw store (not a decorator): the audit table lives on its connection */
  store: Store;
  access: AccessControl;
  log: Logger;
}

/** Start the audit log (`--audit.enabled`): table adapter, retention cleanup, hook and query route. */
export async function startAudit(
  options: { retentionMs: number; queryLimit: number },
  deps: AuditDeps,
): Promise<AuditRuntime> {
  const audit = new AuditLog(await createAuditStore(deps.store), deps.log, options);
  await audit.startRetention();
  return {
    log: audit,
    plugins: [
      createAuditRecorder({ audit, access: deps.access, store: deps.store, log: deps.log }),
      createAuditQueryRoute({ audit, access: deps.access, log: deps.log }),
    ],
    close: () => audit.close(),
  };
}

/** The audit adapter for the store's engine, sharing the raw store's connection. */
export async function createAuditStore(store: Store): Promise<AuditStore> {
  if (store.engine === 'sqlite' && 'db' in store) {
    const { SqliteAuditStore } = await import('./sqlite-audit-store.js');
    return new SqliteAuditStore((store as SqliteStore).db);
  }
  if (store.engine === 'postgres' && 'sql' in store) {
    const { PostgresAuditStore } = await import('./postgres-audit-store.js');
    return PostgresAuditStore.create((store as PostgresStore).sql);
  }
  throw new Error('the audit log needs the raw SQLite or PostgreSQL store, not a wrapper');
}

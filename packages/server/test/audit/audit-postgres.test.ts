import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuditLog } from '../../src/audit/audit-log.js';
import { createAuditStore } from '../../src/audit/audit-runtime.js';
import type { AuditRecord } from '../../src/audit/audit-store.js';
import { silentLogger } from '../../src/logger.js';
import { PostgresStore } from '../../src/storage/postgres-store.js';
import { createTestDatabase, PG_URL, type TestDatabase } from '../helpers/pg.js';
import { startTestServer, type TestServer } from '../helpers/test-server.js';
import { put, waitForAudit } from './audit-helpers.js';
import { defineAuditSuite } from './audit-suite.js';

if (!PG_URL) console.warn('audit PostgreSQL tests skipped: STASH_TEST_PG_URL is not set');

/** A server on a fresh database of its own; closing it drops the database. */
async function startPgServer(flags: string[]): Promise<TestServer> {
  const db = await createTestDatabase();
  const server = await startTestServer(['--db', db.url, ...flags]);
  return {
    ...server,
    close: async () => {
      await server.close();
      await db.drop();
    },
  };
}

describe.skipIf(!PG_URL)('audit log on PostgreSQL', () => {
  defineAuditSuite('PostgreSQL', startPgServer);

  describe('table and retention', () => {
    let db: TestDatabase;
    let store: PostgresStore;
    beforeAll(async () => {
      db = await createTestDatabase();
      store = await PostgresStore.connect(db.url);
    });
    afterAll(async () => {
      await store?.close();
      await db?.drop();
    });

    it('creates audit_log itself when the storage schema did not', async () => {
      await store.sql.unsafe('DROP TABLE audit_log');
      const audit = await createAuditStore(store);
      const row: AuditRecord = {
        timestamp: new Date(),
        action: 'read',
        key: 'k',
        actor: 'anonymous',
        actorType: 'public',
        result: 'success',
        ip: '',
        userAgent: '',
        requestId: '',
        valueSize: null,
      };
      await audit.insert([row, { ...row, key: 'old', timestamp: new Date(Date.now() - 5 * 3_600_000) }]);
      const page = await audit.query({}, 10);
      expect([page.total, page.entries.map((e) => e.key)]).toEqual([2, ['k', 'old']]);
      expect(page.entries[0]).toMatchObject({ ip: '', userAgent: '', requestId: '', valueSize: null });
    });

    it('deletes rows past retention', async () => {
      const log = new AuditLog(await createAuditStore(store), silentLogger, { retentionMs: 3_600_000, queryLimit: 10 });
      expect(await log.prune()).toBe(1);
      expect((await log.query({}, 0)).page.entries.map((e) => e.key)).toEqual(['k']);
      await log.close();
    });
  });

  describe('two servers on one database', () => {
    let db: TestDatabase;
    let a: TestServer;
    let b: TestServer;
    beforeAll(async () => {
      db = await createTestDatabase();
      a = await startTestServer(['--db', db.url, '--audit.enabled', '--auth.file', `${import.meta.dirname}/../fixtures/audit-auth.yml`]);
      b = await startTestServer(['--db', db.url, '--audit.enabled', '--auth.file', `${import.meta.dirname}/../fixtures/audit-auth.yml`]);
    });
    afterAll(async () => {
      await a?.close();
      await b?.close();
      await db?.drop();
    });

    it('sees the requests of both in one query', async () => {
      await put(a.url, 'two/a', 'x');
      await put(b.url, 'two/b', 'y');
      await waitForAudit(b.url, { key: 'two/b' }, 1); // b flushes its own rows when queried
      const { entries } = await waitForAudit(a.url, { key: 'two/*' }, 2);
      expect(entries.map((e) => e.key).sort()).toEqual(['two/a', 'two/b']);
    });
  });
});

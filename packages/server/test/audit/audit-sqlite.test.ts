import { rmSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { AuditLog } from '../../src/audit/audit-log.js';
import { createAuditStore } from '../../src/audit/audit-runtime.js';
import { createLogger, silentLogger } from '../../src/logger.js';
import { SqliteStore } from '../../src/storage/sqlite-store.js';
import { makeTempDir, startTestServer, type TestServer } from '../helpers/test-server.js';
import { defineAuditSuite } from './audit-suite.js';
import { ADMIN, AUDIT_AUTH_FILE, get, postQuery, put, waitForAudit } from './audit-helpers.js';

defineAuditSuite('SQLite', (flags) => startTestServer(flags));

const countRows = (file: string): number => {
  const db = new Database(file, { readonly: true });
  try {
    return db.prepare('SELECT COUNT(*) FROM audit_log').pluck().get() as number;
  } finally {
    db.close();
  }
};

describe('audit log on SQLite: lifecycle', () => {
  const dir = makeTempDir('stash-audit-');
  const db = join(dir, 'stash.db');
  let server: TestServer | undefined;
  afterEach(async () => {
    await server?.close();
    server = undefined;
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('writes every buffered row before the database closes', async () => {
    server = await startTestServer(['--db', db, '--audit.enabled']);
    for (let i = 0; i < 20; i++) await put(server.url, `life/k${i}`, 'v', {});
    await server.close();
    server = undefined;
    expect(countRows(db)).toBe(20);
  });

  it('deletes rows past retention at start-up, and keeps everything with retention 0', async () => {
    const store = new SqliteStore({ path: db });
    const audit = await createAuditStore(store);
    const old = { action: 'read', key: 'old', actor: 'a', actorType: 'user', result: 'success', ip: '', userAgent: '', requestId: '', valueSize: null } as const;
    await audit.insert([
      { ...old, timestamp: new Date(Date.now() - 3 * 3_600_000) },
      { ...old, key: 'recent', timestamp: new Date(Date.now() - 10 * 60_000) },
    ]);
    await store.close();

    server = await startTestServer(['--db', db, '--audit.enabled', '--audit.retention', '0']);
    await server.close();
    expect(countRows(db)).toBe(22);

    const lines: string[] = [];
    server = await startTestServer(['--db', db, '--audit.enabled', '--audit.retention', '2h'], {
      log: createLogger({ write: (l) => lines.push(l) }),
    });
    await server.close();
    server = undefined;
    expect(countRows(db)).toBe(21);
    expect(lines.some((l) => l.includes('removed 1 entries past retention'))).toBe(true);
  });

  it('prunes on the hourly schedule too (AuditLog.prune against the real table)', async () => {
    const store = new SqliteStore({ path: db });
    const log = new AuditLog(await createAuditStore(store), silentLogger, { retentionMs: 60_000, queryLimit: 10 });
    expect(await log.prune(new Date(Date.now() + 3_600_000))).toBe(21);
    await log.close();
    await store.close();
  });

  it('records nothing and serves no query route when disabled', async () => {
    server = await startTestServer(['--db', db]);
    await put(server.url, 'off/a', 'v', {});
    await get(server.url, 'off/a', {});
    expect((await postQuery(server.url, {}, {})).status).toBe(404);
    await server.close();
    server = undefined;
    expect(countRows(db)).toBe(0);
  });

  it('answers 401 on queries when auth is off (the original needs an auth file for them)', async () => {
    server = await startTestServer(['--audit.enabled']);
    await put(server.url, 'anon/a', 'v', {});
    const res = await postQuery(server.url, {}, {});
    expect([res.status, await res.json()]).toEqual([401, { error: 'unauthorized' }]);
  });

  it('keeps secret values out of the audit table', async () => {
    server = await startTestServer(['--audit.enabled', '--auth.file', AUDIT_AUTH_FILE, '--secrets.key', '0123456789abcdef-test']);
    expect((await put(server.url, 'app/secrets/pw', 'Audit-Hidden-Value-42')).status).toBe(201);
    expect(await (await get(server.url, 'app/secrets/pw')).text()).toBe('Audit-Hidden-Value-42');
    const { entries } = await waitForAudit(server.url, { key: 'app/secrets/pw' }, 2);
    expect(entries.map((e) => [e.action, e.value_size])).toEqual([['read', 21], ['create', 21]]);
    const raw = (server.store as SqliteStore).db.prepare('SELECT * FROM audit_log').all();
    expect(JSON.stringify(raw)).not.toContain('Audit-Hidden-Value-42');
    expect((await postQuery(server.url, { key: 'app/*' }, ADMIN)).status).toBe(200);
  });
});

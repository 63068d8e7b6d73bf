import { join } from 'node:path';
import Database from 'better-sqlite3';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PostgresSessionStore, SqliteSessionStore, type SessionStore } from '../../src/auth/session-store.js';
import { migrateSqlite } from '../../src/storage/sqlite-schema.js';
import { createTestDatabase, PG_URL, type TestDatabase } from '../helpers/pg.js';
import { makeTempDir, startTestServer } from '../helpers/test-server.js';
import { ACL_FILE, loginCookie } from './login-helpers.js';

const HOUR = 3_600_000;

/** The same contract for both engines. */
function contract(open: () => Promise<SessionStore>): void {
  let store: SessionStore;
  beforeAll(async () => {
    store = await open();
  });

  it('creates, reads and deletes a session', async () => {
    const expiresAt = new Date(Math.floor(Date.now() / 1000) * 1000 + HOUR);
    await store.create({ token: 't-1', username: 'alice', expiresAt });
    const got = await store.get('t-1');
    expect(got?.username).toBe('alice');
    expect(got?.expiresAt.getTime()).toBe(expiresAt.getTime());
    await store.delete('t-1');
    expect(await store.get('t-1')).toBeUndefined();
    expect(await store.get('never')).toBeUndefined();
  });

  it('treats expired rows as missing and deletes them on cleanup', async () => {
    await store.create({ token: 'old-1', username: 'bob', expiresAt: new Date(Date.now() - 1000) });
    await store.create({ token: 'new-1', username: 'bob', expiresAt: new Date(Date.now() + HOUR) });
    expect(await store.get('old-1')).toBeUndefined();
    expect(await store.deleteExpired()).toBe(1);
    expect(await store.get('new-1')).toBeDefined();
  });

  it('deletes all sessions of given users only', async () => {
    for (const [token, user] of [['a-1', 'ann'], ['a-2', 'ann'], ['c-1', 'carl'], ['d-1', 'dora']] as const) {
      await store.create({ token, username: user, expiresAt: new Date(Date.now() + HOUR) });
    }
    expect(await store.deleteForUsers(['ann', 'carl'])).toBe(3);
    expect(await store.deleteForUsers([])).toBe(0);
    expect(await store.get('a-1')).toBeUndefined();
    expect(await store.get('d-1')).toBeDefined();
  });

  it('tells which tokens still have a session', async () => {
    for (const token of ['e-1', 'e-2']) await store.create({ token, username: 'erin', expiresAt: new Date(Date.now() + HOUR) });
    expect(await store.existing(['e-1', 'e-2', 'nope'])).toEqual(new Set(['e-1', 'e-2']));
    await store.delete('e-1');
    expect(await store.existing(['e-1', 'e-2'])).toEqual(new Set(['e-2']));
    expect(await store.existing([])).toEqual(new Set());
  });
}

describe('SqliteSessionStore', () => {
  const db = new Database(join(makeTempDir('stash-sessions-'), 's.db'));
  migrateSqlite(db);
  afterAll(() => db.close());
  contract(() => Promise.resolve(new SqliteSessionStore(db)));

  it("reads expiry times in the original's layouts", async () => {
    const store = new SqliteSessionStore(db);
    db.prepare('INSERT INTO sessions (token, username, expires_at) VALUES (?, ?, ?)').run('go-1', 'eve', '2999-01-02 03:04:05.123456789 +0000 UTC');
    db.prepare('INSERT INTO sessions (token, username, expires_at) VALUES (?, ?, ?)').run('go-2', 'eve', '2001-01-02 03:04:05');
    expect((await store.get('go-1'))?.expiresAt.toISOString()).toBe('2999-01-02T03:04:05.123Z');
    expect(await store.get('go-2')).toBeUndefined();
  });
});

if (!PG_URL) console.warn('STASH_TEST_PG_URL is not set: skipping PostgreSQL session tests');

describe.skipIf(!PG_URL)('PostgresSessionStore', () => {
  let database: TestDatabase;
  let sql: postgres.Sql;
  beforeAll(async () => {
    database = await createTestDatabase();
    sql = postgres(database.url, { max: 2, onnotice: () => undefined });
  });
  afterAll(async () => {
    await sql?.end();
    await database?.drop();
  });
  contract(() => PostgresSessionStore.open(sql));

  it('works through a real server on PostgreSQL', async () => {
    const server = await startTestServer(['--db', database.url, '--auth.file', ACL_FILE]);
    try {
      const cookie = await loginCookie(server.url, 'bob', 'bob-pw');
      const res = await fetch(`${server.url}/kv/bob/pg`, { method: 'PUT', headers: { cookie }, body: 'x' });
      expect(res.status).toBe(201);
      const out = await fetch(`${server.url}/logout`, { method: 'POST', headers: { cookie }, redirect: 'manual' });
      expect(out.status).toBe(303);
      const after = await fetch(`${server.url}/kv/bob/pg`, { method: 'PUT', headers: { cookie }, body: 'x' });
      expect(after.status).toBe(401);
    } finally {
      await server.close();
    }
  });
});

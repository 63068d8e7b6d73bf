import { afterEach, describe, expect, it } from 'vitest';
import { SESSION_RECHECK_MS } from '../../src/auth/auth-runtime.js';
import { openStream, put } from '../events/sse-helpers.js';
import { createTestDatabase, PG_URL, type TestDatabase } from '../helpers/pg.js';
import { startTestServer, type TestServer } from '../helpers/test-server.js';
import { ACL_FILE, loginCookie } from './login-helpers.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const ADMIN = { authorization: 'Bearer rw-token-1234' };

if (!PG_URL) console.warn('remote-logout: STASH_TEST_PG_URL is not set, running on SQLite only');

// two servers on one database: a logout on A must stop B's open streams of that session
describe.each([
  ['one SQLite file', false],
  ['one PostgreSQL database', true],
] as const)('a logout on another server sharing %s', (_name, onPostgres) => {
  let servers: TestServer[] = [];
  let database: TestDatabase | undefined;
  afterEach(async () => {
    await Promise.all(servers.map((s) => s.close()));
    servers = [];
    await database?.drop();
    database = undefined;
  });

  it.skipIf(onPostgres && !PG_URL)('reaches the streams the session opened there within the recheck interval', async () => {
    database = onPostgres ? await createTestDatabase() : undefined;
    const a = await startTestServer(['--auth.file', ACL_FILE, ...(database ? ['--db', database.url] : [])]);
    servers.push(a);
    const b = await startTestServer(['--auth.file', ACL_FILE, '--db', database?.url ?? a.config.db]);
    servers.push(b);

    const cookie = await loginCookie(a.url, 'bob', 'bob-pw');
    const stream = await openStream(`${b.url}/kv/subscribe/bob/*`, { cookie });
    expect(stream.status).toBe(200);
    expect(await put(b.url, 'bob/before', 'x', { cookie })).toBe(201);
    await stream.waitFor((s) => s.changes().some((c) => c.key === 'bob/before'));

    const out = await fetch(`${a.url}/logout`, { method: 'POST', headers: { cookie }, redirect: 'manual' });
    expect(out.status).toBe(303);
    expect((await fetch(`${b.url}/kv/bob/before`, { headers: { cookie } })).status).toBe(401);
    await sleep(SESSION_RECHECK_MS + 1_000);
    expect(await put(b.url, 'bob/after', 'y', ADMIN)).toBe(201);
    expect(await put(b.url, 'bob/marker', 'z', ADMIN)).toBe(201);
    await sleep(500);
    expect(stream.changes().map((c) => c.key)).toEqual(['bob/before']);
    stream.close();
  }, 30_000);
});

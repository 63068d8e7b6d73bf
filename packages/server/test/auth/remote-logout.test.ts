import { afterAll, describe, expect, it } from 'vitest';
import { SESSION_RECHECK_MS } from '../../src/auth/auth-runtime.js';
import { metricValue, openStream, put, type FetchStream } from '../events/sse-helpers.js';
import { createTestDatabase, PG_URL, type TestDatabase } from '../helpers/pg.js';
import { startTestServer, type TestServer } from '../helpers/test-server.js';
import { ACL_FILE, loginCookie } from './login-helpers.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const keys = (s: FetchStream): string[] => s.changes().map((c) => c.key);
const ADMIN = { authorization: 'Bearer rw-token-1234' };
// fetch's pool may leave a request-less socket behind an aborted stream; do not wait 5 s for it
const QUICK_CLOSE = ['--server.shutdown-timeout', '300ms'];

if (!PG_URL) console.warn('remote-logout: STASH_TEST_PG_URL is not set, running on SQLite only');

// two servers on one database: a logout on A must stop B's open streams of that session. Each
// case waits for B's session recheck timer, so the two run side by side, each on its own servers.
describe.concurrent('a logout on another server sharing the database', () => {
  const servers: TestServer[] = [];
  const databases: TestDatabase[] = [];
  afterAll(async () => {
    await Promise.all(servers.map((s) => s.close()));
    await Promise.all(databases.map((d) => d.drop()));
  });

  const reachesStreams = async (onPostgres: boolean): Promise<void> => {
    const database = onPostgres ? await createTestDatabase() : undefined;
    if (database) databases.push(database);
    const a = await startTestServer([...QUICK_CLOSE, '--auth.file', ACL_FILE, ...(database ? ['--db', database.url] : [])]);
    servers.push(a);
    const b = await startTestServer([...QUICK_CLOSE, '--auth.file', ACL_FILE, '--db', database?.url ?? a.config.db]);
    servers.push(b);

    const cookie = await loginCookie(a.url, 'bob', 'bob-pw');
    const stream = await openStream(`${b.url}/kv/subscribe/bob/*`, { cookie });
    expect(stream.status).toBe(200);
    // an admin token stream on B: once it has a change, B has handed that change to every open
    // stream (one synchronous fan-out), so B's sent counter tells whether bob's stream got it
    const witness = await openStream(`${b.url}/kv/subscribe/bob/*`, ADMIN);
    expect(await put(b.url, 'bob/before', 'x', { cookie })).toBe(201);
    await stream.waitFor((s) => keys(s).includes('bob/before'));
    await witness.waitFor((s) => keys(s).includes('bob/before'));
    /** Write `key` on B as admin; resolves with how many streams B sent it to. */
    const sentTo = async (key: string): Promise<number> => {
      const before = await metricValue(b.metrics.sseEventsSent);
      expect(await put(b.url, key, 'p', ADMIN)).toBe(201);
      await witness.waitFor((s) => keys(s).includes(key));
      return (await metricValue(b.metrics.sseEventsSent)) - before;
    };

    const out = await fetch(`${a.url}/logout`, { method: 'POST', headers: { cookie }, redirect: 'manual' });
    expect(out.status).toBe(303);
    expect((await fetch(`${b.url}/kv/bob/before`, { headers: { cookie } })).status).toBe(401);
    // B stops the stream at its next session recheck (every SESSION_RECHECK_MS, not configurable):
    // probe until a change reaches the witness only, failing if that takes longer than the interval
    const deadline = Date.now() + SESSION_RECHECK_MS + 2_000;
    const delivered: string[] = [];
    for (let i = 0; ; i++) {
      const probe = `bob/probe-${i}`;
      const n = await sentTo(probe);
      if (n === 1) break; // skipped: B has revoked the session
      expect(n).toBe(2);
      delivered.push(probe);
      if (Date.now() > deadline) throw new Error(`bob's stream on B still received changes ${SESSION_RECHECK_MS} ms after the logout`);
      await sleep(100); // poll interval while the recheck timer runs
    }
    // from then on nothing more reaches it
    expect(await sentTo('bob/after')).toBe(1);
    expect(await sentTo('bob/marker')).toBe(1);
    // what it was sent before the recheck has arrived, and nothing else
    await stream.waitFor((s) => keys(s).length === 1 + delivered.length);
    expect(keys(stream)).toEqual(['bob/before', ...delivered]);
    stream.close();
    witness.close();
  };

  it('on one SQLite file, reaches the streams the session opened there within the recheck interval', () => reachesStreams(false), 30_000);
  it.skipIf(!PG_URL)(
    'on one PostgreSQL database, reaches the streams the session opened there within the recheck interval',
    () => reachesStreams(true),
    30_000,
  );
});

import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { SqliteStore } from '../../src/storage/sqlite-store.js';
import { createTestDatabase, PG_URL } from '../helpers/pg.js';
import { startTestServer, type TestServer } from '../helpers/test-server.js';

if (!PG_URL) console.warn('kv-list-cache: STASH_TEST_PG_URL is not set, skipping the shared PostgreSQL database case');

// list answers are cached per prefix and revision: every path that changes keys must show up at once
const keysOf = async (url: string, prefix: string): Promise<string[]> =>
  ((await (await fetch(`${url}/kv/?prefix=${encodeURIComponent(prefix)}`)).json()) as { key: string }[]).map((k) => k.key).sort();

describe('list answers stay fresh', () => {
  const servers: TestServer[] = [];
  const cleanups: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const s of servers.splice(0)) await s.close();
    for (const c of cleanups.splice(0)) await c();
  });

  it('after writes through the API, batches and deletes', async () => {
    const server = await startTestServer();
    servers.push(server);
    await fetch(`${server.url}/kv/app/a`, { method: 'PUT', body: '1' });
    expect(await keysOf(server.url, 'app/')).toEqual(['app/a']);
    expect(await keysOf(server.url, 'app/')).toEqual(['app/a']); // served from the cache
    await fetch(`${server.url}/kv/app/b`, { method: 'PUT', body: '2' });
    expect(await keysOf(server.url, 'app/')).toEqual(['app/a', 'app/b']);
    await fetch(`${server.url}/kv/`, { method: 'POST', body: JSON.stringify([{ key: 'app/c', value: '3' }, { key: 'app/a', delete: true }]) });
    expect(await keysOf(server.url, 'app/')).toEqual(['app/b', 'app/c']);
    const [first] = (await (await fetch(`${server.url}/kv/?prefix=app/b`)).json()) as { size: number }[];
    await fetch(`${server.url}/kv/app/b`, { method: 'PUT', body: '22222' });
    const [second] = (await (await fetch(`${server.url}/kv/?prefix=app/b`)).json()) as { size: number }[];
    expect([first?.size, second?.size]).toEqual([1, 5]);
  });

  it('after a write by another connection to the same SQLite file', async () => {
    const server = await startTestServer();
    servers.push(server);
    await fetch(`${server.url}/kv/app/a`, { method: 'PUT', body: '1' });
    expect(await keysOf(server.url, 'app/')).toEqual(['app/a']);
    const other = new SqliteStore({ path: join(server.dir, 'stash.db') });
    await other.apply([{ kind: 'put', key: 'app/elsewhere', value: new TextEncoder().encode('x'), format: 'text' }]);
    await other.close();
    expect(await keysOf(server.url, 'app/')).toEqual(['app/a', 'app/elsewhere']);
  });

  it.skipIf(!PG_URL)('after a write on another server sharing the PostgreSQL database', async () => {
    const db = await createTestDatabase();
    cleanups.push(() => db.drop());
    const a = await startTestServer(['--db', db.url]);
    servers.push(a);
    const b = await startTestServer(['--db', db.url]);
    servers.push(b);
    await fetch(`${a.url}/kv/app/one`, { method: 'PUT', body: '1' });
    expect(await keysOf(b.url, 'app/')).toEqual(['app/one']);
    await fetch(`${a.url}/kv/app/two`, { method: 'PUT', body: '2' });
    expect(await keysOf(b.url, 'app/')).toEqual(['app/one', 'app/two']);
    await fetch(`${b.url}/kv/app/one`, { method: 'DELETE' });
    expect(await keysOf(a.url, 'app/')).toEqual(['app/two']);
  });
});

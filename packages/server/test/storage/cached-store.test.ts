import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { SqliteStore } from '../../src/storage/sqlite-store.js';
import { startTestServer, type TestServer } from '../helpers/test-server.js';

async function cacheCount(server: TestServer, result: 'hit' | 'miss'): Promise<number> {
  const metric = await server.metrics.cacheRequests.get();
  return metric.values.find((v) => v.labels['result'] === result)?.value ?? 0;
}

describe('read cache (--cache.enabled) through a real server', () => {
  let server: TestServer | undefined;
  afterEach(async () => {
    await server?.close();
    server = undefined;
  });

  const kv = (key: string) => `${server!.url}/kv/${key}`;
  const read = async (key: string): Promise<{ status: number; body: string; revision: string | null }> => {
    const res = await fetch(kv(key));
    return { status: res.status, body: await res.text(), revision: res.headers.get('x-stash-revision') };
  };
  const put = async (key: string, value: string): Promise<number> =>
    (await fetch(kv(key), { method: 'PUT', body: value })).status;

  it('serves fresh values across PUT, GET, DELETE and batch writes', async () => {
    server = await startTestServer(['--cache.enabled', '--cache.max-keys', '2']);
    expect(server.cache).toBeDefined();
    expect((await read('a')).status).toBe(404);
    expect(await put('a', 'one')).toBe(201);
    expect(await read('a')).toMatchObject({ status: 200, body: 'one', revision: '1' });
    expect(await read('a')).toMatchObject({ body: 'one' });
    expect(await put('a', 'two')).toBe(200);
    expect(await read('a')).toMatchObject({ body: 'two', revision: '2' });
    expect((await fetch(kv('a'), { method: 'DELETE' })).status).toBe(204);
    expect((await read('a')).status).toBe(404);
    expect(await put('a', 'three')).toBe(201);
    expect(await read('a')).toMatchObject({ body: 'three', revision: '4' });

    // a failed conditional write leaves the cached value right
    const conflict = await fetch(kv('a'), { method: 'PUT', body: 'x', headers: { 'if-match': '"1"' } });
    expect(conflict.status).toBe(412);
    expect(await read('a')).toMatchObject({ body: 'three' });

    const batch = await fetch(`${server.url}/kv/`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify([{ key: 'a', value: 'batched' }, { key: 'b', value: 'B' }]),
    });
    expect(batch.status).toBe(200);
    expect(await read('a')).toMatchObject({ body: 'batched' });

    // more keys than --cache.max-keys: evicted ones are simply read again
    for (const key of ['b', 'c', 'd']) await put(key, key.toUpperCase());
    for (const key of ['b', 'c', 'd', 'a', 'b']) expect((await read(key)).status).toBe(200);
    expect(await read('b')).toMatchObject({ body: 'B' });
  });

  it('serves a value changed by another server stale only until invalidate()', async () => {
    server = await startTestServer(['--cache.enabled']);
    expect(await put('shared', 'mine')).toBe(201);
    const missesBefore = await cacheCount(server, 'miss');
    expect(await read('shared')).toMatchObject({ body: 'mine' });
    expect(await cacheCount(server, 'miss')).toBe(missesBefore + 1);
    const hitsBefore = await cacheCount(server, 'hit');
    expect(await read('shared')).toMatchObject({ body: 'mine' });
    expect(await cacheCount(server, 'hit')).toBe(hitsBefore + 1);

    // "another server": a second store on the same database file
    const other = new SqliteStore({ path: join(server.dir, 'stash.db') });
    try {
      await other.apply([{ kind: 'put', key: 'shared', value: new TextEncoder().encode('theirs'), format: 'text' }]);
    } finally {
      await other.close();
    }
    expect(await read('shared')).toMatchObject({ body: 'mine', revision: '1' });
    server.cache!.invalidate(['shared']);
    expect(await read('shared')).toMatchObject({ body: 'theirs', revision: '2' });
    // the list is never cached
    const list = (await (await fetch(`${server.url}/kv/`)).json()) as { key: string }[];
    expect(list.map((i) => i.key)).toEqual(['shared']);
  });

  it('is off by default', async () => {
    server = await startTestServer();
    expect(server.cache).toBeUndefined();
  });
});

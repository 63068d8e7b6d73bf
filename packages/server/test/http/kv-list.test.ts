import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../helpers/test-server.js';
import { JSON_TYPE, expectJsonError } from './expect-http.js';
import { httpRequest } from './raw-http.js';

interface Item {
  key: string;
  size: number;
  format: string;
  secret: boolean;
  zk_encrypted: boolean;
  created_at: string;
  updated_at: string;
  revision: number;
}

let server: TestServer;
const list = async (query = ''): Promise<Item[]> => {
  const res = await fetch(`${server.url}/kv/${query}`);
  expect(res.status).toBe(200);
  return (await res.json()) as Item[];
};
const put = (key: string, body: string, format = 'text'): Promise<Response> =>
  fetch(`${server.url}/kv/${key}`, { method: 'PUT', body, headers: { 'x-stash-format': format } });
const tick = (): Promise<void> => new Promise((r) => setTimeout(r, 3)); // distinct millisecond timestamps to order by

beforeAll(async () => {
  server = await startTestServer();
});
afterAll(async () => {
  await server.close();
});

describe('GET /kv/ (compat 5.4)', () => {
  it('answers [] on an empty database, as JSON with a trailing newline', async () => {
    const res = await fetch(`${server.url}/kv/`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe(JSON_TYPE);
    expect(await res.text()).toBe('[]\n');
  });

  it('answers [] (never null) for a prefix that matches nothing', async () => {
    await put('list/one', '1');
    const res = await fetch(`${server.url}/kv/?prefix=nothing-here`);
    expect(await res.text()).toBe('[]\n');
  });

  it('gives every item all seven snake_case fields plus revision, in order, with Z timestamps', async () => {
    await put('list/fields', 'héllo', 'json');
    const [item] = await list('?prefix=list/fields');
    expect(Object.keys(item ?? {})).toEqual([
      'key',
      'size',
      'format',
      'secret',
      'zk_encrypted',
      'created_at',
      'updated_at',
      'revision',
    ]);
    expect(item).toMatchObject({ key: 'list/fields', size: 6, format: 'json', secret: false, zk_encrypted: false });
    const stamp = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d*[1-9])?Z$/;
    expect(item?.created_at).toMatch(stamp);
    expect(item?.updated_at).toMatch(stamp);
    expect(Math.abs(Date.parse(item?.updated_at ?? '') - Date.now())).toBeLessThan(60_000);
    expect(item?.revision).toBe(Number((await fetch(`${server.url}/kv/list/fields`)).headers.get('x-stash-revision')));
  });

  it('orders by updated_at descending, an update moving a key to the front', async () => {
    for (const k of ['a', 'b', 'c']) {
      await put(`order/${k}`, k);
      await tick();
    }
    expect((await list('?prefix=order/')).map((i) => i.key)).toEqual(['order/c', 'order/b', 'order/a']);
    await put('order/a', 'again');
    expect((await list('?prefix=order/')).map((i) => i.key)).toEqual(['order/a', 'order/c', 'order/b']);
  });

  it('filters by plain string prefix without wildcard semantics; empty prefix means all', async () => {
    await put('pre/app/x', '1');
    await put('pre/application', '2');
    await put('pre/other', '3');
    expect((await list('?prefix=pre/app')).map((i) => i.key).sort()).toEqual(['pre/app/x', 'pre/application']);
    expect(await list('?prefix=pre/app*')).toEqual([]);
    expect(await list('?prefix=pre%2Fapp%2F')).toHaveLength(1);
    const all = await list('?prefix=');
    expect(all.length).toBe((await list()).length);
  });

  it('decodes the prefix as a query string: `+` is a space, %2B a plus (Java form encoding)', async () => {
    await put('plus+key', 'p');
    expect(await list('?prefix=plus+')).toEqual([]);
    expect((await list('?prefix=plus%2B')).map((i) => i.key)).toEqual(['plus+key']);
  });

  it('reports zk_encrypted for stored values starting with $ZK$ and longer than 4 bytes', async () => {
    await put('zk/yes', '$ZK$payload');
    await put('zk/bare', '$ZK$');
    await put('zk/inner', 'x$ZK$y');
    const byKey = Object.fromEntries((await list('?prefix=zk/')).map((i) => [i.key, i.zk_encrypted]));
    expect(byKey).toEqual({ 'zk/yes': true, 'zk/bare': false, 'zk/inner': false });
  });

  describe('?filter= (works without --secrets.key)', () => {
    beforeAll(async () => {
      // secret paths cannot be written without a vault, so they go straight into the store
      const value = new Uint8Array([1, 2, 3]);
      await server.store.apply([
        { kind: 'put', key: 'flt/secrets/db', value, format: 'text' },
        { kind: 'put', key: 'secrets', value, format: 'text' },
        { kind: 'put', key: 'flt/app/secrets', value, format: 'text' },
        { kind: 'put', key: 'flt/my-secrets/x', value, format: 'text' },
        { kind: 'put', key: 'flt/secretsabc', value, format: 'text' },
      ]);
    });
    const keys = async (filter: string): Promise<string[]> =>
      (await list(`?filter=${filter}`)).filter((i) => i.key.startsWith('flt/') || i.key === 'secrets').map((i) => i.key).sort();
    const secrets = ['flt/app/secrets', 'flt/secrets/db', 'secrets'];
    const plain = ['flt/my-secrets/x', 'flt/secretsabc'];

    it.each(['', 'all', 'ALL'])('filter=%s lists everything', async (f) => {
      expect(await keys(f)).toEqual([...plain, ...secrets].sort());
    });
    it.each(['secrets', 'secretsonly', 'true', 'SecretsOnly', 'TRUE'])('filter=%s lists secrets only', async (f) => {
      expect(await keys(f)).toEqual(secrets);
    });
    it.each(['keys', 'keysonly', 'false', 'KeysOnly', 'False'])('filter=%s lists non-secrets only', async (f) => {
      expect(await keys(f)).toEqual(plain);
    });
    it('marks secret paths with secret: true', async () => {
      const items = await list('?prefix=flt/');
      expect(Object.fromEntries(items.map((i) => [i.key, i.secret]))).toEqual({
        'flt/secrets/db': true,
        'flt/app/secrets': true,
        'flt/my-secrets/x': false,
        'flt/secretsabc': false,
      });
    });
    it.each(['yes', '1', 'secret', 'none', '%20all'])('filter=%s is 400 invalid filter parameter', async (f) => {
      await expectJsonError(await fetch(`${server.url}/kv/?filter=${f}`), 400, 'invalid filter parameter');
    });
  });

  it('answers HEAD with the headers and no body', async () => {
    const res = await httpRequest(server.url, '/kv/', { method: 'HEAD' });
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe(JSON_TYPE);
    expect(res.body.length).toBe(0);
  });

  it('HTML-escapes keys in the JSON as Go does', async () => {
    await put('html/<b>&', 'x');
    const text = await (await fetch(`${server.url}/kv/?prefix=html/`)).text();
    expect(text).toContain('"key":"html/\\u003cb\\u003e\\u0026"');
    expect((JSON.parse(text) as Item[])[0]?.key).toBe('html/<b>&');
  });
});

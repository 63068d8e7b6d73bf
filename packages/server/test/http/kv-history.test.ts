import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../helpers/test-server.js';
import { JSON_TYPE, expectJsonClientError, expectJsonError } from './expect-http.js';

interface Entry {
  hash: string;
  timestamp: string;
  author: string;
  operation: string;
  format: string;
  value: string;
  revision: number;
}

let server: TestServer;
const put = (key: string, body: string, format = 'text'): Promise<Response> =>
  fetch(`${server.url}/kv/${key}`, { method: 'PUT', body, headers: { 'x-stash-format': format } });
const rev = (res: Response): number => Number(res.headers.get('x-stash-revision'));
const history = async (key: string, query = ''): Promise<Entry[]> => {
  const res = await fetch(`${server.url}/kv/history/${key}${query}`);
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toBe(JSON_TYPE);
  return (await res.json()) as Entry[];
};
const b64 = (s: string): string => Buffer.from(s).toString('base64');

beforeAll(async () => {
  server = await startTestServer();
});
afterAll(async () => {
  await server.close();
});

describe('GET /kv/history/{key} without git (extensions.md 3)', () => {
  it('lists create, update and delete newest first, shaped as compat 5.5 plus revision', async () => {
    const r1 = rev(await put('h/key', 'one', 'yaml'));
    const r2 = rev(await put('h/key', 'two', 'json'));
    const r3 = rev(await fetch(`${server.url}/kv/h/key`, { method: 'DELETE' }));
    const entries = await history('h/key');
    expect(entries.map((e) => Object.keys(e))).toEqual(
      Array(3).fill(['hash', 'timestamp', 'author', 'operation', 'format', 'value', 'revision']),
    );
    expect(entries.map(({ hash, operation, format, value, revision, author }) => ({ hash, operation, format, value, revision, author }))).toEqual([
      { hash: String(r3), operation: 'delete', format: 'text', value: '', revision: r3, author: 'stash' },
      { hash: String(r2), operation: 'update', format: 'json', value: b64('two'), revision: r2, author: 'stash' },
      { hash: String(r1), operation: 'create', format: 'yaml', value: b64('one'), revision: r1, author: 'stash' },
    ]);
    for (const e of entries) expect(e.timestamp).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
  });

  it('answers [] for a key that never existed', async () => {
    const res = await fetch(`${server.url}/kv/history/h/never`);
    expect(await res.text()).toBe('[]\n');
  });

  it('returns at most 50 entries by default, ?limit= more or fewer (capped at 1000)', async () => {
    for (let i = 0; i < 55; i++) await put('h/many', `v${i}`);
    const all = await history('h/many');
    expect(all).toHaveLength(50);
    expect(Buffer.from(all[0]?.value ?? '', 'base64').toString()).toBe('v54');
    expect(await history('h/many', '?limit=3')).toHaveLength(3);
    expect(await history('h/many', '?limit=55')).toHaveLength(55);
    expect(await history('h/many', '?limit=100000')).toHaveLength(55);
  });

  it.each(['abc', '0', '-1', '1.5', '', '10x'])('?limit=%s is 400 invalid limit parameter', async (limit) => {
    await expectJsonError(await fetch(`${server.url}/kv/history/h/many?limit=${limit}`), 400, 'invalid limit parameter');
  });

  it('normalises the key and decodes it as the key routes do', async () => {
    await put('h/enc%20key', 'x');
    expect(await history('%20h/enc%20key%2F')).toHaveLength(1);
  });
});

describe('GET /kv/{key}?revision=N', () => {
  it('reads the value, format and revision as of N, also after later writes and a delete', async () => {
    const r1 = rev(await put('at/key', 'first', 'yaml'));
    const r2 = rev(await put('at/key', 'second', 'json'));
    await put('at/other', 'unrelated');
    const rd = rev(await fetch(`${server.url}/kv/at/key`, { method: 'DELETE' }));

    const first = await fetch(`${server.url}/kv/at/key?revision=${r1}`);
    expect(first.status).toBe(200);
    expect(await first.text()).toBe('first');
    expect(first.headers.get('content-type')).toBe('application/yaml');
    expect(first.headers.get('etag')).toBe(`"${r1}"`);

    const between = await fetch(`${server.url}/kv/at/key?revision=${rd - 1}`);
    expect(await between.text()).toBe('second');
    expect(between.headers.get('x-stash-revision')).toBe(String(r2));

    await expectJsonError(await fetch(`${server.url}/kv/at/key?revision=${rd}`), 404, 'key not found');
    await expectJsonError(await fetch(`${server.url}/kv/at/key?revision=${r1 - 1}`), 404, 'key not found');
    await expectJsonError(await fetch(`${server.url}/kv/at/key`), 404, 'key not found');
  });

  it.each(['abc', '-1', '1.5', '', 'HEAD'])('?revision=%s is 400 invalid revision parameter', async (r) => {
    await put('at/bad', 'x');
    await expectJsonError(await fetch(`${server.url}/kv/at/bad?revision=${r}`), 400, 'invalid revision parameter');
  });
});

describe('GET /kv/?values=true export', () => {
  it('returns list items plus base64 values at one revision, sent in X-Stash-Revision', async () => {
    await put('exp/a', 'alpha', 'text');
    const last = rev(await put('exp/b', Buffer.from([0, 1, 2]).toString('latin1'), 'json'));
    await put('other/c', 'not exported');
    const res = await fetch(`${server.url}/kv/?prefix=exp/&values=true`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe(JSON_TYPE);
    expect(Number(res.headers.get('x-stash-revision'))).toBe(await server.store.currentRevision());
    expect(Number(res.headers.get('x-stash-revision'))).toBeGreaterThan(last);
    const items = (await res.json()) as Array<Record<string, unknown>>;
    expect(items.map((i) => Object.keys(i))).toEqual(
      Array(2).fill(['key', 'size', 'format', 'secret', 'zk_encrypted', 'created_at', 'updated_at', 'revision', 'value']),
    );
    const byKey = Object.fromEntries(items.map((i) => [i['key'], i]));
    expect(byKey['exp/a']).toMatchObject({ value: b64('alpha'), size: 5, format: 'text' });
    expect(byKey['exp/b']).toMatchObject({ value: 'AAEC', size: 3, format: 'json', revision: last });
  });

  it.each(['1', 'true', 'yes', 't', 'TRUE'])('values=%s exports', async (v) => {
    const items = (await (await fetch(`${server.url}/kv/?prefix=exp/a&values=${v}`)).json()) as { value?: string }[];
    expect(items[0]?.value).toBe(b64('alpha'));
  });

  it.each(['false', '0', 'no', ''])('values=%s is the plain list without values or revision header', async (v) => {
    const res = await fetch(`${server.url}/kv/?prefix=exp/a&values=${v}`);
    expect(res.headers.get('x-stash-revision')).toBeNull();
    const items = (await res.json()) as { value?: string }[];
    expect(items).toHaveLength(1);
    expect(items[0]?.value).toBeUndefined();
  });

  it('answers [] for an empty export, honours ?filter= and skips secrets without a vault', async () => {
    expect(await (await fetch(`${server.url}/kv/?prefix=nothing/&values=true`)).text()).toBe('[]\n');
    await server.store.apply([{ kind: 'put', key: 'exp/secrets/x', value: new Uint8Array([1]), format: 'text' }]);
    const keys = async (q: string): Promise<string[]> =>
      ((await (await fetch(`${server.url}/kv/?prefix=exp/&values=true${q}`)).json()) as { key: string }[]).map((i) => i.key).sort();
    expect(await keys('')).toEqual(['exp/a', 'exp/b']);
    expect(await keys('&filter=secrets')).toEqual([]);
    expect(await keys('&filter=keys')).toEqual(['exp/a', 'exp/b']);
    await expectJsonClientError(await fetch(`${server.url}/kv/?values=true&filter=bogus`), 400, 'invalid filter parameter');
  });
});

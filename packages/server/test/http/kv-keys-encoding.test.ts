import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../helpers/test-server.js';
import { expectEmpty, expectJsonError } from './expect-http.js';
import { httpRequest } from './raw-http.js';

let server: TestServer;

beforeAll(async () => {
  server = await startTestServer();
});
afterAll(async () => {
  await server.close();
});

const pct = (c: string): string =>
  [...Buffer.from(c, 'utf8')].map((b) => `%${b.toString(16).toUpperCase().padStart(2, '0')}`).join('');
const encodeExcept = (s: string, keep: RegExp): string => [...s].map((c) => (keep.test(c) ? c : pct(c))).join('');

/** How each official client puts a key into the URL path (compat 4.3). */
const CLIENT_ENCODINGS: Record<string, (key: string) => string> = {
  // url.JoinPath: Go path escaping; keeps sub-delims, `:`, `@`, `/` and `*`
  go: (k) => encodeExcept(k, /[A-Za-z0-9\-_.~!$&'()*+,;=:@/]/),
  // quote(key, safe='/')
  python: (k) => encodeExcept(k, /[A-Za-z0-9_.\-~/]/),
  // encodeURIComponent per segment
  typescript: (k) => k.split('/').map(encodeURIComponent).join('/'),
  // URLEncoder.encode per segment (form encoding), then + -> %20
  java: (k) =>
    k
      .split('/')
      .map((s) => encodeExcept(s, /[A-Za-z0-9.\-*_ ]/).replaceAll(' ', '+').replaceAll('+', '%20'))
      .join('/'),
  // urlencoding::encode per segment; `.` and `..` segments as %2E
  rust: (k) =>
    k
      .split('/')
      .map((s) => (s === '.' ? '%2E' : s === '..' ? '%2E%2E' : encodeExcept(s, /[A-Za-z0-9\-_.~]/)))
      .join('/'),
};

async function listKeys(prefix: string): Promise<string[]> {
  const res = await fetch(`${server.url}/kv/?prefix=${encodeURIComponent(prefix)}`);
  return ((await res.json()) as { key: string }[]).map((k) => k.key).sort();
}

describe('key normalisation (compat 4.1)', () => {
  const cases: Array<[string, string]> = [
    // only the ends of the whole key are trimmed: inner spaces become `_`
    ['/kv/norm/%20%20padded%20%20', 'norm/__padded'],
    ['/kv/norm/with%20inner%20spaces', 'norm/with_inner_spaces'],
    ['/kv/norm/tabs%09%0A', 'norm/tabs'],
    ['/kv/%09%2Fnorm%2Fslashes%2F%2F%20', 'norm/slashes'],
    // every leading slash goes, not just the first
    ['/kv/%2F%2Flead', 'lead'],
    ['/kv/%2F%2F%2Flead3/x', 'lead3/x'],
    ['/kv/norm/trailing/', 'norm/trailing'],
    ['/kv/%E3%80%80norm/ideographic%C2%A0', 'norm/ideographic'],
    // whitespace first, then slashes, then spaces: `/ a b/` keeps the inner spaces as `_`
    ['/kv/%2F%20norm/order%20%2F', '_norm/order_'],
    ['/kv/%2F%20%2F', '_'],
  ];
  it.each(cases)('PUT %s stores key %s', async (path, key) => {
    const res = await httpRequest(server.url, path, { method: 'PUT', body: key });
    expect(res.status).toBe(201);
    expect(await server.store.get(key)).toBeDefined();
    expect(await (await fetch(`${server.url}/kv/${key}`)).text()).toBe(key);
  });

  const empty = ['/kv/%20', '/kv/%09%0A', '/kv/%2F', '/kv/%20%2F%2F%20', '/kv/%E3%80%80'];
  it.each(empty)('an empty key after normalisation (%s) is 400 for GET, PUT and DELETE', async (path) => {
    const before = await server.store.currentRevision();
    for (const method of ['GET', 'PUT', 'DELETE']) {
      const res = await httpRequest(server.url, path, { method, body: method === 'PUT' ? 'x' : undefined });
      await expectJsonError(res, 400, 'key is required');
    }
    await expectJsonError(await httpRequest(server.url, `/kv/history${path.slice(3)}`), 400, 'key is required');
    expect(await server.store.currentRevision()).toBe(before);
  });

  it('PUT and DELETE on /kv/ itself are an empty key: 400, nothing written', async () => {
    const before = await server.store.currentRevision();
    await expectJsonError(await fetch(`${server.url}/kv/`, { method: 'PUT', body: 'x' }), 400, 'key is required');
    await expectJsonError(await fetch(`${server.url}/kv/`, { method: 'DELETE' }), 400, 'key is required');
    await expectJsonError(await fetch(`${server.url}/kv/history/`), 400, 'key is required');
    expect(await server.store.currentRevision()).toBe(before);
  });
});

describe('percent-decoding of the key path (compat 3.3)', () => {
  const cases: Array<[string, string]> = [
    ['%2A', 'dec/star*'],
    ['%2F', 'dec/slash/inner'],
    ['%3F', 'dec/question?'],
    ['%23', 'dec/hash#'],
    ['%25', 'dec/percent%'],
    ['%20', 'dec/space_here'],
    ['+', 'dec/plus+kept'],
  ];
  const paths: Record<string, string> = {
    '%2A': '/kv/dec/star%2A',
    '%2F': '/kv/dec/slash%2Finner',
    '%3F': '/kv/dec/question%3F',
    '%23': '/kv/dec/hash%23',
    '%25': '/kv/dec/percent%25',
    '%20': '/kv/dec/space%20here',
    '+': '/kv/dec/plus+kept',
  };
  it.each(cases)('%s decodes into key %s', async (escape, key) => {
    const res = await httpRequest(server.url, paths[escape] ?? '', { method: 'PUT', body: escape });
    expect(res.status).toBe(201);
    expect((await server.store.get(key))?.value.toString()).toBe(escape);
  });

  it('a raw `*` and `%2A` name the same key', async () => {
    await httpRequest(server.url, '/kv/dec/both*', { method: 'PUT', body: 'raw' });
    const res = await httpRequest(server.url, '/kv/dec/both%2a');
    expect(res.text).toBe('raw');
  });

  it('has no key length limit short of the 1 MiB header limit', async () => {
    const key = `dec/long/${'k'.repeat(100_000)}`;
    expect((await fetch(`${server.url}/kv/${key}`, { method: 'PUT', body: 'long' })).status).toBe(201);
    expect(await (await fetch(`${server.url}/kv/${key}`)).text()).toBe('long');
  });

  it('decodes unicode keys', async () => {
    const key = 'dec/ключ/設定/🔑';
    const res = await fetch(`${server.url}/kv/${key.split('/').map(encodeURIComponent).join('/')}`, { method: 'PUT', body: 'u' });
    expect(res.status).toBe(201);
    expect(await listKeys('dec/ключ')).toEqual([key]);
  });
});

describe('every official client encoding lands on the same key (compat 4.3)', () => {
  const key = "enc/my app*(v1)~'!?#%ü+=&@:;,$";
  const stored = "enc/my_app*(v1)~'!?#%ü+=&@:;,$";

  it.each(Object.keys(CLIENT_ENCODINGS))('%s: PUT, GET, DELETE', async (client) => {
    const path = `/kv/${CLIENT_ENCODINGS[client]?.(key) ?? ''}`;
    const put = await httpRequest(server.url, path, { method: 'PUT', body: client });
    expect(put.status, path).toBe(201);
    expect(await listKeys('enc/')).toEqual([stored]);
    for (const other of Object.values(CLIENT_ENCODINGS)) {
      expect((await httpRequest(server.url, `/kv/${other(key)}`)).text).toBe(client);
    }
    expect((await httpRequest(server.url, path, { method: 'DELETE' })).status).toBe(204);
    expect(await listKeys('enc/')).toEqual([]);
  });

  it('Rust sends `.` segments as %2E: decoded into the key, not cleaned (as Go 1.22 mux)', async () => {
    const path = `/kv/${CLIENT_ENCODINGS['rust']?.('enc2/a/./b/../c') ?? ''}`;
    expect(path).toBe('/kv/enc2/a/%2E/b/%2E%2E/c');
    expect((await httpRequest(server.url, path, { method: 'PUT', body: 'dots' })).status).toBe(201);
    expect(await listKeys('enc2/')).toEqual(['enc2/a/./b/../c']);
  });
});

describe('routing quirks of the original (compat 3.4)', () => {
  it('PUT/DELETE /kv/history/foo write the key history/foo; GET /kv/history/foo is the history of foo', async () => {
    await fetch(`${server.url}/kv/foo`, { method: 'PUT', body: 'plain foo' });
    await expectEmpty(await fetch(`${server.url}/kv/history/foo`, { method: 'PUT', body: 'history value' }), 201);
    expect((await server.store.get('history/foo'))?.value.toString()).toBe('history value');

    const history = await fetch(`${server.url}/kv/history/foo`);
    expect(history.headers.get('content-type')).toBe('application/json; charset=utf-8');
    const entries = (await history.json()) as { value: string }[];
    expect(entries.map((e) => Buffer.from(e.value, 'base64').toString())).toEqual(['plain foo']);

    // Go matches the literal segment after decoding: history%2Ffoo is one segment, so a key
    expect((await httpRequest(server.url, '/kv/history%2Ffoo')).text).toBe('history value');
    const decodedLiteral = await httpRequest(server.url, '/kv/%68istory/foo');
    expect(JSON.parse(decodedLiteral.text)).toHaveLength(1);

    await expectEmpty(await fetch(`${server.url}/kv/history/foo`, { method: 'DELETE' }), 204);
    expect(await server.store.get('history/foo')).toBeUndefined();
    expect(await server.store.get('foo')).toBeDefined();
  });

  it('GET /kv/history (no slash) reads the key "history"', async () => {
    await fetch(`${server.url}/kv/history`, { method: 'PUT', body: 'just a key' });
    expect(await (await fetch(`${server.url}/kv/history`)).text()).toBe('just a key');
  });

  it('PUT /kv/subscribe/x writes the key subscribe/x; GET of it is not the value', async () => {
    await expectEmpty(await fetch(`${server.url}/kv/subscribe/x`, { method: 'PUT', body: 'sub value' }), 201);
    expect((await httpRequest(server.url, '/kv/subscribe%2Fx')).text).toBe('sub value');
    const abort = new AbortController();
    const res = await fetch(`${server.url}/kv/subscribe/x`, { signal: abort.signal });
    expect(res.headers.get('content-type')).not.toBe('text/plain');
    abort.abort();
  });

  it('GET of any path ending in /ping answers pong, even for an existing key', async () => {
    await fetch(`${server.url}/kv/app/ping`, { method: 'PUT', body: 'shadowed' });
    expect((await server.store.get('app/ping'))?.value.toString()).toBe('shadowed');
    for (const path of ['/kv/app/ping', '/kv/ping', '/kv/app/PING', '/kv/app/pin%67']) {
      const res = await httpRequest(server.url, path);
      expect({ path, status: res.status, text: res.text, type: res.headers['content-type'] }).toEqual({
        path,
        status: 200,
        text: 'pong',
        type: 'text/plain',
      });
    }
  });
});

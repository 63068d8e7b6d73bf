import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FORMATS } from '@stash/client';
import { startTestServer, type TestServer } from '../helpers/test-server.js';
import { expectEmpty, expectJsonError } from './expect-http.js';
import { httpRequest } from './raw-http.js';

let server: TestServer;
const kv = (key: string, query = ''): string => `${server.url}/kv/${key}${query}`;
const put = (key: string, body: string | Uint8Array, headers: Record<string, string> = {}, query = ''): Promise<Response> =>
  fetch(kv(key, query), { method: 'PUT', body: body as BodyInit, headers });

beforeAll(async () => {
  server = await startTestServer();
});
afterAll(async () => {
  await server.close();
});

describe('PUT /kv/{key}', () => {
  it('answers 201 on create and 200 on update, both with empty bodies and no content type', async () => {
    const created = await put('crud/status', 'one');
    expect(created.headers.get('content-type')).toBeNull();
    expect(created.headers.get('content-length')).toBe('0');
    await expectEmpty(created, 201);
    const updated = await put('crud/status', 'two');
    expect(updated.headers.get('content-type')).toBeNull();
    await expectEmpty(updated, 200);
    expect(await (await fetch(kv('crud/status'))).text()).toBe('two');
  });

  it('stores any bytes as sent, including an empty body and all 256 byte values', async () => {
    const bytes = Uint8Array.from({ length: 256 }, (_, i) => i);
    await expectEmpty(await put('crud/binary', bytes), 201);
    const got = await fetch(kv('crud/binary'));
    expect(Buffer.from(await got.arrayBuffer()).equals(Buffer.from(bytes))).toBe(true);

    await expectEmpty(await put('crud/empty', ''), 201);
    const empty = await fetch(kv('crud/empty'));
    expect(empty.status).toBe(200);
    expect(empty.headers.get('content-length')).toBe('0');
    expect(await empty.text()).toBe('');
  });

  it('ignores the request Content-Type: format comes from X-Stash-Format, then ?format=, else text', async () => {
    await put('crud/ct', '{"a":1}', { 'content-type': 'application/json' });
    expect((await fetch(kv('crud/ct'))).headers.get('content-type')).toBe('text/plain');

    await put('crud/header-wins', 'a: 1', { 'x-stash-format': 'yaml' }, '?format=json');
    expect((await fetch(kv('crud/header-wins'))).headers.get('content-type')).toBe('application/yaml');

    await put('crud/query', '<a/>', { 'x-stash-format': '' }, '?format=xml');
    expect((await fetch(kv('crud/query'))).headers.get('content-type')).toBe('application/xml');
  });

  it('turns unknown or differently cased formats into text and never answers 400 for them', async () => {
    for (const [i, format] of ['JSON', 'bogus', 'application/json', 'yml', 'json5'].entries()) {
      const res = await put(`crud/unknown-${i}`, 'not json at all {', { 'x-stash-format': format });
      await expectEmpty(res, 201);
      expect((await fetch(kv(`crud/unknown-${i}`))).headers.get('content-type')).toBe('text/plain');
    }
    await expectEmpty(await put('crud/unknown-q', '{', {}, '?format=Yaml'), 201);
    expect((await fetch(kv('crud/unknown-q'))).headers.get('content-type')).toBe('text/plain');
  });

  it('never validates the value against its format', async () => {
    await expectEmpty(await put('crud/bad-json', '{not json', { 'x-stash-format': 'json' }), 201);
    const res = await fetch(kv('crud/bad-json'));
    expect(res.headers.get('content-type')).toBe('application/json');
    expect(await res.text()).toBe('{not json');
  });

  it('overwrites the format and updated_at on update but keeps created_at', async () => {
    await put('crud/meta', 'a=1', { 'x-stash-format': 'ini' });
    const [before] = (await (await fetch(`${server.url}/kv/?prefix=crud/meta`)).json()) as { created_at: string; updated_at: string }[];
    await new Promise((r) => setTimeout(r, 5)); // a later clock reading, so updated_at can move
    await put('crud/meta', 'A=1', { 'x-stash-format': 'shell' });
    const [after] = (await (await fetch(`${server.url}/kv/?prefix=crud/meta`)).json()) as {
      created_at: string;
      updated_at: string;
      format: string;
    }[];
    expect(after?.format).toBe('shell');
    expect(after?.created_at).toBe(before?.created_at);
    expect(after?.updated_at).not.toBe(before?.updated_at);
  });
});

describe('GET /kv/{key}', () => {
  it('maps every format to the Content-Type of compat 5.1, without charset', async () => {
    const expected: Record<string, string> = {
      text: 'text/plain',
      json: 'application/json',
      yaml: 'application/yaml',
      xml: 'application/xml',
      toml: 'application/toml',
      ini: 'text/plain',
      hcl: 'text/plain',
      shell: 'text/x-shellscript',
    };
    expect(Object.keys(expected).sort()).toEqual([...FORMATS].sort());
    for (const format of FORMATS) {
      await put(`crud/fmt/${format}`, 'v', { 'x-stash-format': format });
      const res = await fetch(kv(`crud/fmt/${format}`));
      expect(res.headers.get('content-type'), format).toBe(expected[format]);
    }
  });

  it('sends the raw value with CSP sandbox, nosniff and the global app headers', async () => {
    await put('crud/html', '<script>alert(1)</script>', { 'x-stash-format': 'text' });
    const res = await fetch(kv('crud/html'));
    expect(res.status).toBe(200);
    expect(await res.text()).toBe('<script>alert(1)</script>');
    expect(res.headers.get('content-security-policy')).toBe('sandbox');
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    expect(res.headers.get('author')).toBeNull(); // the original's author did not write this server
    expect(res.headers.get('app-name')).toBe('stash');
    expect(res.headers.get('app-version')).toBe('test');
    expect(res.headers.get('access-control-allow-origin')).toBeNull();
  });

  it('answers HEAD like GET without a body', async () => {
    await put('crud/head', 'twelve bytes');
    const res = await httpRequest(server.url, '/kv/crud/head', { method: 'HEAD' });
    expect(res.status).toBe(200);
    expect(res.headers['content-length']).toBe('12');
    expect(res.headers['content-type']).toBe('text/plain');
    expect(res.body.length).toBe(0);
  });

  it('answers 404 {"error":"key not found"} for a missing key', async () => {
    await expectJsonError(await fetch(kv('crud/missing')), 404, 'key not found');
    const head = await httpRequest(server.url, '/kv/crud/missing', { method: 'HEAD' });
    expect(head.status).toBe(404);
  });
});

describe('DELETE /kv/{key}', () => {
  it('answers 204 with an empty body, then 404 for the gone key', async () => {
    await put('crud/del', 'x');
    const res = await fetch(kv('crud/del'), { method: 'DELETE' });
    expect(res.headers.get('content-type')).toBeNull();
    await expectEmpty(res, 204);
    await expectJsonError(await fetch(kv('crud/del')), 404, 'key not found');
    await expectJsonError(await fetch(kv('crud/del'), { method: 'DELETE' }), 404, 'key not found');
  });

  it('ignores a body sent with DELETE', async () => {
    await put('crud/del-body', 'x');
    await expectEmpty(await fetch(kv('crud/del-body'), { method: 'DELETE', body: 'ignored' }), 204);
  });

  it('leaves other keys alone and can re-create the key (201 again)', async () => {
    await put('crud/re/a', '1');
    await put('crud/re/b', '2');
    await fetch(kv('crud/re/a'), { method: 'DELETE' });
    expect(await (await fetch(kv('crud/re/b'))).text()).toBe('2');
    await expectEmpty(await put('crud/re/a', '3'), 201);
  });
});

describe('secret paths without --secrets.key (compat 5.1-5.3)', () => {
  it('refuses reads and writes with 400 secrets not configured, but deletes need no key', async () => {
    const before = await server.store.currentRevision();
    for (const key of ['secrets', 'secrets/db', 'app/secrets/pw', 'app/secrets']) {
      await expectJsonError(await put(key, 'x'), 400, 'secrets not configured');
      await expectJsonError(await fetch(kv(key)), 400, 'secrets not configured');
    }
    expect(await server.store.currentRevision()).toBe(before);
    await expectEmpty(await put('app/my-secrets/x', 'not a secret path'), 201);

    await server.store.apply([{ kind: 'put', key: 'old/secrets/token', value: new Uint8Array([9]), format: 'text' }]);
    await expectEmpty(await fetch(kv('old/secrets/token'), { method: 'DELETE' }), 204);
    await expectJsonError(await fetch(kv('old/secrets/token'), { method: 'DELETE' }), 404, 'key not found');
  });
});

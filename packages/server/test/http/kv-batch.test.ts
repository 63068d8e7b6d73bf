import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../helpers/test-server.js';
import { JSON_TYPE, expectJsonClientError, expectJsonError } from './expect-http.js';

let server: TestServer;
const batch = (body: unknown, headers: Record<string, string> = {}): Promise<Response> =>
  fetch(`${server.url}/kv/`, { method: 'POST', body: typeof body === 'string' ? body : JSON.stringify(body), headers });
const value = async (key: string): Promise<string | undefined> => (await server.store.get(key))?.value.toString();

beforeAll(async () => {
  server = await startTestServer();
});
afterAll(async () => {
  await server.close();
});

describe('POST /kv/ batch (extensions.md 2)', () => {
  it('applies text, base64, formats and deletes in one go, one revision per item', async () => {
    await fetch(`${server.url}/kv/b/old`, { method: 'PUT', body: 'bye' });
    const before = await server.store.currentRevision();
    const res = await batch([
      { key: 'b/text', value: 'hello' },
      { key: 'b/bin', value: Buffer.from([0, 255, 1]).toString('base64'), encoding: 'base64', format: 'text' },
      { key: 'b/json', value: '{"a":1}', format: 'json', encoding: 'text' },
      { key: 'b/old', delete: true },
      { key: 'b/explicit', value: 'kept', delete: false },
    ]);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe(JSON_TYPE);
    expect(res.headers.get('x-stash-revision')).toBe(String(before + 5));
    expect(await res.text()).toBe(`{"revision":${before + 5}}\n`);
    expect(await value('b/text')).toBe('hello');
    expect([...((await server.store.get('b/bin'))?.value ?? [])]).toEqual([0, 255, 1]);
    expect((await server.store.get('b/json'))?.format).toBe('json');
    expect(await server.store.get('b/old')).toBeUndefined();
    expect(await value('b/explicit')).toBe('kept');
    const revisions = (await server.store.history('b/text', 1)).map((e) => e.revision);
    expect(revisions).toEqual([before + 1]);
  });

  it('normalises keys like every other entry point', async () => {
    expect((await batch([{ key: '  /b/with space/ ', value: 'n' }])).status).toBe(200);
    expect(await value('b/with_space')).toBe('n');
  });

  it('ignores the request Content-Type and the value of a delete item', async () => {
    await batch([{ key: 'b/ct', value: '1' }], { 'content-type': 'application/json' });
    expect((await batch([{ key: 'b/ct', delete: true, value: 'ignored' }], { 'content-type': 'text/plain' })).status).toBe(200);
    expect(await server.store.get('b/ct')).toBeUndefined();
  });

  it('writes nothing when one item fails in storage (delete of a missing key)', async () => {
    const before = await server.store.currentRevision();
    const res = await batch([
      { key: 'b/atomic/1', value: 'x' },
      { key: 'b/atomic/missing', delete: true },
    ]);
    await expectJsonError(res, 404, 'key not found');
    expect(await server.store.get('b/atomic/1')).toBeUndefined();
    expect(await server.store.currentRevision()).toBe(before);
  });

  it('writes nothing when an item is a secret path and no --secrets.key is set', async () => {
    const before = await server.store.currentRevision();
    await expectJsonError(
      await batch([
        { key: 'b/plain', value: 'x' },
        { key: 'b/secrets/pw', value: 'y' },
      ]),
      400,
      'secrets not configured',
    );
    expect(await server.store.get('b/plain')).toBeUndefined();
    expect(await server.store.currentRevision()).toBe(before);
  });

  it('handles a few hundred items in one transaction', async () => {
    const before = await server.store.currentRevision();
    const items = Array.from({ length: 300 }, (_, i) => ({ key: `b/many/${i}`, value: String(i) }));
    expect(await (await batch(items)).json()).toEqual({ revision: before + 300 });
    expect(await value('b/many/299')).toBe('299');
  });

  const invalid: Array<[string, unknown, string]> = [
    ['not JSON', '[{"key":', 'invalid batch: body must be a JSON array'],
    ['an empty body', '', 'invalid batch: body must be a JSON array'],
    ['an object', { key: 'a', value: 'b' }, 'invalid batch: body must be a JSON array'],
    ['a string', '"x"', 'invalid batch: body must be a JSON array'],
    ['null', 'null', 'invalid batch: body must be a JSON array'],
    ['an empty array', [], 'invalid batch: no items'],
    ['a number item', [1], 'invalid batch item 0: must be an object'],
    ['a null item', [{ key: 'b/ok', value: '1' }, null], 'invalid batch item 1: must be an object'],
    ['an array item', [['b/x', 'y']], 'invalid batch item 0: must be an object'],
    ['a missing key', [{ value: 'x' }], 'invalid batch item 0: key must be a string'],
    ['a numeric key', [{ key: 5, value: 'x' }], 'invalid batch item 0: key must be a string'],
    ['an empty key', [{ key: '', value: 'x' }], 'invalid batch item 0: key is required'],
    ['a whitespace key', [{ key: ' / ', value: 'x' }], 'invalid batch item 0: key is required'],
    ['a duplicate after normalisation', [{ key: 'b/d', value: '1' }, { key: '/b/d ', value: '2' }], 'invalid batch item 1: duplicate key "b/d"'],
    ['an unknown field', [{ key: 'b/u', value: 'x', ttl: 5 }], 'invalid batch item 0: unknown field "ttl"'],
    ['a missing value', [{ key: 'b/v' }], 'invalid batch item 0: value must be a string'],
    ['a numeric value', [{ key: 'b/v', value: 5 }], 'invalid batch item 0: value must be a string'],
    ['an unknown format', [{ key: 'b/f', value: 'x', format: 'JSON' }], 'invalid batch item 0: unknown format "JSON"'],
    ['an unknown encoding', [{ key: 'b/e', value: 'x', encoding: 'hex' }], 'invalid batch item 0: encoding must be text or base64'],
    ['bad base64', [{ key: 'b/e', value: 'not base64!', encoding: 'base64' }], 'invalid batch item 0: value is not valid base64'],
    ['unpadded base64', [{ key: 'b/e', value: 'aGk', encoding: 'base64' }], 'invalid batch item 0: value is not valid base64'],
    ['a non-boolean delete', [{ key: 'b/x', delete: 'yes' }], 'invalid batch item 0: delete must be a boolean'],
  ];
  it.each(invalid)('rejects %s with 400 and writes nothing', async (_what, body, message) => {
    const before = await server.store.currentRevision();
    await expectJsonError(await batch(body), 400, message);
    expect(await server.store.currentRevision()).toBe(before);
    expect(await server.store.get('b/ok')).toBeUndefined();
  });

  it('a POST to a key path is 405, not a batch', async () => {
    const res = await fetch(`${server.url}/kv/b/key`, { method: 'POST', body: '[]' });
    expect(res.status).toBe(405);
    expect(res.headers.get('allow')).toBe('DELETE, GET, HEAD, PUT');
  });

  it('a batch item with prototype-polluting keys is just an unknown field', async () => {
    await expectJsonClientError(await batch('[{"key":"b/p","value":"x","__proto__":{"a":1}}]'), 400, 'invalid batch item 0: unknown field');
    expect(({} as Record<string, unknown>)['a']).toBeUndefined();
  });
});

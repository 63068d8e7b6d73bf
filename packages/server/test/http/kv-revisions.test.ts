import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../helpers/test-server.js';
import { JSON_TYPE, expectEmpty, expectJsonClientError } from './expect-http.js';

let server: TestServer;
const url = (key: string, query = ''): string => `${server.url}/kv/${key}${query}`;
const put = (key: string, body: string, headers: Record<string, string> = {}, query = ''): Promise<Response> =>
  fetch(url(key, query), { method: 'PUT', body, headers });
const del = (key: string, headers: Record<string, string> = {}, query = ''): Promise<Response> =>
  fetch(url(key, query), { method: 'DELETE', headers });
const rev = (res: Response): number => Number(res.headers.get('x-stash-revision'));
const value = async (key: string): Promise<string | undefined> => (await server.store.get(key))?.value.toString();

/** extensions.md 2: 412 with the current revision (0 = absent) in the body and the header. */
async function expectMismatch(res: Response, current: number): Promise<void> {
  expect(res.status).toBe(412);
  expect(res.headers.get('content-type')).toBe(JSON_TYPE);
  expect(res.headers.get('x-stash-revision')).toBe(String(current));
  expect(await res.text()).toBe(`{"error":"revision mismatch","revision":${current}}\n`);
}

beforeAll(async () => {
  server = await startTestServer();
});
afterAll(async () => {
  await server.close();
});

describe('revision headers', () => {
  it('PUT, GET and DELETE carry the revision in ETag and X-Stash-Revision; one global counter', async () => {
    const start = await server.store.currentRevision();
    const a = await put('rev/a', '1');
    expect(a.headers.get('etag')).toBe(`"${start + 1}"`);
    expect(rev(a)).toBe(start + 1);
    const b = await put('rev/b', '1');
    expect(rev(b)).toBe(start + 2);
    const a2 = await put('rev/a', '2');
    expect(rev(a2)).toBe(start + 3);
    const got = await fetch(url('rev/a'));
    expect(got.headers.get('etag')).toBe(`"${start + 3}"`);
    expect(rev(got)).toBe(start + 3);
    const gone = await del('rev/b');
    expect(gone.headers.get('etag')).toBe(`"${start + 4}"`);
    expect(rev(gone)).toBe(start + 4);
    expect(await server.store.currentRevision()).toBe(start + 4);
  });
});

describe('conditional writes', () => {
  it('If-Match "N" applies the PUT only at revision N', async () => {
    const r1 = rev(await put('cas/put', 'v1'));
    const ok = await put('cas/put', 'v2', { 'if-match': `"${r1}"` });
    await expectEmpty(ok, 200);
    await expectMismatch(await put('cas/put', 'v3', { 'if-match': `"${r1}"` }), rev(ok));
    expect(await value('cas/put')).toBe('v2');
  });

  it('accepts W/"N" and a bare N as the same tag', async () => {
    const r1 = rev(await put('cas/forms', 'v1'));
    const r2 = rev(await put('cas/forms', 'v2', { 'if-match': `W/"${r1}"` }));
    expect((await put('cas/forms', 'v3', { 'if-match': String(r2) })).status).toBe(200);
  });

  it('If-None-Match: * and ?cas=0 create only when absent', async () => {
    await expectEmpty(await put('cas/create', 'first', { 'if-none-match': '*' }), 201);
    const current = rev(await fetch(url('cas/create')));
    await expectMismatch(await put('cas/create', 'second', { 'if-none-match': '*' }), current);
    await expectMismatch(await put('cas/create', 'third', {}, '?cas=0'), current);
    expect(await value('cas/create')).toBe('first');
    await expectEmpty(await put('cas/create-q', 'q', {}, '?cas=0'), 201);
  });

  it('?cas=N behaves as If-Match; a condition on an absent key reports revision 0', async () => {
    const r1 = rev(await put('cas/query', 'v1'));
    await expectMismatch(await put('cas/query', 'x', {}, `?cas=${r1 + 100}`), r1);
    expect((await put('cas/query', 'v2', {}, `?cas=${r1}`)).status).toBe(200);
    await expectMismatch(await put('cas/absent', 'x', {}, '?cas=5'), 0);
    await expectMismatch(await put('cas/absent', 'x', { 'if-match': '"5"' }), 0);
    expect(await server.store.get('cas/absent')).toBeUndefined();
  });

  it('If-Match wins over ?cas= when both are sent', async () => {
    const r1 = rev(await put('cas/both', 'v1'));
    expect((await put('cas/both', 'v2', { 'if-match': `"${r1}"` }, '?cas=999')).status).toBe(200);
  });

  it('DELETE honours If-Match and ?cas=', async () => {
    const r1 = rev(await put('cas/del', 'v1'));
    await expectMismatch(await del('cas/del', { 'if-match': `"${r1 - 1}"` }), r1);
    await expectMismatch(await del('cas/del', {}, `?cas=${r1 + 1}`), r1);
    expect(await value('cas/del')).toBe('v1');
    await expectEmpty(await del('cas/del', { 'if-match': `"${r1}"` }), 204);
    await expectMismatch(await del('cas/del', { 'if-match': `"${r1}"` }), 0);
  });

  it('lets exactly one of two racing conditional writers win', async () => {
    const r1 = rev(await put('cas/race', 'start'));
    const results = await Promise.all(
      ['x', 'y', 'z'].map((v) => put('cas/race', v, { 'if-match': `"${r1}"` }).then((r) => r.status)),
    );
    expect(results.sort()).toEqual([200, 412, 412]);
  });

  const badIfMatch = ['abc', '"abc"', '"-1"', '"1.5"', '*', '"1", "2"', 'W/', '""'];
  it.each(badIfMatch)('a malformed If-Match (%s) is 400 and changes nothing', async (header) => {
    await put('cas/bad', 'keep');
    const before = await server.store.currentRevision();
    await expectJsonClientError(await put('cas/bad', 'changed', { 'if-match': header }), 400, 'invalid If-Match header');
    await expectJsonClientError(await del('cas/bad', { 'if-match': header }), 400, 'invalid If-Match header');
    expect(await value('cas/bad')).toBe('keep');
    expect(await server.store.currentRevision()).toBe(before);
  });

  it.each(['"3"', 'W/"3"', 'abc'])('If-None-Match other than * on a write (%s) is 400', async (header) => {
    const before = await server.store.currentRevision();
    await expectJsonClientError(await put('cas/inm', 'x', { 'if-none-match': header }), 400, 'invalid If-None-Match header');
    expect(await server.store.currentRevision()).toBe(before);
  });

  it.each(['abc', '-1', '1.5', '', '0x10', '1e3', '99999999999999999999'])('?cas=%s is 400 invalid cas parameter', async (cas) => {
    await put('cas/q-bad', 'keep');
    const before = await server.store.currentRevision();
    await expectJsonClientError(await put('cas/q-bad', 'changed', {}, `?cas=${cas}`), 400, 'invalid cas parameter');
    await expectJsonClientError(await del('cas/q-bad', {}, `?cas=${cas}`), 400, 'invalid cas parameter');
    expect(await value('cas/q-bad')).toBe('keep');
    expect(await server.store.currentRevision()).toBe(before);
  });
});

describe('conditional reads', () => {
  it('answers 304 with the revision headers and no body when If-None-Match names the current revision', async () => {
    const r = rev(await put('cond/get', 'body'));
    for (const header of [`"${r}"`, `W/"${r}"`, '*', `"1", "${r}"`, `"${r - 1}" , W/"${r}"`]) {
      const res = await fetch(url('cond/get'), { headers: { 'if-none-match': header } });
      expect(res.status, header).toBe(304);
      expect(res.headers.get('etag')).toBe(`"${r}"`);
      expect(rev(res)).toBe(r);
      expect(await res.text()).toBe('');
    }
  });

  it('answers 200 with the value for another revision or a tag it cannot read', async () => {
    const r = rev(await put('cond/other', 'body'));
    for (const header of [`"${r + 1}"`, 'garbage', '"abc"']) {
      const res = await fetch(url('cond/other'), { headers: { 'if-none-match': header } });
      expect(res.status, header).toBe(200);
      expect(await res.text()).toBe('body');
    }
  });

  it('If-None-Match on a missing key is still 404', async () => {
    expect((await fetch(url('cond/missing'), { headers: { 'if-none-match': '*' } })).status).toBe(404);
  });
});

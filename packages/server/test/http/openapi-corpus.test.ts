import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loginCookie } from '../auth/login-helpers.js';
import { openStream } from '../events/sse-helpers.js';
import { OpenApiChecker, type Method } from '../helpers/openapi-check.js';
import { makeTempDir, startTestServer, type TestServer } from '../helpers/test-server.js';

// Real requests against real servers, every answer checked against the OpenAPI document
// (status documented for the operation, headers, body schema). Servers: A with auth (users,
// tokens, a public grant), the audit log, secrets and a metrics token; B with a token-only auth
// file (no public grant) and no secrets key; C without auth, rate-limited, with a tiny body limit.
// The web UI has its own corpus (openapi-web-corpus.test.ts).

const FIXTURES = join(import.meta.dirname, '..', 'fixtures');
const ADMIN = { 'x-auth-token': 'audit-admin-token' };
const BEARER_ADMIN = { authorization: 'Bearer audit-admin-token' };
const WRITER = { 'x-auth-token': 'app-writer-token' };
const B_TOKEN = { authorization: 'Bearer b-token' };
const EVIL = { origin: 'http://evil.example' };
const JSON_HEADERS = { 'content-type': 'application/json' };
const FORM = { 'content-type': 'application/x-www-form-urlencoded' };

const checker = new OpenApiChecker();
let a: TestServer;
let b: TestServer;
let c: TestServer;
let bDir: string;

const call = (method: Method, path: string, url: string, init: RequestInit = {}) => checker.fetch(method, path, url, init);
const key = (server: TestServer, name: string): string => `${server.url}/kv/${name}`;

beforeAll(async () => {
  bDir = makeTempDir('stash-openapi-auth-');
  const authFile = join(bDir, 'auth.yml');
  writeFileSync(authFile, 'tokens:\n  - token: "b-token"\n    permissions:\n      - prefix: "*"\n        access: rw\n      - prefix: "secrets/*"\n        access: rw\n');
  [a, b, c] = await Promise.all([
    startTestServer([
      '--auth.file', join(FIXTURES, 'audit-auth.yml'),
      '--audit.enabled',
      '--secrets.key', 'openapi-corpus-secret-key',
      '--metrics.token', 'metrics-token',
    ]),
    startTestServer(['--auth.file', authFile]),
    startTestServer(['--audit.enabled', '--limits.requests-per-sec', '2', '--limits.body-size', '64']),
  ]);
});
afterAll(async () => {
  await Promise.all([a?.close(), b?.close(), c?.close()]);
  rmSync(bDir, { recursive: true, force: true });
});

describe('the HTTP API answers as its OpenAPI document says', () => {
  it('reads and writes keys, with revisions and conditions', async () => {
    const created = await call('put', '/kv/{key}', key(a, 'app/config'), { headers: { ...ADMIN, 'x-stash-format': 'json' }, body: '{"a":1}' });
    expect(created.status).toBe(201);
    const first = Number(created.headers.get('x-stash-revision'));
    expect((await call('put', '/kv/{key}', `${key(a, 'app/config')}?format=json`, { headers: BEARER_ADMIN, body: '{"a":2}' })).status).toBe(200);
    const lost = await call('put', '/kv/{key}', key(a, 'app/config'), { headers: { ...ADMIN, 'if-match': `"${first}"` }, body: 'x' });
    expect([lost.status, JSON.parse(lost.text).revision]).toEqual([412, first + 1]);
    expect((await call('put', '/kv/{key}', `${key(a, 'app/config')}?cas=${first + 1}&format=json`, { headers: ADMIN, body: '{"a":3}' })).status).toBe(200);
    expect((await call('put', '/kv/{key}', key(a, 'app/once'), { headers: { ...ADMIN, 'if-none-match': '*' }, body: '1' })).status).toBe(201);
    expect((await call('put', '/kv/{key}', key(a, 'app/once'), { headers: { ...ADMIN, 'if-none-match': '*' }, body: '2' })).status).toBe(412);
    expect((await call('put', '/kv/{key}', key(a, 'app/x'), { headers: { ...ADMIN, 'if-match': '*' }, body: '' })).status).toBe(400);
    expect((await call('put', '/kv/{key}', key(a, '%20'), { headers: ADMIN, body: 'x' })).status).toBe(400);
    expect((await call('put', '/kv/{key}', key(a, 'app/x'), { body: 'x' })).status).toBe(401);
    expect((await call('put', '/kv/{key}', key(a, 'other/x'), { headers: WRITER, body: 'x' })).text).toBe('Forbidden\n');
    expect((await call('put', '/kv/{key}', key(a, 'app/x'), { headers: { ...WRITER, ...EVIL }, body: 'x' })).status).toBe(403);
    expect((await call('put', '/kv/{key}', key(a, 'app/secrets/db'), { headers: ADMIN, body: 'pw' })).status).toBe(201);
    expect((await call('put', '/kv/{key}', key(a, 'app/secrets/zk'), { headers: ADMIN, body: '$ZK$not-base64' })).status).toBe(400);
    expect((await call('put', '/kv/{key}', key(a, 'public/readme'), { headers: ADMIN, body: 'hello' })).status).toBe(201);
    for (const format of ['text', 'yaml', 'xml', 'toml', 'ini', 'hcl', 'shell']) {
      await call('put', '/kv/{key}', key(a, `formats/${format}`), { headers: { ...ADMIN, 'x-stash-format': format }, body: 'v' });
      const read = await call('get', '/kv/{key}', key(a, `formats/${format}`), { headers: ADMIN });
      expect(read.status).toBe(200);
    }
    // a json key holds anything: the API never checks values against formats
    await call('put', '/kv/{key}', key(a, 'formats/json'), { headers: { ...ADMIN, 'x-stash-format': 'json' }, body: 'not json' });
    expect((await call('get', '/kv/{key}', key(a, 'formats/json'), { headers: ADMIN })).text).toBe('not json');

    const read = await call('get', '/kv/{key}', key(a, 'app/config'), { headers: ADMIN });
    expect([read.status, read.text, read.headers.get('content-type')]).toEqual([200, '{"a":3}', 'application/json']);
    const etag = read.headers.get('etag') ?? '';
    expect((await call('get', '/kv/{key}', key(a, 'app/config'), { headers: { ...ADMIN, 'if-none-match': etag } })).status).toBe(304);
    expect((await call('get', '/kv/{key}', `${key(a, 'app/config')}?revision=${first}`, { headers: ADMIN })).text).toBe('{"a":1}');
    expect((await call('get', '/kv/{key}', `${key(a, 'app/config')}?revision=999999`, { headers: ADMIN })).status).toBe(404);
    expect((await call('get', '/kv/{key}', `${key(a, 'app/config')}?revision=abc`, { headers: ADMIN })).status).toBe(400);
    expect((await call('get', '/kv/{key}', `${key(a, 'app/config')}?consistency=serializable`, { headers: ADMIN })).status).toBe(200);
    expect((await call('get', '/kv/{key}', `${key(a, 'app/config')}?consistency=eventual`, { headers: ADMIN })).status).toBe(400);
    expect((await call('get', '/kv/{key}', key(a, 'app/missing'), { headers: ADMIN })).status).toBe(404);
    expect((await call('get', '/kv/{key}', key(a, 'app/config'))).status).toBe(401);
    expect((await call('get', '/kv/{key}', key(a, 'other/x'), { headers: WRITER })).status).toBe(403);
    expect((await call('get', '/kv/{key}', key(a, 'public/readme'))).text).toBe('hello');
    expect((await call('get', '/kv/{key}', key(a, 'app%2Fsecrets%2Fdb'), { headers: ADMIN })).text).toBe('pw');
    expect((await call('get', '/kv/{key}', key(b, 'secrets/x'), { headers: B_TOKEN })).status).toBe(400); // no --secrets.key

    expect((await call('delete', '/kv/{key}', key(a, 'app/once'), { headers: { ...ADMIN, 'if-match': '"1"' } })).status).toBe(412);
    const once = await call('get', '/kv/{key}', key(a, 'app/once'), { headers: ADMIN });
    expect((await call('delete', '/kv/{key}', `${key(a, 'app/once')}?cas=${once.headers.get('x-stash-revision')}`, { headers: ADMIN })).status).toBe(204);
    expect((await call('delete', '/kv/{key}', key(a, 'app/once'), { headers: ADMIN })).status).toBe(404);
    expect((await call('delete', '/kv/{key}', key(a, 'app/config'))).status).toBe(401);
    expect((await call('delete', '/kv/{key}', key(a, 'other/x'), { headers: WRITER })).status).toBe(403);
    expect((await call('delete', '/kv/{key}', key(a, '%20'), { headers: ADMIN })).status).toBe(400);

    for (const method of ['get', 'put', 'post', 'delete'] as const) {
      const moved = await call(method, '/kv', `${a.url}/kv`, method === 'get' ? {} : { body: '' });
      expect([moved.status, moved.headers.get('location')]).toEqual([301, '/kv/']);
    }
  });

  it('lists, exports, batches and keeps history', async () => {
    const list = await call('get', '/kv/', `${a.url}/kv/?prefix=app/&filter=all`, { headers: ADMIN });
    expect(JSON.parse(list.text).length).toBeGreaterThan(0);
    expect((await call('get', '/kv/', `${a.url}/kv/?filter=secrets`, { headers: ADMIN })).status).toBe(200);
    const exported = await call('get', '/kv/', `${a.url}/kv/?prefix=app/&values=true`, { headers: ADMIN });
    expect(exported.headers.get('x-stash-revision')).toMatch(/^\d+$/);
    expect((await call('get', '/kv/', `${a.url}/kv/?prefix=nothing/`)).text).toBe('[]\n'); // public grant, nothing readable
    expect((await call('get', '/kv/', `${a.url}/kv/?filter=bogus`, { headers: ADMIN })).status).toBe(400);
    expect((await call('get', '/kv/', `${b.url}/kv/`)).status).toBe(401);

    const items = [{ key: 'batch/a', value: '1', format: 'json' }, { key: 'batch/b', value: 'aGk=', encoding: 'base64' }];
    checker.expectValidRequest('post', '/kv/', 'application/json', items);
    const applied = await call('post', '/kv/', `${a.url}/kv/`, { headers: { ...ADMIN, ...JSON_HEADERS }, body: JSON.stringify(items) });
    expect(JSON.parse(applied.text).revision).toBe(Number(applied.headers.get('x-stash-revision')));
    const deletes = [{ key: 'batch/a', delete: true }];
    checker.expectValidRequest('post', '/kv/', 'application/json', deletes);
    expect((await call('post', '/kv/', `${a.url}/kv/`, { headers: ADMIN, body: JSON.stringify(deletes) })).status).toBe(200);
    expect((await call('post', '/kv/', `${a.url}/kv/`, { headers: ADMIN, body: JSON.stringify(deletes) })).status).toBe(404);
    expect((await call('post', '/kv/', `${a.url}/kv/`, { headers: ADMIN, body: '{}' })).status).toBe(400);
    expect((await call('post', '/kv/', `${a.url}/kv/`, { headers: WRITER, body: '[{"key":"other/x","value":"1"}]' })).status).toBe(403);
    expect((await call('post', '/kv/', `${b.url}/kv/`, { body: '[{"key":"x","value":"1"}]' })).status).toBe(401);

    const history = await call('get', '/kv/history/{key}', `${key(a, 'history/app/config')}?limit=5`, { headers: ADMIN });
    expect(JSON.parse(history.text).map((e: { operation: string }) => e.operation)).toEqual(['update', 'update', 'create']);
    expect((await call('get', '/kv/history/{key}', key(a, 'history/app/never'), { headers: ADMIN })).text).toBe('[]\n');
    expect((await call('get', '/kv/history/{key}', `${key(a, 'history/app/config')}?limit=0`, { headers: ADMIN })).status).toBe(400);
    expect((await call('get', '/kv/history/{key}', key(a, 'history/app/config'))).status).toBe(401);
    expect((await call('get', '/kv/history/{key}', key(a, 'history/other/x'), { headers: WRITER })).status).toBe(403);
  });

  it('streams changes, resumes and resets', async () => {
    const path = '/kv/subscribe/{path}';
    const stream = await openStream(key(a, 'subscribe/app/*'), ADMIN);
    await call('put', '/kv/{key}', key(a, 'app/streamed'), { headers: { ...ADMIN, 'x-stash-format': 'yaml' }, body: 'a: 1' });
    await call('delete', '/kv/{key}', key(a, 'app/streamed'), { headers: ADMIN });
    await stream.waitFor((s) => s.changes().length >= 2);
    stream.close();
    checker.expectDocumented('get', path, { status: stream.status, headers: stream.headers, body: stream.text() });

    for (let i = 0; i < 4; i++) await call('put', '/kv/{key}', key(b, 'same'), { headers: B_TOKEN, body: String(i) });
    await b.store.pruneHistory(new Date(Date.now() + 60_000), 1);
    const stale = await openStream(`${key(b, 'subscribe/*')}?since=1`, B_TOKEN);
    await stale.waitFor((s) => s.events().length >= 1);
    stale.close();
    expect(stale.events()[0]?.event).toBe('reset');
    checker.expectDocumented('get', path, { status: stale.status, headers: stale.headers, body: stale.text() });
    const resumed = await openStream(key(b, 'subscribe/same'), { ...B_TOKEN, 'last-event-id': '3' });
    await resumed.waitFor((s) => s.changes().length >= 1);
    resumed.close();
    checker.expectDocumented('get', path, { status: resumed.status, headers: resumed.headers, body: resumed.text() });

    expect((await call('get', path, `${a.url}/kv/subscribe/`, { headers: ADMIN })).text).toBe('key path required\n');
    expect((await call('get', path, key(a, 'subscribe/app/config'))).text).toBe('access denied\n'); // public grant, not this key
    expect((await call('get', path, key(a, 'subscribe/other/x'), { headers: WRITER })).status).toBe(403);
    expect((await call('get', path, key(b, 'subscribe/*'))).status).toBe(401);
  });

  it('serves health, metrics and this document', async () => {
    expect((await call('get', '/ping', `${a.url}/ping`)).text).toBe('pong');
    expect((await call('get', '/metrics', `${a.url}/metrics`)).status).toBe(401);
    expect((await call('get', '/metrics', `${a.url}/metrics`, { headers: { authorization: 'Bearer metrics-token' } })).text).toContain('stash_');
    const doc = await call('get', '/openapi.json', `${b.url}/openapi.json`);
    expect((await call('get', '/openapi.json', `${b.url}/openapi.json`, { headers: { 'if-none-match': doc.headers.get('etag') ?? '' } })).status).toBe(304);
  });

  it('answers audit queries for admins only', async () => {
    const query = { key: 'app/*', action: 'create', limit: 5, from: '2000-01-01T00:00:00Z', actor_type: null };
    checker.expectValidRequest('post', '/audit/query', 'application/json', query);
    const answer = await call('post', '/audit/query', `${a.url}/audit/query`, { headers: { ...ADMIN, ...JSON_HEADERS }, body: JSON.stringify(query) });
    expect(JSON.parse(answer.text).entries.length).toBeGreaterThan(0);
    expect((await call('post', '/audit/query', `${a.url}/audit/query`, { headers: ADMIN, body: '{"action":"bogus"}' })).status).toBe(400);
    expect((await call('post', '/audit/query', `${a.url}/audit/query`, { headers: ADMIN, body: '{bad' })).status).toBe(400);
    expect((await call('post', '/audit/query', `${a.url}/audit/query`, { body: '{}' })).status).toBe(401);
    expect((await call('post', '/audit/query', `${c.url}/audit/query`, { body: '{}' })).status).toBe(401); // auth off
    expect((await call('post', '/audit/query', `${a.url}/audit/query`, { headers: WRITER, body: '{}' })).text).toBe('{"error":"admin access required"}\n');
    expect((await call('post', '/audit/query', `${a.url}/audit/query`, { headers: { ...ADMIN, ...EVIL }, body: '{}' })).status).toBe(403);
  });

  it('signs in and out of the web UI', async () => {
    expect((await call('get', '/login', `${a.url}/login`)).status).toBe(200);
    const form = (user: string, password: string): RequestInit => ({ headers: FORM, body: new URLSearchParams({ username: user, password }).toString() });
    const ok = await call('post', '/login', `${a.url}/login`, form('root', 'admin-password-1'));
    expect([ok.status, ok.headers.get('location')]).toEqual([303, '/']);
    expect((await call('post', '/login', `${a.url}/login`, form('root', 'wrong'))).status).toBe(401);
    expect((await call('post', '/login', `${a.url}/login`, form('', ''))).status).toBe(401);
    expect((await call('post', '/login', `${a.url}/login`, { ...form('root', 'admin-password-1'), headers: { ...FORM, ...EVIL } })).status).toBe(403);
    const cookie = await loginCookie(a.url, 'viewer', 'viewer-password-1');
    expect((await call('post', '/logout', `${a.url}/logout`, { headers: { cookie } })).status).toBe(303);
    expect((await call('post', '/logout', `${a.url}/logout`, { headers: EVIL })).status).toBe(403);
    // failed attempts from one address are braked (B: no users, every attempt fails)
    let braked;
    for (let i = 0; i < 20 && braked?.status !== 429; i++) braked = await call('post', '/login', `${b.url}/login`, form('nobody', 'x'));
    expect([braked?.status, braked?.headers.get('retry-after')]).toEqual([429, expect.stringMatching(/^\d+$/)]);
  });

  it('answers the global limits as documented', async () => {
    expect((await call('put', '/kv/{key}', key(c, 'big'), { body: 'x'.repeat(200) })).status).toBe(413);
    let limited;
    for (let i = 0; i < 10 && limited?.status !== 429; i++) limited = await call('get', '/kv/{key}', key(c, 'big'));
    expect(limited?.status).toBe(429);
  });

  it('showed every documented status of these operations', () => {
    expect(checker.unseen((op) => !op.tags.includes('web'))).toEqual([]);
    expect(checker.checked).toBeGreaterThan(100); // the corpus did run
    expect(checker.seen.get('put /kv/{key}')?.has('413')).toBe(true);
    expect(checker.seen.get('get /kv/{key}')?.has('429')).toBe(true);
  });
});

import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loginCookie } from '../auth/login-helpers.js';
import { OpenApiChecker, type Method } from '../helpers/openapi-check.js';
import { startTestServer, type TestServer } from '../helpers/test-server.js';

// The web UI's routes against the OpenAPI document (tag `web`): every page and form post of
// web/web-routes.ts with its main answers, as an admin (root), a user who reads everything but
// writes nothing (reader) and one who may only touch app/* (alice), and each route without a
// session (303, or 401 for htmx). No --secrets.key, so secret keys answer `secrets not configured`.

const ADMIN = { 'x-auth-token': 'web-admin-token' };
const checker = new OpenApiChecker();
let server: TestServer;
let root: Record<string, string>;
let reader: Record<string, string>;
let alice: Record<string, string>;

const call = (method: Method, path: string, url: string, init: RequestInit = {}) => checker.fetch(method, path, `${server.url}${url}`, init);
const form = (cookie: Record<string, string>, fields: Record<string, string>, extra: Record<string, string> = {}): RequestInit => ({
  headers: { ...cookie, ...extra, 'content-type': 'application/x-www-form-urlencoded' },
  body: new URLSearchParams(fields).toString(),
});
const put = async (key: string, body: string, format = 'text'): Promise<number> => {
  const res = await fetch(`${server.url}/kv/${key}`, { method: 'PUT', headers: { ...ADMIN, 'x-stash-format': format }, body });
  return Number(res.headers.get('x-stash-revision'));
};
const status = async (method: Method, path: string, url: string, init: RequestInit = {}): Promise<number> => (await call(method, path, url, init)).status;

beforeAll(async () => {
  server = await startTestServer(['--auth.file', join(import.meta.dirname, '..', 'fixtures', 'auth-web.yml'), '--audit.enabled']);
  root = { cookie: await loginCookie(server.url, 'admin', 'admin-pw') };
  reader = { cookie: await loginCookie(server.url, 'reader', 'reader-pw') };
  alice = { cookie: await loginCookie(server.url, 'alice', 'alice-pw') };
});
afterAll(async () => {
  await server?.close();
});

describe('the web UI answers as the OpenAPI document says', () => {
  it('lists and opens keys', async () => {
    const r1 = await put('app/web', '{"a":1}', 'json');
    const r2 = await put('app/web', '{"a":2}', 'json');
    await put('other/x', 'x');
    await put('app/zk', '$ZK$abcdefgh');
    expect(await status('get', '/', '/?search=app&page=1', { headers: root })).toBe(200);
    expect(await status('get', '/web/keys', '/web/keys?search=app', { headers: root })).toBe(200);
    expect(await status('get', '/web/keys/view/{key}', '/web/keys/view/app/web', { headers: root })).toBe(200);
    expect(await status('get', '/web/keys/view/{key}', '/web/keys/view/%20', { headers: root })).toBe(400);
    expect(await status('get', '/web/keys/view/{key}', '/web/keys/view/other/x', { headers: alice })).toBe(403);
    expect(await status('get', '/web/keys/view/{key}', '/web/keys/view/app/missing', { headers: root })).toBe(404);
    expect(await status('get', '/web/keys/edit/{key}', '/web/keys/edit/app/web', { headers: root })).toBe(200);
    expect(await status('get', '/web/keys/edit/{key}', '/web/keys/edit/app/zk', { headers: root })).toBe(400);
    expect(await status('get', '/web/keys/edit/{key}', '/web/keys/edit/app/zk?zk=1', { headers: root })).toBe(200);
    expect(await status('get', '/web/keys/edit/{key}', '/web/keys/edit/app/web', { headers: reader })).toBe(403);
    expect(await status('get', '/web/keys/edit/{key}', '/web/keys/edit/app/missing', { headers: root })).toBe(404);
    expect(await status('get', '/web/keys/history/{key}', '/web/keys/history/app/web', { headers: root })).toBe(200);
    expect(await status('get', '/web/keys/history/{key}', '/web/keys/history/%20', { headers: root })).toBe(400);
    expect(await status('get', '/web/keys/history/{key}', '/web/keys/history/other/x', { headers: alice })).toBe(403);
    const revision = '/web/keys/revision/{key}';
    expect(await status('get', revision, `/web/keys/revision/app/web?rev=${r1}`, { headers: root })).toBe(200);
    expect(await status('get', revision, '/web/keys/revision/app/web?rev=abc', { headers: root })).toBe(400);
    expect(await status('get', revision, `/web/keys/revision/other/x?rev=${r1}`, { headers: alice })).toBe(403);
    expect(await status('get', revision, '/web/keys/revision/app/web?rev=999999', { headers: root })).toBe(404);
    const diff = '/web/keys/diff/{key}';
    expect(await status('get', diff, `/web/keys/diff/app/web?from=${r1}&to=${r2}`, { headers: root })).toBe(200);
    expect(await status('get', diff, `/web/keys/diff/app/web?from=abc&to=${r2}`, { headers: root })).toBe(400);
    expect(await status('get', diff, `/web/keys/diff/other/x?from=${r1}&to=${r2}`, { headers: alice })).toBe(403);
    expect(await status('get', diff, `/web/keys/diff/app/web?from=999999&to=${r2}`, { headers: root })).toBe(404);
  });

  it('creates, edits, restores and deletes keys', async () => {
    const created = { key: 'web/new', value: 'hello', format: 'text' };
    expect(await status('get', '/web/keys/new', '/web/keys/new', { headers: root })).toBe(200);
    expect(await status('get', '/web/keys/new', '/web/keys/new', { headers: reader })).toBe(403);
    expect(await status('post', '/web/keys', '/web/keys', form(root, created))).toBe(200);
    expect(await status('post', '/web/keys', '/web/keys', form(root, created))).toBe(409);
    expect(await status('post', '/web/keys', '/web/keys', form(root, { ...created, key: '' }))).toBe(400);
    expect(await status('post', '/web/keys', '/web/keys', form(reader, { ...created, key: 'app/v' }))).toBe(403);
    expect(await status('post', '/web/keys', '/web/keys', form(root, { key: 'web/bad', value: '{', format: 'json' }))).toBe(422);

    const current = await put('app/edit', 'v1');
    const edit = (fields: Record<string, string>, who = root) => status('put', '/web/keys/{key}', '/web/keys/app/edit', form(who, { format: 'text', ...fields }));
    expect(await edit({ value: 'v2', revision: String(current) })).toBe(200);
    expect(await edit({ value: 'v3', revision: String(current) })).toBe(409);
    expect(await edit({ value: 'v3', revision: 'abc' })).toBe(400);
    expect(await edit({ value: 'v3' }, reader)).toBe(403);
    expect(await edit({ value: '{', format: 'json' })).toBe(422);

    const restore = (fields: Record<string, string>, who = root) => status('post', '/web/keys/restore/{key}', '/web/keys/restore/app/edit', form(who, fields));
    expect(await restore({ rev: String(current) })).toBe(200);
    expect(await restore({ rev: 'abc' })).toBe(400);
    expect(await restore({ rev: String(current) }, reader)).toBe(403);
    expect(await restore({ rev: '999999' })).toBe(404);
    expect(await restore({ rev: String(current), if_revision: String(current) })).toBe(409);

    const now = await put('app/edit', 'theirs');
    const compare = '/web/keys/compare/{key}';
    expect(await status('post', compare, '/web/keys/compare/app/edit', form(root, { value: 'mine', format: 'text', revision: String(current) }))).toBe(200);
    expect(await status('post', compare, '/web/keys/compare/%20', form(root, { value: 'mine' }))).toBe(400);
    expect(await status('post', compare, '/web/keys/compare/app/edit', form(reader, { value: 'mine' }))).toBe(403);
    const merge = '/web/keys/merge/{key}';
    const mine = { value: 'mine', format: 'text', revision: String(current) };
    expect(await status('post', merge, '/web/keys/merge/app/edit', form(root, { ...mine, server_revision: String(now) }))).toBe(200);
    expect(await status('post', merge, '/web/keys/merge/app/edit', form(root, mine))).toBe(400);
    expect(await status('post', merge, '/web/keys/merge/app/edit', form(reader, { ...mine, server_revision: String(now) }))).toBe(403);
    expect(await status('post', merge, '/web/keys/merge/app/edit', form(root, { ...mine, server_revision: '999999' }))).toBe(404);

    const remove = (url: string, who = root) => status('delete', '/web/keys/{key}', url, { headers: who });
    expect(await remove('/web/keys/web/new')).toBe(200);
    expect(await remove('/web/keys/web/new')).toBe(404);
    expect(await remove('/web/keys/app/edit', reader)).toBe(403);
    expect(await remove('/web/keys/%20')).toBe(400);
  });

  it('switches preferences, exports and imports', async () => {
    expect(await status('post', '/web/theme', '/web/theme', { headers: { ...root, 'hx-request': 'true' } })).toBe(200);
    expect(await status('post', '/web/theme', '/web/theme', { headers: root })).toBe(303);
    for (const path of ['/web/view-mode', '/web/sort', '/web/secrets-filter', '/web/browse']) {
      expect(await status('post', path, path, { headers: root })).toBe(200);
    }
    const json = await call('get', '/web/export', '/web/export?folder=app', { headers: root });
    expect(json.headers.get('content-type')).toBe('application/json; charset=utf-8');
    const env = await call('get', '/web/export', '/web/export?format=env&search=app', { headers: root });
    expect(env.headers.get('content-type')).toBe('text/plain; charset=utf-8');

    const file = { name: 'keys.json', content: '[{"key":"a","value":"1"}]', prefix: 'imp' };
    expect(await status('get', '/web/import', '/web/import?folder=imp', { headers: root })).toBe(200);
    expect(await status('get', '/web/import', '/web/import', { headers: reader })).toBe(403);
    expect(await status('post', '/web/import/preview', '/web/import/preview', form(root, file))).toBe(200);
    expect(await status('post', '/web/import/preview', '/web/import/preview', form(root, { ...file, content: '' }))).toBe(422);
    expect(await status('post', '/web/import/apply', '/web/import/apply', form(root, file))).toBe(200);
    expect(await status('post', '/web/import/apply', '/web/import/apply', form(reader, file))).toBe(403);
    expect(await status('post', '/web/import/apply', '/web/import/apply', form(root, { ...file, content: '' }))).toBe(422);
    expect(await status('post', '/web/import/apply', '/web/import/apply', form(root, { ...file, content: '[{"key":"a\\u0000b","value":"1"}]' }))).toBe(422);
    expect(await status('post', '/web/import/apply', '/web/import/apply', form(root, { ...file, prefix: '', content: '[{"key":"app/secrets/s","value":"1"}]' }))).toBe(400);
  });

  it('shows the audit log to admins and serves static files', async () => {
    for (const path of ['/audit', '/web/audit']) {
      expect(await status('get', path, `${path}?action=create&page=1`, { headers: root })).toBe(200);
      expect(await status('get', path, `${path}?from=yesterday`, { headers: root })).toBe(400);
      expect(await status('get', path, path, { headers: reader })).toBe(403);
    }
    const css = await call('get', '/static/{name}', '/static/style.css');
    expect(await status('get', '/static/{name}', '/static/style.css', { headers: { 'if-none-match': css.headers.get('etag') ?? '' } })).toBe(304);
    expect(await status('get', '/static/{name}', '/static/app.js?v=x')).toBe(200);
    expect(await status('get', '/static/{name}', '/static/logo.svg')).toBe(200);
    expect(await status('get', '/static/{name}', '/static/nope.css')).toBe(404);
  });

  it('sends visitors without a session to the login page', async () => {
    for (const { method, path } of checker.operations().filter((o) => (o.op['tags'] as string[]).includes('web') && o.path !== '/static/{name}')) {
      const url = path.replace('{key}', 'app/web');
      const body = method === 'get' ? undefined : '';
      const away = await call(method, path, url, { body });
      expect([away.status, away.headers.get('location')], `${method} ${path}`).toEqual([303, '/login']);
      const htmx = await call(method, path, url, { body, headers: { 'hx-request': 'true' } });
      expect([htmx.status, htmx.headers.get('hx-redirect')], `${method} ${path}`).toEqual([401, '/login']);
    }
  });

  it('showed every documented status of the web routes', () => {
    expect(checker.unseen((op) => op.tags.includes('web'))).toEqual([]);
    expect(checker.checked).toBeGreaterThan(100); // the corpus did run
  });
});

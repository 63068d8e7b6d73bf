import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loginCookie } from '../auth/login-helpers.js';
import { startTestServer, type TestServer } from '../helpers/test-server.js';
import { apiGet, apiPut, call, get } from './web-helpers.js';

const AUTH = join(import.meta.dirname, '..', 'fixtures', 'auth-web.yml');
const ADMIN = { 'x-auth-token': 'web-admin-token' };

describe('web UI behind --auth.file', () => {
  let server: TestServer;
  let url: string;
  let reader: string;
  let alice: string;

  beforeAll(async () => {
    server = await startTestServer(['--auth.file', AUTH]);
    url = server.url;
    await apiPut(url, 'app/config', '{"a":1}', 'json', ADMIN);
    await apiPut(url, 'app/alice/note', 'hi', 'text', ADMIN);
    await apiPut(url, 'ops/secret-plan', 'classified', 'text', ADMIN);
    reader = await loginCookie(url, 'reader', 'reader-pw');
    alice = await loginCookie(url, 'alice', 'alice-pw');
  });
  afterAll(() => server?.close());

  it('sends browsers without a session to the login page, htmx requests with HX-Redirect', async () => {
    const page = await get(`${url}/`, { 'hx-request': '' });
    expect(page.status).toBe(303);
    expect(page.headers.get('location')).toBe('/login');
    const partial = await get(`${url}/web/keys`);
    expect(partial.status).toBe(401);
    expect(partial.headers.get('hx-redirect')).toBe('/login');
    // neither an API token nor the public grant opens the UI: it is for signed-in users (compat 6.7)
    await apiPut(url, 'public/motd', 'hello', 'text', ADMIN);
    expect((await apiGet(url, 'public/motd')).status).toBe(200); // anonymous, by the public grant
    expect((await get(`${url}/web/keys/view/public%2Fmotd`)).status).toBe(401);
    expect((await get(`${url}/web/keys`, ADMIN)).status).toBe(401);
    expect((await call(`${url}/web/keys`, 'POST', { key: 'x/y', value: 'v' }, ADMIN)).status).toBe(401);
    expect((await apiGet(url, 'x/y', ADMIN)).status).toBe(404);
    // assets stay public, so the login page can load them
    expect((await fetch(`${url}/static/style.css`)).status).toBe(200);
  });

  it('shows a read-only user every key but no New Key, Edit or Delete, and refuses writes on the server', async () => {
    const page = await get(`${url}/`, { cookie: reader });
    expect(page.status).toBe(200);
    expect(page.text).toContain('app/config');
    expect(page.text).toContain('ops/secret-plan');
    expect(page.text).not.toContain('New Key');
    expect(page.text).not.toContain('>Edit<');
    expect(page.text).not.toContain('hx-delete=');
    expect(page.text).toContain('title="Signed in as reader"');
    const view = await get(`${url}/web/keys/view/app%2Fconfig`, { cookie: reader });
    expect(view.status).toBe(200);
    expect(view.text).not.toContain('/web/keys/edit/');

    expect((await get(`${url}/web/keys/new`, { cookie: reader })).status).toBe(403);
    expect((await get(`${url}/web/keys/edit/app%2Fconfig`, { cookie: reader })).status).toBe(403);
    const put = await call(`${url}/web/keys/app%2Fconfig`, 'PUT', { value: 'hacked' }, { cookie: reader });
    expect(put.status).toBe(403);
    expect(put.text).toContain('Access denied');
    const create = await call(`${url}/web/keys`, 'POST', { key: 'app/new', value: 'x' }, { cookie: reader });
    expect(create.status).toBe(403);
    expect((await call(`${url}/web/keys/app%2Fconfig`, 'DELETE', undefined, { cookie: reader })).status).toBe(403);
    expect((await call(`${url}/web/keys/restore/app%2Fconfig`, 'POST', { rev: '1' }, { cookie: reader })).status).toBe(403);
    expect((await apiGet(url, 'app/config', ADMIN)).body.toString()).toBe('{"a":1}');
    expect((await apiGet(url, 'app/new', ADMIN)).status).toBe(404);
  });

  it('limits a user to their prefix: other keys are neither listed nor readable', async () => {
    const page = await get(`${url}/`, { cookie: alice });
    expect(page.text).toContain('app/config');
    expect(page.text).not.toContain('ops/secret-plan');
    expect(page.text).toContain('3 keys'); // app/config, app/alice/note and the public public/motd
    expect(page.text).toContain('New Key');
    expect((await get(`${url}/web/keys/view/ops%2Fsecret-plan`, { cookie: alice })).status).toBe(403);
    expect((await get(`${url}/web/keys/history/ops%2Fsecret-plan`, { cookie: alice })).status).toBe(403);
    expect((await get(`${url}/web/keys?search=secret`, { cookie: alice })).text).toContain('0 keys');
    const mine = await call(`${url}/web/keys`, 'POST', { key: 'app/alice/new', value: 'ok' }, { cookie: alice });
    expect(mine.status).toBe(200);
    const theirs = await call(`${url}/web/keys`, 'POST', { key: 'ops/new', value: 'no' }, { cookie: alice });
    expect(theirs.status).toBe(403);
    expect((await apiGet(url, 'ops/new', ADMIN)).status).toBe(404);
    // the change log names the user
    const history = await get(`${url}/web/keys/history/app%2Falice%2Fnew`, { cookie: alice });
    expect(history.text).toContain('<td class="col-author">alice</td>');
  });

  it('logs out: the session ends and the UI sends the browser back to the login page', async () => {
    const cookie = await loginCookie(url, 'admin', 'admin-pw');
    expect((await get(`${url}/`, { cookie })).status).toBe(200);
    const out = await call(`${url}/logout`, 'POST', {}, { cookie });
    expect(out.status).toBe(303);
    expect(out.headers.get('location')).toBe('/login');
    const after = await get(`${url}/`, { cookie, 'hx-request': '' });
    expect(after.status).toBe(303);
  });
});

describe('web UI under --server.base-url', () => {
  let server: TestServer;
  let url: string;

  beforeAll(async () => {
    server = await startTestServer(['--server.base-url', '/stash', '--auth.file', AUTH]);
    url = `${server.url}/stash`;
    await apiPut(url, 'app/config', '{"a":1}', 'json', ADMIN);
  });
  afterAll(() => server?.close());

  it('prefixes every link, form, asset, redirect and cookie path', async () => {
    const login = await get(`${url}/`, { 'hx-request': '' });
    expect(login.headers.get('location')).toBe('/stash/login');
    const loginPage = await get(`${url}/login`);
    expect(loginPage.text).toContain('action="/stash/login"');
    expect(loginPage.text).toMatch(/href="\/stash\/static\/style\.css\?v=/);
    const cookie = await loginCookie(url, 'admin', 'admin-pw');
    const page = await get(`${url}/`, { cookie });
    expect(page.status).toBe(200);
    const paths = [...page.text.matchAll(/(?:href|src|action|hx-get|hx-post|hx-put|hx-delete)="([^"]*)"/g)].map((m) => m[1] ?? '');
    expect(paths.length).toBeGreaterThan(10);
    for (const path of paths) if (!path.startsWith('#')) expect(path).toMatch(/^\/stash\//);
    expect(page.text).toContain('data-base-url="/stash"');
    const sort = await call(`${url}/web/sort`, 'POST', {}, { cookie });
    expect(sort.headers.get('set-cookie')).toContain('Path=/stash/;');
    expect((await fetch(`${url}/static/htmx.min.js`)).status).toBe(200);
    expect((await fetch(`${server.url}/static/htmx.min.js`)).status).toBe(404);
    expect((await fetch(`${server.url}/`)).status).toBe(404);
    const noHx = await fetch(`${url}/web/theme`, { method: 'POST', headers: { cookie }, redirect: 'manual' });
    expect(noHx.status).toBe(303);
    expect(noHx.headers.get('location')).toBe('/stash/');
  });
});

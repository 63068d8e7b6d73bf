import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loginCookie } from '../auth/login-helpers.js';
import { startTestServer, type TestServer } from '../helpers/test-server.js';
import { apiGet, apiPut, call, get } from './web-helpers.js';

const AUTH = join(import.meta.dirname, '..', 'fixtures', 'auth-web.yml');
const ADMIN = { 'x-auth-token': 'web-admin-token' };

describe('web export and import', () => {
  let server: TestServer;
  let url: string;
  let admin: string;
  let alice: string;
  beforeAll(async () => {
    server = await startTestServer(['--auth.file', AUTH]);
    url = server.url;
    await apiPut(url, 'app/db/host', 'db.internal', 'text', ADMIN);
    await apiPut(url, 'app/db/url', 'postgres://u:p@h/db?x=1 y', 'text', ADMIN);
    await apiPut(url, 'app/note', 'line one\nline "two"', 'text', ADMIN);
    await apiPut(url, 'app/blob', new Uint8Array([0xff, 0x00, 0x01]), 'text', ADMIN);
    await apiPut(url, 'ops/plan', 'not for alice', 'text', ADMIN);
    admin = await loginCookie(url, 'admin', 'admin-pw');
    alice = await loginCookie(url, 'alice', 'alice-pw');
  });
  afterAll(() => server?.close());

  it('exports a folder as the CLI export file, or as .env with names below the folder', async () => {
    const json = await get(`${url}/web/export?format=json&folder=app/db/`, { cookie: admin });
    expect(json.status).toBe(200);
    expect(json.headers.get('content-disposition')).toBe('attachment; filename="stash-app-db.json"');
    expect(JSON.parse(json.text)).toEqual([
      { key: 'app/db/host', value: 'db.internal', format: 'text', encoding: 'text' },
      { key: 'app/db/url', value: 'postgres://u:p@h/db?x=1 y', format: 'text', encoding: 'text' },
    ]);
    const env = await get(`${url}/web/export?format=env&folder=app`, { cookie: admin });
    expect(env.text).toContain('# left out (binary, or not a variable name): app/blob\n');
    expect(env.text).toContain('db/host=db.internal\n');
    expect(env.text).toContain('db/url="postgres://u:p@h/db?x=1 y"\n');
    expect(env.text).toContain('note="line one\\nline \\"two\\""\n');
    // a search exports what it finds, and every export only what the user may read
    const found = JSON.parse((await get(`${url}/web/export?format=json&search=PLAN`, { cookie: admin })).text) as { key: string }[];
    expect(found.map((k) => k.key)).toEqual(['ops/plan']);
    const mine = JSON.parse((await get(`${url}/web/export?format=json`, { cookie: alice })).text) as { key: string }[];
    expect(mine.map((k) => k.key).sort()).toEqual(['app/blob', 'app/db/host', 'app/db/url', 'app/note']);
  });

  it('previews a .env file into a prefix, then applies only its changes in one batch', async () => {
    const content = '# service settings\nHOST=db.internal\nPORT=5432\nNAME="with space"\n';
    const fields = { name: 'prod.env', content, prefix: 'app/db' };
    await apiPut(url, 'app/db/HOST', 'db.internal', 'text', ADMIN); // already as in the file
    await apiPut(url, 'app/db/PORT', '5431', 'text', ADMIN);
    const preview = await call(`${url}/web/import/preview`, 'POST', fields, { cookie: admin });
    expect(preview.status).toBe(200);
    expect(preview.text).toContain('1 to create, 1 to update, 1 left alone');
    expect(preview.text).toContain('Apply 2 changes');
    expect((await apiGet(url, 'app/db/NAME', ADMIN)).status).toBe(404); // a preview writes nothing
    const before = Number((await fetch(`${url}/kv/app/db/PORT`, { headers: ADMIN })).headers.get('x-stash-revision'));
    const applied = await call(`${url}/web/import/apply`, 'POST', fields, { cookie: admin });
    expect(applied.status).toBe(200);
    expect(applied.text).toContain('Imported: 1 created, 1 updated, 1 left alone');
    expect((await apiGet(url, 'app/db/NAME', ADMIN)).body.toString()).toBe('with space');
    expect((await apiGet(url, 'app/db/PORT', ADMIN)).body.toString()).toBe('5432');
    const port = Number((await fetch(`${url}/kv/app/db/PORT`, { headers: ADMIN })).headers.get('x-stash-revision'));
    const name = Number((await fetch(`${url}/kv/app/db/NAME`, { headers: ADMIN })).headers.get('x-stash-revision'));
    expect(Math.abs(port - name)).toBe(1); // one batch: consecutive revisions
    expect(port).toBeGreaterThan(before);
  });

  it('imports a JSON export, refuses what the user may not write, and says what is wrong with a bad file', async () => {
    const exported = (await get(`${url}/web/export?format=json&folder=app/db/`, { cookie: admin })).text;
    const intoOps = await call(`${url}/web/import/preview`, 'POST', { name: 'x.json', content: exported, prefix: 'ops' }, { cookie: alice });
    expect(intoOps.text).toContain('you may not write');
    expect(intoOps.text).not.toContain('Apply ');
    const forced = await call(`${url}/web/import/apply`, 'POST', { name: 'x.json', content: exported, prefix: 'ops' }, { cookie: alice });
    expect(forced.status).toBe(403);
    expect((await apiGet(url, 'ops/app/db/host', ADMIN)).status).toBe(404);
    const bad = await call(`${url}/web/import/preview`, 'POST', { name: 'bad.env', content: 'JUST TEXT\n', prefix: '' }, { cookie: admin });
    expect(bad.status).toBe(422);
    expect(bad.text).toContain('bad.env:1: expected KEY=VALUE');
    const empty = await call(`${url}/web/import/preview`, 'POST', { name: '', content: '', prefix: '' }, { cookie: admin });
    expect(empty.text).toContain('choose a file first');
  });
});

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../helpers/test-server.js';
import { apiGet, apiPut, call, get, inputValue } from './web-helpers.js';

const revisionOf = async (url: string, key: string): Promise<number> => Number((await fetch(`${url}/kv/${key}`)).headers.get('x-stash-revision'));

describe('web UI routes beyond the original', () => {
  let server: TestServer;
  let url: string;
  beforeAll(async () => {
    server = await startTestServer(['--server.page-size', '0']);
    url = server.url;
  });
  afterAll(() => server?.close());

  it('saves an edit only over the revision its If-Match names', async () => {
    await apiPut(url, 'im/k', 'v1');
    const form = (await get(`${url}/web/keys/edit/im%2Fk`)).text;
    const revision = inputValue(form, 'revision') ?? '';
    expect(form).toContain(`hx-headers="{&quot;If-Match&quot;:&quot;\\&quot;${revision}\\&quot;&quot;}"`);
    await apiPut(url, 'im/k', 'v2');
    const stale = await call(`${url}/web/keys/im%2Fk`, 'PUT', { value: 'mine' }, { 'if-match': `"${revision}"` });
    expect(stale.status).toBe(409);
    const fresh = await call(`${url}/web/keys/im%2Fk`, 'PUT', { value: 'mine' }, { 'if-match': `"${await revisionOf(url, 'im/k')}"` });
    expect(fresh.status).toBe(200);
    expect((await apiGet(url, 'im/k')).body.toString()).toBe('mine');
  });

  it('compares an open edit with the key now, and merges both sides from the version it was opened on', async () => {
    await apiPut(url, 'mg/k', 'a\nb\nc\n');
    const base = await revisionOf(url, 'mg/k');
    const same = await call(`${url}/web/keys/compare/mg%2Fk`, 'POST', { value: 'a\nb\nc2\n', revision: String(base) });
    expect(same.text).toContain('No one else has changed this key');
    await apiPut(url, 'mg/k', 'a1\nb\nc\n');
    const theirs = await revisionOf(url, 'mg/k');
    const compared = await call(`${url}/web/keys/compare/mg%2Fk`, 'POST', { value: 'a\nb\nc2\n', revision: String(base) });
    expect(compared.status).toBe(200);
    expect(compared.text).toContain('Conflict detected');
    expect(compared.text).toMatch(/class="diff-old">.*a1/);
    expect(compared.text).toContain('Nothing was saved yet');
    const merged = await call(`${url}/web/keys/merge/mg%2Fk`, 'POST', { value: 'a\nb\nc2\n', revision: String(base), server_revision: String(theirs) });
    expect(merged.text).toContain('both sets of changes are in');
    expect(merged.text).toContain('>a1\nb\nc2\n</textarea>');
    expect(inputValue(merged.text, 'revision')).toBe(String(theirs));
    // both changed the same line: marked for the user
    const clash = await call(`${url}/web/keys/merge/mg%2Fk`, 'POST', { value: 'mine\nb\nc\n', revision: String(base), server_revision: String(theirs) });
    expect(clash.text).toContain('1 place changed on both sides');
    expect(clash.text).toContain(`&lt;&lt;&lt;&lt;&lt;&lt;&lt; yours\nmine\n=======\na1\n&gt;&gt;&gt;&gt;&gt;&gt;&gt; theirs (revision ${theirs})`);
    expect((await apiGet(url, 'mg/k')).body.toString()).toBe('a1\nb\nc\n'); // none of this wrote anything
  });

  it('diffs two revisions and restores only over the revision the history showed', async () => {
    await apiPut(url, 'hd/k', 'one\n');
    const r1 = await revisionOf(url, 'hd/k');
    await apiPut(url, 'hd/k', 'two\n');
    const r2 = await revisionOf(url, 'hd/k');
    const diff = await get(`${url}/web/keys/diff/hd%2Fk?from=${r1}&to=${r2}`);
    expect(diff.text).toContain(`Changes #${r1} → #${r2}`);
    expect(diff.text).toMatch(/class="diff-old">.*one/);
    expect(diff.text).toMatch(/class="diff-new">.*two/);
    const history = (await get(`${url}/web/keys/history/hd%2Fk`)).text;
    expect(history).toContain(`&quot;if_revision&quot;:&quot;${r2}&quot;`);
    await apiPut(url, 'hd/k', 'three\n');
    const refused = await call(`${url}/web/keys/restore/hd%2Fk`, 'POST', { rev: String(r1), if_revision: String(r2) });
    expect(refused.status).toBe(409);
    expect(refused.text).toContain('changed since its history was opened');
    expect((await apiGet(url, 'hd/k')).body.toString()).toBe('three\n');
    const ok = await call(`${url}/web/keys/restore/hd%2Fk`, 'POST', { rev: String(r1), if_revision: String(await revisionOf(url, 'hd/k')) });
    expect(ok.status).toBe(200);
    expect((await apiGet(url, 'hd/k')).body.toString()).toBe('one\n');
  });

  it('shows one folder of the tree with its subfolders and counts', async () => {
    for (const key of ['fo/a/1', 'fo/a/2', 'fo/b/c/3', 'fo/x']) await apiPut(url, key, 'v');
    const top = await get(`${url}/web/keys?folder=fo/`, { cookie: 'browse=folders' });
    expect(top.text).toContain('2 folders, 1 key here');
    expect(top.text).toMatch(/a\/<\/span><span class="folder-count">2 keys/);
    expect(top.text).toMatch(/b\/<\/span><span class="folder-count">1 key</);
    expect(top.text).toContain('fo/x');
    expect(top.text).not.toContain('>fo/a/1<');
    const deep = await get(`${url}/web/keys?folder=fo/b/c`, { cookie: 'browse=folders' }); // the trailing slash is optional
    expect(deep.text).toContain('fo/b/c/3');
    const searched = await get(`${url}/web/keys?folder=fo/b/&search=fo/a`, { cookie: 'browse=folders' });
    expect(searched.text).toContain('fo/a/1'); // a search spans every folder
    const toggled = await call(`${url}/web/browse`, 'POST', {}, { cookie: 'browse=flat' });
    expect(toggled.headers.get('set-cookie')).toContain('browse=folders;');
    expect(toggled.text).toContain('id="browse-toggle"');
  });

  it('tells streams who made each change', async () => {
    const controller = new AbortController();
    const res = await fetch(`${url}/kv/subscribe/sse/*`, { signal: controller.signal });
    const reader = res.body!.getReader();
    await apiPut(url, 'sse/k', 'v');
    let text = '';
    while (!text.includes('\n\n')) text += new TextDecoder().decode((await reader.read()).value);
    await reader.cancel();
    controller.abort();
    expect(text).not.toContain('"actor"'); // no auth: nobody to name
    const withAuth = await startTestServer(['--auth.file', new URL('../fixtures/auth-web.yml', import.meta.url).pathname]);
    try {
      const stream = new AbortController();
      const r = await fetch(`${withAuth.url}/kv/subscribe/app/*`, { signal: stream.signal, headers: { 'x-auth-token': 'web-admin-token' } });
      const rd = r.body!.getReader();
      await apiPut(withAuth.url, 'app/k', 'v', 'text', { 'x-auth-token': 'web-admin-token' });
      let t = '';
      while (!t.includes('\n\n')) t += new TextDecoder().decode((await rd.read()).value);
      await rd.cancel();
      stream.abort();
      expect(t).toContain('"format":"text","actor":"token:web-****"}');
    } finally {
      await withAuth.close();
    }
  });
});

describe('the audit view', () => {
  let server: TestServer;
  let url: string;
  const auth = new URL('../fixtures/auth-web.yml', import.meta.url).pathname;
  const ADMIN = { 'x-auth-token': 'web-admin-token' };
  beforeAll(async () => {
    server = await startTestServer(['--auth.file', auth, '--audit.enabled', '--server.page-size', '3']);
    url = server.url;
    for (let i = 0; i < 4; i++) await apiPut(url, `au/k${i}`, 'v', 'text', ADMIN);
    await apiGet(url, 'au/k1', ADMIN);
    await apiGet(url, 'ops/none', ADMIN); // not found
    await fetch(`${url}/kv/au/k2`); // anonymous: denied
  });
  afterAll(() => server?.close());

  it('is for admins only, filters by key prefix, action and result, newest first, and pages', async () => {
    const { loginCookie } = await import('../auth/login-helpers.js');
    const admin = await loginCookie(url, 'admin', 'admin-pw');
    const reader = await loginCookie(url, 'reader', 'reader-pw');
    expect((await get(`${url}/audit`, { cookie: reader, 'hx-request': '' })).status).toBe(403);
    expect((await get(`${url}/audit`, { 'hx-request': '' })).status).toBe(303);
    const all = await get(`${url}/audit`, { cookie: admin, 'hx-request': '' });
    expect(all.status).toBe(200);
    expect(all.text).toContain('7 entries, newest first');
    expect(all.text).toContain('Page 1 of 3');
    const created = await get(`${url}/audit?key=au/*&action=create`, { cookie: admin });
    expect(created.text).toContain('4 entries');
    const times = [...created.text.matchAll(/<time datetime="([^"]+)"/g)].map((m) => m[1] as string);
    expect(times).toEqual([...times].sort().reverse());
    const denied = await get(`${url}/audit?result=denied`, { cookie: admin });
    expect(denied.text).toContain('1 entry');
    expect(denied.text).toContain('au/k2');
    expect(denied.text).toContain('anonymous');
    const page2 = await get(`${url}/audit?key=au/*&page=2`, { cookie: admin });
    expect(page2.text).toContain('Page 2 of 2');
    const bad = await get(`${url}/audit?from=yesterday`, { cookie: admin });
    expect(bad.status).toBe(400);
    expect(bad.text).toContain('From and To must be dates');
    // a key's view links to its entries, for admins
    expect((await get(`${url}/web/keys/view/au%2Fk1`, { cookie: admin })).text).toContain('href="/audit?key=au%2Fk1"');
    expect((await get(`${url}/web/keys/view/au%2Fk1`, { cookie: reader })).text).not.toContain('/audit?key=');
  });
});

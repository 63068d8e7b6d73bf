import { brotliDecompressSync } from 'node:zlib';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../helpers/test-server.js';
import { apiGet, apiPut, call, get, inputValue } from './web-helpers.js';

const XSS_KEY = 'xss/<script>alert(1)</script>';
const XSS_VALUE = '"><img src=x onerror=alert(2)><script>alert(3)</script>';

describe('web UI routes, auth off', () => {
  let server: TestServer;
  let url: string;

  beforeAll(async () => {
    server = await startTestServer(['--server.page-size', '3', '--secrets.key', 'a-secrets-key-of-16+']);
    url = server.url;
    await apiPut(url, 'app/config', '{"debug":true,"level":"info"}', 'json');
    await apiPut(url, 'app/db/host', 'db:5432');
    await apiPut(url, 'svc/nginx', '[server]\nport=81\n', 'ini');
    await apiPut(url, encodeURIComponent(XSS_KEY), XSS_VALUE);
    await apiPut(url, 'app/secrets/token', 'tok-123');
    await apiPut(url, 'app/zk', `$ZK$${Buffer.alloc(48, 7).toString('base64')}`);
    await apiPut(url, 'bin/blob', new Uint8Array([0, 1, 0xff, 0xfe, 0x80]));
  });
  afterAll(() => server?.close());

  it('serves the page at / with a strict CSP, hashed assets and every key escaped', async () => {
    const res = await get(`${url}/?page=1`, { 'hx-request': '' });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/html; charset=utf-8');
    const csp = res.headers.get('content-security-policy') ?? '';
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("style-src 'self'");
    // WebAssembly may compile (Argon2id for zero-knowledge values); JS eval and inline script may not
    expect(csp).not.toMatch(/'unsafe-(inline|eval|hashes)'/);
    expect(csp).toContain("'wasm-unsafe-eval'");
    expect(res.text).toMatch(/<script src="\/static\/htmx\.min\.js\?v=[0-9a-f]{12}" defer><\/script>/);
    expect(res.text).toMatch(/<link rel="stylesheet" href="\/static\/style\.css\?v=[0-9a-f]{12}">/);
    expect(res.text).not.toMatch(/<script>(?!<\/script>)/); // no inline script
    expect(res.text).toContain('placeholder="Search keys..."');
    expect(res.text).toContain('7 keys');
    // page size 3: the first page holds the three newest keys
    expect(res.text).toContain('Page 1 of 3');
    expect(res.text).toContain('bin/blob');
    expect(res.text).not.toContain('app/config');
  });

  it('escapes a key that is markup, in the list and in the view', async () => {
    const list = await get(`${url}/web/keys?search=xss`);
    expect(list.text).not.toContain('<script>alert(1)');
    expect(list.text).toContain('xss/&lt;script&gt;alert(1)&lt;/script&gt;');
    const view = await get(`${url}/web/keys/view/${encodeURIComponent(XSS_KEY)}`);
    expect(view.status).toBe(200);
    expect(view.text).not.toContain('<img src=x');
    expect(view.text).not.toContain('<script>alert');
    expect(view.text).toContain('&quot;&gt;&lt;img src=x onerror=alert(2)&gt;');
  });

  it('filters by a case-insensitive substring and pages the result', async () => {
    const res = await get(`${url}/web/keys?search=APP`);
    expect(res.text).toContain('4 keys matching “APP”');
    expect(res.text).toContain('Page 1 of 2');
    const second = await get(`${url}/web/keys?search=app&page=2`);
    expect(second.text).toContain('Page 2 of 2');
    expect(second.text).not.toContain('<!DOCTYPE'); // a partial, not the page
    const beyond = await get(`${url}/web/keys?search=app&page=99`);
    expect(beyond.text).toContain('Page 2 of 2');
    const none = await get(`${url}/web/keys?search=nothing-like-this`);
    expect(none.text).toContain('No keys match “nothing-like-this”');
  });

  it('compresses pages and assets for clients that accept it', async () => {
    const res = await fetch(`${url}/`, { headers: { 'accept-encoding': 'br' } });
    expect(res.headers.get('content-encoding')).toBe('br');
    const raw = Buffer.from(await res.arrayBuffer());
    // fetch decodes br itself; either way the body is the page
    const text = raw.toString('utf8').startsWith('<!DOCTYPE') ? raw.toString('utf8') : brotliDecompressSync(raw).toString('utf8');
    expect(text).toContain('<!DOCTYPE html>');
  });

  it('serves HTMX from the htmx.org package, cached for a year under its hash, revalidated without it', async () => {
    const page = (await get(`${url}/`)).text;
    const versioned = /\/static\/htmx\.min\.js\?v=([0-9a-f]{12})/.exec(page);
    expect(versioned).not.toBeNull();
    const res = await fetch(`${url}/static/htmx.min.js?v=${versioned?.[1]}`, { headers: { 'accept-encoding': 'identity' } });
    expect(res.status).toBe(200);
    expect(res.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
    expect(res.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    const pkg = readFileSync(createRequire(import.meta.url).resolve('htmx.org/dist/htmx.min.js'));
    expect(Buffer.from(await res.arrayBuffer()).equals(pkg)).toBe(true);
    const plain = await fetch(`${url}/static/htmx.min.js`);
    expect(plain.headers.get('cache-control')).toBe('no-cache');
    const etag = plain.headers.get('etag') ?? '';
    expect((await fetch(`${url}/static/htmx.min.js`, { headers: { 'if-none-match': etag } })).status).toBe(304);
    for (const name of ['style.css', 'app.js', 'logo.svg', 'favicon.svg']) expect((await fetch(`${url}/static/${name}`)).status).toBe(200);
    expect((await fetch(`${url}/static/nope.js`)).status).toBe(404);
    expect((await fetch(`${url}/static/app.js`, { method: 'POST' })).status).toBe(405);
  });

  it('views a key with highlighting, a secret with its lock, a zero-knowledge value without Edit, binary as base64', async () => {
    const json = await get(`${url}/web/keys/view/app%2Fconfig`);
    expect(json.text).toContain('<span class="token property">&quot;debug&quot;</span>'.replace(/&quot;/g, '"'));
    expect(json.text).toContain('JSON');
    expect(json.text).toContain('hx-get="/web/keys/edit/app%2Fconfig"');
    const secret = await get(`${url}/web/keys/view/app%2Fsecrets%2Ftoken`);
    expect(secret.text).toContain('tok-123');
    expect(secret.text).toContain('badge-secret');
    const zk = await get(`${url}/web/keys/view/app%2Fzk`);
    expect(zk.text).toContain('Zero-Knowledge Encrypted');
    expect(zk.text).not.toContain('hx-get="/web/keys/edit/app%2Fzk"'); // no server-side edit of ciphertext
    expect(zk.text).toContain('/web/keys/edit/app%2Fzk?zk=1'); // the page's own, after it decrypted the value
    const bin = await get(`${url}/web/keys/view/bin%2Fblob`);
    expect(bin.text).toContain('Binary value, shown as base64');
    expect(bin.text).toContain(Buffer.from([0, 1, 0xff, 0xfe, 0x80]).toString('base64'));
    expect((await get(`${url}/web/keys/view/no%2Fsuch`)).status).toBe(404);
    expect((await get(`${url}/web/keys/edit/app%2Fzk`)).status).toBe(400);
  });

  it('renders the new and edit forms with real labels, the format select and the conflict fields', async () => {
    const fresh = await get(`${url}/web/keys/new`);
    expect(fresh.text).toContain('<label for="key-input">Key</label>');
    expect(fresh.text).toContain('<label for="value-input">Value</label>');
    expect(fresh.text).toContain('<label for="format-select">Format</label><select name="format"');
    expect(fresh.text.match(/<option value=/g)).toHaveLength(8);
    const edit = await get(`${url}/web/keys/edit/svc%2Fnginx`);
    expect(edit.text).toContain('<option value="ini" selected>');
    expect(inputValue(edit.text, 'updated_at')).toMatch(/^\d{16,}$/);
    expect(Number(inputValue(edit.text, 'revision'))).toBeGreaterThan(0);
  });

  it('creates a key, refuses a duplicate, and reports a format error with Submit Anyway', async () => {
    const ok = await call(`${url}/web/keys`, 'POST', { key: ' ui/new key ', value: 'a: 1\n', format: 'yaml' });
    expect(ok.status).toBe(200);
    expect(ok.headers.get('hx-trigger-after-swap')).toBe('stash:close-modal');
    expect(ok.text).toContain('Created “ui/new_key”');
    const stored = await apiGet(url, 'ui/new_key');
    expect(stored.body.toString()).toBe('a: 1\n');
    expect(stored.format).toBe('application/yaml');

    const dup = await call(`${url}/web/keys`, 'POST', { key: 'ui/new_key', value: 'other', format: 'text' });
    expect(dup.status).toBe(409);
    expect(dup.headers.get('hx-retarget')).toBe('#modal-content');
    expect(dup.text).toContain('already exists');
    expect((await apiGet(url, 'ui/new_key')).body.toString()).toBe('a: 1\n');

    const bad = await call(`${url}/web/keys`, 'POST', { key: 'ui/bad', value: '{"a":', format: 'json' });
    expect(bad.status).toBe(422);
    expect(bad.headers.get('hx-retarget')).toBe('#modal-content');
    expect(bad.headers.get('hx-reswap')).toBe('innerHTML');
    expect(bad.text).toContain('invalid json:');
    expect(bad.text).toContain('Submit Anyway');
    expect((await apiGet(url, 'ui/bad')).status).toBe(404);
    const forced = await call(`${url}/web/keys`, 'POST', { key: 'ui/bad', value: '{"a":', format: 'json', force: 'true' });
    expect(forced.status).toBe(200);
    expect((await apiGet(url, 'ui/bad')).body.toString()).toBe('{"a":');

    const empty = await call(`${url}/web/keys`, 'POST', { key: '  /  ', value: 'x' });
    expect(empty.status).toBe(400);
    expect(empty.text).toContain('key is required');
    const unknownFormat = await call(`${url}/web/keys`, 'POST', { key: 'ui/fmt', value: 'x', format: 'JSON' });
    expect(unknownFormat.status).toBe(200);
    expect((await apiGet(url, 'ui/fmt')).format).toBe('text/plain');
  });

  it('stores binary values given as base64 and refuses bad base64', async () => {
    const bytes = Buffer.from([0xde, 0xad, 0xbe, 0xef, 0]);
    const ok = await call(`${url}/web/keys`, 'POST', { key: 'bin/new', value: bytes.toString('base64'), is_binary: 'true' });
    expect(ok.status).toBe(200);
    expect((await apiGet(url, 'bin/new')).body.equals(bytes)).toBe(true);
    const edit = await get(`${url}/web/keys/edit/bin%2Fnew`);
    expect(edit.text).toContain('<input type="hidden" name="is_binary" value="true">');
    const bad = await call(`${url}/web/keys/bin%2Fnew`, 'PUT', { key: 'bin/new', value: 'not base64!', is_binary: 'true' });
    expect(bad.status).toBe(422);
    expect(bad.text).toContain('not valid base64');
    expect((await apiGet(url, 'bin/new')).body.equals(bytes)).toBe(true);
  });

  it('detects a change made since the form was opened, by updated_at and by revision, with reload and overwrite', async () => {
    await apiPut(url, 'conf/a', 'v1');
    const form = (await get(`${url}/web/keys/edit/conf%2Fa`)).text;
    const updatedAt = inputValue(form, 'updated_at') ?? '';
    const revision = inputValue(form, 'revision') ?? '';
    await new Promise((r) => setTimeout(r, 5)); // a later updated_at: the change the form must detect
    await apiPut(url, 'conf/a', 'v2 from the API');

    // the original's field alone
    const byTime = await call(`${url}/web/keys/conf%2Fa`, 'PUT', { value: 'mine', format: 'text', updated_at: updatedAt });
    expect(byTime.status).toBe(409);
    expect(byTime.headers.get('hx-retarget')).toBe('#modal-content');
    expect(byTime.text).toContain('Conflict detected');
    expect(byTime.text).toContain('v2 from the API');
    expect(byTime.text).toContain('>Reload (take theirs)</button>');
    expect(byTime.text).toContain('>Overwrite (keep mine)</button>');
    expect(byTime.text).toContain('>Edit merged</button>');
    // the revision this form carries
    const byRevision = await call(`${url}/web/keys/conf%2Fa`, 'PUT', { value: 'mine', format: 'text', revision });
    expect(byRevision.status).toBe(409);
    expect((await apiGet(url, 'conf/a')).body.toString()).toBe('v2 from the API');

    // Overwrite names the revision it was shown: a newer change conflicts again
    const shown = /"server_revision":"(\d+)"/.exec(byRevision.text.replace(/&quot;/g, '"'))?.[1] ?? '';
    await apiPut(url, 'conf/a', 'v3 meanwhile');
    const stale = await call(`${url}/web/keys/conf%2Fa`, 'PUT', { value: 'mine', format: 'text', revision, force_overwrite: 'true', server_revision: shown });
    expect(stale.status).toBe(409);
    expect(stale.text).toContain('v3 meanwhile');
    const fresh = /"server_revision":"(\d+)"/.exec(stale.text.replace(/&quot;/g, '"'))?.[1] ?? '';
    const won = await call(`${url}/web/keys/conf%2Fa`, 'PUT', { value: 'mine', format: 'text', revision, force_overwrite: 'true', server_revision: fresh });
    expect(won.status).toBe(200);
    expect((await apiGet(url, 'conf/a')).body.toString()).toBe('mine');

    // force_overwrite alone (the original's form) writes unconditionally
    const forced = await call(`${url}/web/keys/conf%2Fa`, 'PUT', { value: 'forced', updated_at: updatedAt, force_overwrite: 'true' });
    expect(forced.status).toBe(200);
    expect((await apiGet(url, 'conf/a')).body.toString()).toBe('forced');

    // a current updated_at saves
    const now = inputValue((await get(`${url}/web/keys/edit/conf%2Fa`)).text, 'updated_at') ?? '';
    expect((await call(`${url}/web/keys/conf%2Fa`, 'PUT', { value: 'fine', updated_at: now })).status).toBe(200);

    // deleted meanwhile
    const open = (await get(`${url}/web/keys/edit/conf%2Fa`)).text;
    await fetch(`${url}/kv/conf/a`, { method: 'DELETE' });
    const gone = await call(`${url}/web/keys/conf%2Fa`, 'PUT', { value: 'x', revision: inputValue(open, 'revision') ?? '' });
    expect(gone.status).toBe(409);
    expect(gone.text).toContain('deleted by another user');
  });

  it('deletes a key and answers 404 for one that is not there', async () => {
    await apiPut(url, 'del/me', 'x');
    const res = await call(`${url}/web/keys/del%2Fme`, 'DELETE');
    expect(res.status).toBe(200);
    expect(res.text).toContain('Deleted “del/me”');
    expect((await apiGet(url, 'del/me')).status).toBe(404);
    const again = await call(`${url}/web/keys/del%2Fme`, 'DELETE');
    expect(again.status).toBe(404);
    expect(again.text).toBe('key not found\n');
  });

  it('lists the history from the change log, shows a revision and restores it as a new revision', async () => {
    await apiPut(url, 'hist/k', 'first', 'text');
    await apiPut(url, 'hist/k', '{"second":2}', 'json');
    const history = await get(`${url}/web/keys/history/hist%2Fk`);
    expect(history.status).toBe(200);
    const revisions = [...history.text.matchAll(/>#(\d+)</g)].map((m) => Number(m[1]));
    expect(revisions).toHaveLength(2);
    const [newest, oldest] = revisions as [number, number];
    expect(newest).toBeGreaterThan(oldest);
    const old = await get(`${url}/web/keys/revision/hist%2Fk?rev=${oldest}`);
    expect(old.text).toContain('Revision #' + oldest);
    expect(old.text).toContain('first');
    expect(old.text).toContain('Restore this version');
    const restored = await call(`${url}/web/keys/restore/hist%2Fk`, 'POST', { rev: String(oldest) });
    expect(restored.status).toBe(200);
    expect(restored.text).toContain(`Restored “hist/k” to revision ${oldest}`);
    const now = await fetch(`${url}/kv/hist/k`);
    expect(await now.text()).toBe('first');
    expect(now.headers.get('content-type')).toBe('text/plain');
    expect(Number(now.headers.get('x-stash-revision'))).toBeGreaterThan(newest);
    expect((await call(`${url}/web/keys/restore/hist%2Fk`, 'POST', { rev: 'abc' })).status).toBe(400);
    expect((await call(`${url}/web/keys/restore/hist%2Fk`, 'POST', { rev: '999999' })).status).toBe(404);
    expect((await get(`${url}/web/keys/revision/hist%2Fk?rev=999999`)).status).toBe(404);
  });

  it('cycles the preferences with one-year cookies and answers with the list and its control', async () => {
    const sort = await call(`${url}/web/sort`, 'POST', {}, { cookie: 'sort_mode=updated' });
    expect(sort.headers.get('set-cookie')).toBe('sort_mode=key; Path=/; Max-Age=31536000; HttpOnly; SameSite=Lax');
    expect(sort.text).toContain('id="sort-button"');
    expect(sort.text).toContain('hx-swap-oob="true"');
    expect(sort.text).toContain('<span>Key</span>');
    const order = ['updated', 'key', 'size', 'created', 'updated'];
    for (let i = 0; i < 4; i++) {
      const next = await call(`${url}/web/sort`, 'POST', {}, { cookie: `sort_mode=${order[i]}` });
      expect(next.headers.get('set-cookie')).toContain(`sort_mode=${order[i + 1]};`);
    }
    const view = await call(`${url}/web/view-mode`, 'POST', {}, { cookie: 'view_mode=grid' });
    expect(view.headers.get('set-cookie')).toContain('view_mode=cards;');
    expect(view.text).toContain('<ul class="cards"');
    const filters = ['all', 'secrets', 'keys', 'all'];
    for (let i = 0; i < 3; i++) {
      const next = await call(`${url}/web/secrets-filter`, 'POST', {}, { cookie: `secrets_filter=${filters[i]}` });
      expect(next.headers.get('set-cookie')).toContain(`secrets_filter=${filters[i + 1]};`);
    }
    const secrets = await call(`${url}/web/secrets-filter`, 'POST', {}, { cookie: 'secrets_filter=all' });
    expect(secrets.text).toContain('app/secrets/token');
    expect(secrets.text).not.toContain('svc/nginx');
    const theme = await call(`${url}/web/theme`, 'POST', {}, { cookie: 'theme=system' });
    expect(theme.headers.get('set-cookie')).toContain('theme=dark;');
    expect(theme.headers.get('hx-refresh')).toBe('true');
    const themes = ['dark', 'light', 'system'];
    for (let i = 0; i < 2; i++) {
      const next = await call(`${url}/web/theme`, 'POST', {}, { cookie: `theme=${themes[i]}` });
      expect(next.headers.get('set-cookie')).toContain(`theme=${themes[i + 1]};`);
    }
    const page = await get(`${url}/`, { cookie: 'theme=dark; view_mode=cards; sort_mode=key; secrets_filter=keys' });
    expect(page.text).toContain('<html lang="en" data-theme="dark">');
    expect(page.text).toContain('<ul class="cards"');
    expect(page.text).toContain('<span>Key</span>');
    expect(page.text).not.toContain('app/secrets/token');
  });

  it('answers 405 with Allow and 404 as Go’s mux would', async () => {
    const wrong = await call(`${url}/web/theme`, 'GET');
    expect(wrong.status).toBe(405);
    expect(wrong.headers.get('allow')).toBe('POST');
    expect((await call(`${url}/web/keys`, 'DELETE')).headers.get('allow')).toBe('GET, HEAD, POST');
    expect((await call(`${url}/`, 'POST')).status).toBe(405);
    expect((await get(`${url}/web/nothing`)).status).toBe(404);
    expect((await get(`${url}/web/keys/view/%zz`)).status).toBe(400);
  });

  it('refuses state-changing requests from another origin; same-origin and header-less clients pass', async () => {
    const host = new URL(url).host;
    const crossSite = await call(`${url}/web/keys`, 'POST', { key: 'csrf/a', value: 'x' }, { 'sec-fetch-site': 'cross-site' });
    expect(crossSite.status).toBe(403);
    const otherOrigin = await call(`${url}/web/keys/svc%2Fnginx`, 'DELETE', undefined, { origin: 'http://evil.example' });
    expect(otherOrigin.status).toBe(403);
    const theme = await call(`${url}/web/theme`, 'POST', {}, { 'sec-fetch-site': 'same-site' });
    expect(theme.status).toBe(403);
    expect((await apiGet(url, 'csrf/a')).status).toBe(404);
    expect((await apiGet(url, 'svc/nginx')).status).toBe(200);
    const same = await call(`${url}/web/keys`, 'POST', { key: 'csrf/b', value: 'x' }, { 'sec-fetch-site': 'same-origin', origin: `http://${host}` });
    expect(same.status).toBe(200);
  });

  it('renders a 1 MiB value and invalid UTF-8 without breaking the page', async () => {
    const big = `${'{"k":"'}${'x'.repeat(1024 * 1024 - 20)}"}`;
    await apiPut(url, 'big/value', big.slice(0, 1024 * 1024 - 1), 'json');
    const view = await get(`${url}/web/keys/view/big%2Fvalue`);
    expect(view.status).toBe(200);
    expect(view.text).toContain('Large value: shown without highlighting.');
    expect(view.text).toContain('</pre>');
    const list = await get(`${url}/web/keys?search=big`);
    expect(list.text).toContain('1024.0 KB');
    await apiPut(url, 'bin/latin1', Buffer.from('caf\xe9', 'latin1'));
    const bin = await get(`${url}/web/keys/view/bin%2Flatin1`);
    expect(bin.text).toContain(Buffer.from('caf\xe9', 'latin1').toString('base64'));
  });
});

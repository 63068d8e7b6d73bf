import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Client } from '@stash/client';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { toolHere } from '../helpers/optional-tools.js';
import { createTestDatabase, PG_URL, type TestDatabase } from '../helpers/pg.js';
import { ROOT, buildOnce, freePort, startStashProcess, type Spawned } from '../helpers/spawned-server.js';
import { makeTempDir } from '../helpers/test-server.js';
import { RUN_BROWSER_TESTS, launchBrowser, openPage, signIn, unexpected, type WatchedPage } from '../web/browser.js';

// deploy/docker-compose.yml without Docker: its nginx.conf, as shipped, in front of two real servers
// on one PostgreSQL database, run with the compose file's settings (base URL /stash, the proxy trusted)
const NGINX = toolHere('nginx', 'skipping the deploy/nginx.conf test against real servers');
if (!PG_URL) console.warn('nginx-proxy: STASH_TEST_PG_URL is not set, skipping the deploy/nginx.conf test');
const AUTH = join(import.meta.dirname, '..', 'fixtures', 'auth-web.yml');
const ADMIN = 'web-admin-token';

/**
 * The shipped config with only what a test machine needs changed: the upstreams are the test's
 * servers, it listens on a free loopback port, and logs go to the test's folder. Every proxy
 * setting stays as shipped; each replacement must hit, so a change to the file fails here.
 */
function localConfig(shipped: string, upstreams: readonly number[], listen: number, dir: string): string {
  const replace = (text: string, from: RegExp, to: (n: number) => string, count: number): string => {
    let n = 0;
    const out = text.replace(from, () => to(n++));
    if (n !== count) throw new Error(`deploy/nginx.conf: expected ${count} match(es) of ${from}, found ${n}`);
    return out;
  };
  let conf = replace(shipped, /server stash-\d:8080/g, (n) => `server 127.0.0.1:${upstreams[n]}`, 2);
  conf = replace(conf, /listen 80;/g, () => `listen 127.0.0.1:${listen};`, 1);
  conf = replace(conf, /access_log \/dev\/stdout stash;/g, () => `access_log ${dir}/access.log stash;`, 1);
  conf = replace(conf, /error_log \/dev\/stderr warn;/g, () => `error_log ${dir}/error.log warn;`, 1);
  const temp = ['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'].map((t) => `${t}_temp_path ${dir}/${t};`).join(' ');
  return replace(conf, /^http \{$/gm, () => `http {\n  ${temp}`, 1);
}

describe.skipIf(!NGINX || !PG_URL)('deploy/nginx.conf in front of two servers on one PostgreSQL', () => {
  let db: TestDatabase;
  let dir: string;
  let nginx: ChildProcess;
  let nginxLog = '';
  let proxy: string;
  const servers: Array<Spawned & { url: string; port: number }> = [];

  beforeAll(async () => {
    await buildOnce();
    db = await createTestDatabase();
    dir = makeTempDir('stash-nginx-');
    // heartbeats far apart: a proxy that buffers the stream would pass events on only with the next one
    const flags = ['--server.base-url=/stash', '--server.trusted-proxies=127.0.0.1', `--auth.file=${AUTH}`, '--sse.heartbeat=10m'];
    // the second after the first: both would create the schema at once otherwise
    servers.push(await startStashProcess(db.url, flags, { baseUrl: '/stash' }));
    servers.push(await startStashProcess(db.url, flags, { baseUrl: '/stash' }));
    const port = await freePort();
    const shipped = readFileSync(join(ROOT, 'deploy', 'nginx.conf'), 'utf8');
    writeFileSync(join(dir, 'nginx.conf'), localConfig(shipped, servers.map((s) => s.port), port, dir));
    // one process as the test's user (no workers switching to another user), in the foreground
    nginx = spawn('nginx', ['-p', dir, '-c', join(dir, 'nginx.conf'), '-e', join(dir, 'startup.log'), '-g', `daemon off; master_process off; pid ${dir}/nginx.pid;`], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    nginx.stderr?.setEncoding('utf8').on('data', (d: string) => (nginxLog += d));
    proxy = `http://127.0.0.1:${port}`;
    const deadline = Date.now() + 10_000;
    for (;;) {
      if (nginx.exitCode !== null) throw new Error(`nginx exited: ${nginxLog}${readFileSync(join(dir, 'startup.log'), 'utf8')}`);
      const pong = await fetch(`${proxy}/stash/ping`).then((r) => r.text(), () => '');
      if (pong === 'pong') break;
      if (Date.now() > deadline) throw new Error(`nginx did not answer: ${nginxLog}`);
      await new Promise((r) => setTimeout(r, 25));
    }
  }, 60_000);

  afterAll(async () => {
    nginx?.kill('SIGTERM');
    for (const s of servers) s.proc.kill('SIGTERM');
    await Promise.all(servers.map((s) => s.exited));
    await db?.drop();
  });

  it('sends visitors of / to the UI, and /stash to /stash/', async () => {
    const root = await fetch(`${proxy}/`, { redirect: 'manual' });
    // relative: behind a published port (8080:80 in the compose file) an absolute one would name port 80
    expect([root.status, root.headers.get('location')]).toEqual([302, '/stash/']);
    const bare = await fetch(`${proxy}/stash`, { redirect: 'manual' });
    expect([bare.status, bare.headers.get('location')]).toEqual([301, '/stash/']);
    const ui = await fetch(`${proxy}/stash/`, { redirect: 'manual' });
    expect([ui.status, ui.headers.get('location')]).toEqual([303, '/stash/login']); // auth is on: the login page
  });

  it('spreads requests over both servers, and the client works through it', async () => {
    const client = new Client(`${proxy}/stash`, { token: ADMIN });
    for (let i = 0; i < 8; i++) await client.set(`spread/k${i}`, `v${i}`);
    for (let i = 0; i < 8; i++) expect(await client.get(`spread/k${i}`)).toBe(`v${i}`);
    // nginx writes a request's line after its answer has left: wait for the last ones, for 5 s at most
    const logged = (): string[] => readFileSync(join(dir, 'access.log'), 'utf8').trim().split('\n').filter((l) => l.includes('/stash/kv/spread/'));
    for (let waited = 0; logged().length < 16 && waited < 5000; waited += 20) await new Promise((r) => setTimeout(r, 20));
    const lines = logged();
    expect(lines).toHaveLength(16);
    const upstreams = new Set(lines.map((l) => (JSON.parse(l) as { upstream: string }).upstream));
    expect([...upstreams].sort()).toEqual(servers.map((s) => `127.0.0.1:${s.port}`).sort());
    // the log line carries Stash's own request id, as the file's comment says
    expect(lines.every((l) => /"request_id":"[0-9a-f]{40}"/.test(l))).toBe(true);
    client.close();
  });

  it('passes a value at the server body limit, and lets the server refuse a larger one', async () => {
    const client = new Client(`${proxy}/stash`, { token: ADMIN });
    const limit = 1024 * 1024;
    await client.set('big/max', 'x'.repeat(limit));
    expect((await client.get('big/max')).length).toBe(limit);
    const over = await fetch(`${proxy}/stash/kv/big/over`, { method: 'PUT', headers: { authorization: `Bearer ${ADMIN}` }, body: 'x'.repeat(limit + 1) });
    expect(over.status).toBe(413);
    // the server's answer (empty, with its request id, as the original's), not nginx's own page
    expect(over.headers.get('x-request-id')).toMatch(/^[0-9a-f]{40}$/);
    expect(await over.text()).toBe('');
    client.close();
  });

  it('streams change events unbuffered, from writes that land on either server', async () => {
    const client = new Client(`${proxy}/stash`, { token: ADMIN });
    const sub = client.subscribePrefix('live');
    const written: number[] = [];
    const seen: number[] = [];
    const stream = (async () => {
      await sub.ready;
      for (let i = 0; i < 6; i++) written.push((await client.set(`live/k${i}`, String(i))).revision);
      for await (const event of sub) {
        if (event.type === 'change') seen.push(event.revision);
        if (seen.length === written.length) return;
      }
    })();
    // a bound, not a speed: buffered by nginx, the stream would wait for the next heartbeat, 10 minutes away
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<never>((_, reject) => {
      const what = written.length === 0 ? 'the stream had not opened' : `${seen.length} of ${written.length} events had come`;
      timer = setTimeout(() => reject(new Error(`after 10 s through nginx, ${what}`)), 10_000);
    });
    await Promise.race([stream, late]).finally(() => clearTimeout(timer));
    expect(seen).toEqual(written);
    sub.close();
    client.close();
  }, 20_000);

  it('refuses a cookie write from another origin, and takes the same origin (Host keeps its port)', async () => {
    const login = await fetch(`${proxy}/stash/login`, {
      method: 'POST',
      redirect: 'manual',
      headers: { 'content-type': 'application/x-www-form-urlencoded', origin: proxy },
      body: 'username=admin&password=admin-pw',
    });
    expect(login.status).toBe(303);
    const cookie = (login.headers.get('set-cookie') ?? '').split(';')[0] ?? '';
    expect(cookie).toMatch(/=./);
    const post = (origin: string): Promise<Response> =>
      fetch(`${proxy}/stash/web/keys`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', cookie, origin, 'hx-request': 'true' },
        body: new URLSearchParams({ key: `web/${origin.length}`, value: 'v', format: 'text' }).toString(),
      });
    expect((await post('http://evil.example')).status).toBe(403);
    expect((await post(proxy)).status).toBe(200);
    const client = new Client(`${proxy}/stash`, { token: ADMIN });
    expect(await client.get(`web/${proxy.length}`)).toBe('v');
    expect(await client.has(`web/${'http://evil.example'.length}`)).toBe(false);
    client.close();
  });

  describe.skipIf(!RUN_BROWSER_TESTS)('in a browser', () => {
    let browser: Browser;
    let watched: WatchedPage | undefined;
    beforeAll(async () => {
      browser = await launchBrowser();
    });
    afterAll(async () => {
      const problems = watched ? unexpected(watched.problems) : [];
      await watched?.close();
      await browser?.close();
      expect(problems).toEqual([]);
    });

    it('signs in, creates a key, and sees a change made through the API live', async () => {
      watched = await openPage(browser);
      const { page } = watched;
      await signIn(page, proxy, 'admin', 'admin-pw'); // at / (nginx sends it on to /stash/)
      expect(new URL(page.url()).pathname).toBe('/stash/');
      await page.getByRole('button', { name: 'New Key' }).first().click();
      await page.getByLabel('Key', { exact: true }).fill('browser/made');
      await page.getByLabel('Value', { exact: true }).fill('through nginx');
      await page.getByRole('button', { name: 'Save' }).click();
      await page.getByRole('button', { name: 'browser/made', exact: true }).waitFor();
      // a write through the proxy (either server) reaches the page's stream (either server)
      const client = new Client(`${proxy}/stash`, { token: ADMIN });
      for (let i = 0; i < 4; i++) await client.set(`browser/api${i}`, 'x');
      for (let i = 0; i < 4; i++) await page.getByRole('button', { name: `browser/api${i}`, exact: true }).waitFor();
      client.close();
    }, 30_000);
  });
});

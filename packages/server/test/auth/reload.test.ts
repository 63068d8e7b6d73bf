import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { SqliteSessionStore } from '../../src/auth/session-store.js';
import type { SqliteStore } from '../../src/storage/sqlite-store.js';
import { buildOnce, startStashProcess, runStash } from '../helpers/spawned-server.js';
import { makeTempDir, startTestServer, type TestServer } from '../helpers/test-server.js';
import { ACL_FILE, FIXTURES, loginCookie } from './login-helpers.js';

const BASE = readFileSync(ACL_FILE, 'utf8');
const ALICE_HASH = '$2b$04$BqKGbEMR.32MvbNWbYzi3eGpzsFGJ05otV3g9tiX/ell4N6tvIsUO';
const NEW_HASH = '$2b$04$PbWVsgIJgB0gGcFyj2JDgO0UlVZmAbZpgQXlcZmNq30LNsoJOqEcS'; // new-pw
const EXTRA_TOKEN = '  - token: "new-token-0001"\n    permissions:\n      - prefix: "fresh/*"\n        access: rw\n';

/** the fixture with extra token lines appended to its tokens list */
const withToken = (text: string): string => `${text.trimEnd()}\n${EXTRA_TOKEN}`;

function put(url: string, key: string, headers: Record<string, string>): Promise<number> {
  return fetch(`${url}/kv/${key}`, { method: 'PUT', headers, body: 'x' }).then(async (r) => {
    await r.arrayBuffer();
    return r.status;
  });
}

async function eventually(check: () => Promise<boolean>, timeoutMs: number): Promise<number> {
  const started = Date.now();
  while (Date.now() - started < timeoutMs) {
    if (await check()) return Date.now() - started;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`condition not met within ${timeoutMs} ms`);
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe('--auth.hot-reload', () => {
  let server: TestServer;
  let file: string;

  beforeAll(async () => {
    file = join(makeTempDir('stash-auth-reload-'), 'auth.yml');
  });
  afterEach(async () => {
    await server?.close();
  });

  async function start(): Promise<void> {
    writeFileSync(file, BASE);
    server = await startTestServer(['--auth.file', file, '--auth.hot-reload']);
  }

  it('an edited file takes effect within about a second', async () => {
    await start();
    const token = { 'x-auth-token': 'new-token-0001' };
    expect(await put(server.url, 'fresh/a', token)).toBe(401);
    writeFileSync(file, withToken(BASE));
    const took = await eventually(async () => (await put(server.url, 'fresh/a', token)) !== 401, 2000);
    expect(took).toBeLessThan(1000);
    expect(await put(server.url, 'fresh/b', token)).toBe(201);
  });

  it('follows editor-style atomic renames', async () => {
    await start();
    const tmp = `${file}.tmp`;
    writeFileSync(tmp, withToken(BASE));
    renameSync(tmp, file);
    await eventually(async () => (await put(server.url, 'fresh/r', { 'x-auth-token': 'new-token-0001' })) === 201, 2000);
    // and a removed token stops working
    writeFileSync(tmp, BASE);
    renameSync(tmp, file);
    await eventually(async () => (await put(server.url, 'fresh/r', { 'x-auth-token': 'new-token-0001' })) === 401, 2000);
  });

  it('an invalid edit keeps the old config', async () => {
    await start();
    writeFileSync(file, 'users:\n  - name: [broken\n');
    await sleep(400);
    expect(await put(server.url, 'any/k', { 'x-auth-token': 'rw-token-1234' })).toBe(201);
    writeFileSync(file, BASE.replace('rw-token-1234', 'rw-token-9999'));
    await eventually(async () => (await put(server.url, 'any/k', { 'x-auth-token': 'rw-token-9999' })) === 200, 2000);
    expect(await put(server.url, 'any/k', { 'x-auth-token': 'rw-token-1234' })).toBe(401);
  });

  it("a changed password ends that user's sessions only; a removed user's too", async () => {
    await start();
    const sessions = new SqliteSessionStore((server.store as SqliteStore).db);
    const alice = { cookie: await loginCookie(server.url, 'alice', 'alice-pw') };
    const bob = { cookie: await loginCookie(server.url, 'bob', 'bob-pw') };
    const admin = { cookie: await loginCookie(server.url, 'admin', 'admin-pw') };
    expect(await put(server.url, 'app/alice/k', alice)).toBe(201);

    writeFileSync(file, BASE.replace(ALICE_HASH, NEW_HASH));
    await eventually(async () => (await put(server.url, 'app/alice/k', alice)) === 401, 2000);
    expect(await sessions.get(alice.cookie.split('=')[1] ?? '')).toBeUndefined();
    expect(await put(server.url, 'bob/k', bob)).toBe(201);
    expect(await put(server.url, 'admin/k', admin)).toBe(201);
    expect(await put(server.url, 'app/alice/k', { cookie: await loginCookie(server.url, 'alice', 'new-pw') })).toBe(200);

    const withoutBob = BASE.replace(ALICE_HASH, NEW_HASH).replace(/ {2}- name: bob\n(?: {4}.*\n| {6}.*\n)+/, '');
    expect(withoutBob).not.toContain('name: bob');
    writeFileSync(file, withoutBob);
    await eventually(async () => (await put(server.url, 'bob/k', bob)) === 401, 2000);
    expect(await sessions.get(bob.cookie.split('=')[1] ?? '')).toBeUndefined();
    expect(await put(server.url, 'admin/k', admin)).toBe(200);
  });
});

describe('session principals on streams', () => {
  let server: TestServer;
  afterAll(async () => {
    await server?.close();
  });

  it('a logged-out session stops receiving events at once', async () => {
    server = await startTestServer(['--auth.file', ACL_FILE]);
    const cookie = await loginCookie(server.url, 'alice', 'alice-pw');
    const res = await fetch(`${server.url}/kv/subscribe/app/*`, { headers: { cookie } });
    expect(res.status).toBe(200);
    const reader = res.body!.getReader();
    let received = '';
    const pump = (async () => {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) return;
        received += new TextDecoder().decode(value);
      }
    })().catch(() => undefined);
    const rw = { 'x-auth-token': 'rw-token-1234' };
    expect(await put(server.url, 'app/before', rw)).toBe(201);
    expect(await put(server.url, 'bob/hidden', rw)).toBe(201);
    await eventually(() => Promise.resolve(received.includes('"app/before"')), 2000);
    await fetch(`${server.url}/logout`, { method: 'POST', headers: { cookie }, redirect: 'manual' });
    expect(await put(server.url, 'app/after', rw)).toBe(201);
    await sleep(200);
    await reader.cancel();
    await pump;
    expect(received).not.toContain('app/after');
    expect(received).not.toContain('bob/hidden');
  });
});

describe('spawned bin', () => {
  beforeAll(async () => {
    await buildOnce();
  }, 120_000);

  it('SIGHUP reloads the auth file without --auth.hot-reload', async () => {
    const dir = makeTempDir('stash-auth-hup-');
    const file = join(dir, 'auth.yml');
    writeFileSync(file, BASE);
    const proc = await startStashProcess(join(dir, 'stash.db'), [`--auth.file=${file}`]);
    try {
      const token = { 'x-auth-token': 'new-token-0001' };
      expect(await put(proc.url, 'fresh/a', token)).toBe(401);
      writeFileSync(file, withToken(BASE));
      await sleep(300);
      expect(await put(proc.url, 'fresh/a', token)).toBe(401); // no watcher: nothing changed yet
      proc.proc.kill('SIGHUP');
      await eventually(async () => (await put(proc.url, 'fresh/a', token)) === 201, 3000);
      writeFileSync(file, 'tokens: [oops');
      proc.proc.kill('SIGHUP');
      await eventually(() => Promise.resolve(proc.stdout().includes('auth reload rejected')), 3000);
      expect(await put(proc.url, 'fresh/a', token)).toBe(200);
      expect(proc.proc.exitCode).toBeNull();
      expect(proc.stdout()).not.toContain('new-token-0001');
      expect(proc.stdout()).not.toContain('rw-token-1234');
    } finally {
      proc.proc.kill('SIGTERM');
      await proc.exited;
    }
  }, 30_000);

  it('an invalid auth file stops start-up with exit 1 and the message', async () => {
    const dir = makeTempDir('stash-auth-bad-');
    const run = runStash(['server', `--db=${join(dir, 'stash.db')}`, '--server.address=127.0.0.1:0', `--auth.file=${join(FIXTURES, 'auth-two-public.yml')}`]);
    expect(await run.exited).toBe(1);
    expect(run.stdout() + run.stderr()).toMatch(/\[ERROR\] auth file .*auth-two-public\.yml: config validation failed: tokens\[1\]\.token: more than one public/);
  }, 30_000);
});

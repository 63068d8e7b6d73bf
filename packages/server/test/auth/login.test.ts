import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { SqliteSessionStore } from '../../src/auth/session-store.js';
import type { SqliteStore } from '../../src/storage/sqlite-store.js';
import { startTestServer, type TestServer } from '../helpers/test-server.js';
import { ACL_FILE, FIXTURES, loginCookie, postLogin } from './login-helpers.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const servers: TestServer[] = [];

async function start(...args: string[]): Promise<TestServer> {
  const server = await startTestServer(['--auth.file', ACL_FILE, ...args]);
  servers.push(server);
  return server;
}

afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

function sessionsOf(server: TestServer): SqliteSessionStore {
  return new SqliteSessionStore((server.store as SqliteStore).db);
}

describe('GET /login', () => {
  it('renders a form posting username and password', async () => {
    const server = await start();
    const res = await fetch(`${server.url}/login`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/html; charset=utf-8');
    const html = await res.text();
    expect(html).toMatch(/<form method="post" action="\/login"[ >]/);
    // drawn by the web UI: its style sheet, under the same strict CSP as every page
    expect(html).toMatch(/<link rel="stylesheet" href="\/static\/style\.css\?v=[0-9a-f]{12}">/);
    expect(res.headers.get('content-security-policy')).toContain("script-src 'self'");
    expect(html).toContain('name="username"');
    expect(html).toContain('name="password"');
  });

  it('is not registered without auth', async () => {
    const open = await startTestServer();
    servers.push(open);
    expect((await fetch(`${open.url}/login`)).status).toBe(404);
  });

  it('answers other methods with 405', async () => {
    const server = await start();
    const res = await fetch(`${server.url}/login`, { method: 'PUT' });
    expect(res.status).toBe(405);
    expect(res.headers.get('allow')).toBe('GET, HEAD, POST');
    expect((await fetch(`${server.url}/logout`)).status).toBe(405);
  });
});

describe('POST /login', () => {
  it('missing fields: 401 "Username and password are required"', async () => {
    const server = await start();
    for (const fields of [{}, { username: 'alice' }, { password: 'alice-pw' }, { username: '', password: 'x' }] as Record<string, string>[]) {
      const res = await postLogin(server.url, fields);
      expect(res.status).toBe(401);
      expect(res.headers.get('content-type')).toBe('text/html; charset=utf-8');
      expect(await res.text()).toContain('Username and password are required');
    }
  });

  it('wrong password and unknown user: the same 401 "Invalid username or password"', async () => {
    const server = await start();
    for (const fields of [{ username: 'alice', password: 'nope' }, { username: 'mallory', password: 'alice-pw' }]) {
      const res = await postLogin(server.url, fields);
      expect(res.status).toBe(401);
      expect(await res.text()).toContain('Invalid username or password');
      expect(res.headers.get('set-cookie')).toBeNull();
    }
  });

  it('success: 303 to / with the stash-auth cookie over plain HTTP', async () => {
    const server = await start();
    const res = await postLogin(server.url, { username: 'alice', password: 'alice-pw' });
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe('/');
    const cookie = res.headers.get('set-cookie') ?? '';
    const m = /^stash-auth=([^;]+); Path=\/; Max-Age=2592000; HttpOnly; SameSite=Strict$/.exec(cookie);
    expect(m, cookie).not.toBeNull();
    expect(m?.[1]).toMatch(UUID);
    const session = await sessionsOf(server).get(m?.[1] ?? '');
    expect(session?.username).toBe('alice');
    const ttl = (session?.expiresAt.getTime() ?? 0) - Date.now();
    expect(ttl).toBeGreaterThan(2592000_000 - 60_000);
  });

  it('HTTPS via X-Forwarded-Proto: __Host-stash-auth with Secure; Max-Age follows --auth.login-ttl', async () => {
    const server = await start('--auth.login-ttl', '1h');
    const res = await postLogin(server.url, { username: 'bob', password: 'bob-pw' }, { 'x-forwarded-proto': 'https' });
    expect(res.status).toBe(303);
    expect(res.headers.get('set-cookie')).toMatch(
      /^__Host-stash-auth=[0-9a-f-]{36}; Path=\/; Max-Age=3600; HttpOnly; Secure; SameSite=Strict$/,
    );
  });

  it('with a base URL: stash-auth (never __Host-), Path and Location under the base', async () => {
    const server = await start('--server.base-url', '/stash');
    const res = await fetch(`${server.url}/stash/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-forwarded-proto': 'https' },
      body: 'username=alice&password=alice-pw',
      redirect: 'manual',
    });
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe('/stash/');
    expect(res.headers.get('set-cookie')).toMatch(/^stash-auth=[0-9a-f-]{36}; Path=\/stash\/; Max-Age=2592000; HttpOnly; Secure; SameSite=Strict$/);
    expect(await (await fetch(`${server.url}/stash/login`)).text()).toContain('action="/stash/login"');
  });

  it('accepts form encoding of special characters', async () => {
    const server = await start();
    const res = await fetch(`${server.url}/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'username=%61lice&password=alice%2Dpw',
      redirect: 'manual',
    });
    expect(res.status).toBe(303);
  });
});

describe('sessions on /kv', () => {
  it('a session cookie authorises /kv with the user ACL; 403 when the grant is missing', async () => {
    const server = await start();
    await server.store.apply([{ kind: 'put', key: 'app/x', value: Buffer.from('v'), format: 'text' }]);
    const cookie = await loginCookie(server.url, 'alice', 'alice-pw');
    const kv = (method: string, key: string, body?: string): Promise<Response> =>
      fetch(`${server.url}/kv/${key}`, { method, headers: { cookie }, body });
    expect((await kv('GET', 'app/x')).status).toBe(200);
    expect((await kv('PUT', 'app/x', 'y')).status).toBe(403);
    expect((await kv('PUT', 'app/alice/y', 'y')).status).toBe(201);
    expect((await kv('GET', 'bob/x')).status).toBe(403);
    const list = (await (await kv('GET', '')).json()) as Array<{ key: string }>;
    expect(list.map((k) => k.key).sort()).toEqual(['app/alice/y', 'app/x']);
  });

  it('__Host-stash-auth is tried before stash-auth; bogus cookies are 401', async () => {
    const server = await start();
    const bob = (await loginCookie(server.url, 'bob', 'bob-pw', { 'x-forwarded-proto': 'https' })).split('=')[1];
    const alice = (await loginCookie(server.url, 'alice', 'alice-pw')).split('=')[1];
    const put = (cookie: string): Promise<number> =>
      fetch(`${server.url}/kv/bob/k`, { method: 'PUT', headers: { cookie }, body: 'x' }).then((r) => r.status);
    expect(await put(`stash-auth=${alice}; __Host-stash-auth=${bob}`)).toBe(201);
    expect(await put(`stash-auth=${alice}`)).toBe(403);
    expect(await put(`__Host-stash-auth=not-a-session; stash-auth=${bob}`)).toBe(200);
    expect(await put('stash-auth=not-a-session')).toBe(401);
    expect(await put(`other=${bob}`)).toBe(401);
  });

  it('expired sessions read as missing and are cleaned up', async () => {
    const server = await start();
    const sessions = sessionsOf(server);
    await sessions.create({ token: 'expired-1', username: 'bob', expiresAt: new Date(Date.now() - 1000) });
    const res = await fetch(`${server.url}/kv/bob/k`, { method: 'PUT', headers: { cookie: 'stash-auth=expired-1' }, body: 'x' });
    expect(res.status).toBe(401);
    expect(await sessions.deleteExpired()).toBe(1);
  });

  it('a session of a user no longer in the file is rejected', async () => {
    const server = await start();
    await sessionsOf(server).create({ token: 'ghost-1', username: 'ghost', expiresAt: new Date(Date.now() + 60_000) });
    const res = await fetch(`${server.url}/kv/public/a`, { method: 'PUT', headers: { cookie: 'stash-auth=ghost-1' }, body: 'x' });
    expect(res.status).toBe(401);
  });
});

describe('POST /logout', () => {
  it('deletes the session, expires both cookies, HX-Refresh, 303 to /login', async () => {
    const server = await start('--server.base-url', '/stash');
    const login = await fetch(`${server.url}/stash/login`, {
      method: 'POST',
      body: 'username=bob&password=bob-pw',
      redirect: 'manual',
    });
    const cookie = (login.headers.get('set-cookie') ?? '').split(';')[0] ?? '';
    const token = cookie.split('=')[1] ?? '';
    expect(await sessionsOf(server).get(token)).toBeDefined();
    const res = await fetch(`${server.url}/stash/logout`, { method: 'POST', headers: { cookie }, redirect: 'manual' });
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe('/stash/login');
    expect(res.headers.get('hx-refresh')).toBe('true');
    expect(res.headers.getSetCookie()).toEqual([
      '__Host-stash-auth=; Path=/; Max-Age=0; HttpOnly; Secure; SameSite=Strict',
      'stash-auth=; Path=/stash/; Max-Age=0; HttpOnly; SameSite=Strict',
    ]);
    expect(await sessionsOf(server).get(token)).toBeUndefined();
    const after = await fetch(`${server.url}/stash/kv/bob/k`, { method: 'PUT', headers: { cookie }, body: 'x' });
    expect(after.status).toBe(401);
  });

  it('works without any cookie', async () => {
    const server = await start();
    const res = await fetch(`${server.url}/logout`, { method: 'POST', redirect: 'manual' });
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe('/login');
  });
});

describe('brute force', () => {
  it('at most --limits.login-concurrency logins at once, else 503', async () => {
    const server = await startTestServer(['--auth.file', join(FIXTURES, 'auth-slow-login.yml'), '--limits.login-concurrency', '1']);
    servers.push(server);
    const statuses = await Promise.all(
      Array.from({ length: 3 }, () => postLogin(server.url, { username: 'slow', password: 'slow-pw' }).then((r) => r.status)),
    );
    expect(statuses.filter((s) => s === 503).length).toBeGreaterThanOrEqual(1);
    expect(statuses).toContain(303);
  });

  it('10 failed logins from one IP: 429 with Retry-After, even for the right password; other IPs unaffected', async () => {
    const server = await start('--server.trusted-proxies', '127.0.0.1');
    const from = (ip: string): Record<string, string> => ({ 'x-real-ip': ip });
    for (let i = 0; i < 10; i++) {
      const res = await postLogin(server.url, { username: 'alice', password: `wrong-${i}` }, from('203.0.113.7'));
      expect(res.status).toBe(401);
    }
    const blocked = await postLogin(server.url, { username: 'alice', password: 'alice-pw' }, from('203.0.113.7'));
    expect(blocked.status).toBe(429);
    expect(Number(blocked.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(await blocked.text()).toContain('Too many failed login attempts');
    const other = await postLogin(server.url, { username: 'alice', password: 'alice-pw' }, from('203.0.113.8'));
    expect(other.status).toBe(303);
  });

  it('a successful login clears the failure count', async () => {
    const server = await start();
    for (let round = 0; round < 2; round++) {
      for (let i = 0; i < 9; i++) expect((await postLogin(server.url, { username: 'bob', password: 'x' })).status).toBe(401);
      expect((await postLogin(server.url, { username: 'bob', password: 'bob-pw' })).status).toBe(303);
    }
  });
});

import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../helpers/test-server.js';

const AUTH_FILE = join(import.meta.dirname, '..', 'fixtures', 'auth-acl.yml');
const RW = 'rw-token-1234';
const READ = 'read-token-5678';
const APP = 'app-token-abcd';
const SECRET = 'secret-token-efgh';
const WRITE = 'w-token-ijkl';

let server: TestServer;

beforeAll(async () => {
  server = await startTestServer(['--auth.file', AUTH_FILE]);
});
afterAll(async () => {
  await server.close();
});

type Init = { token?: string; bearer?: string; body?: string; headers?: Record<string, string> };

function call(method: string, path: string, init: Init = {}): Promise<Response> {
  const headers: Record<string, string> = { ...init.headers };
  if (init.token !== undefined) headers['x-auth-token'] = init.token;
  if (init.bearer !== undefined) headers['authorization'] = `Bearer ${init.bearer}`;
  return fetch(`${server.url}${path}`, { method, headers, body: init.body, redirect: 'manual' });
}

async function status(method: string, path: string, init: Init = {}): Promise<number> {
  const res = await call(method, path, init);
  await res.arrayBuffer();
  return res.status;
}

/** seed keys straight into the store, including secret paths (no secrets key configured here) */
async function seed(...keys: string[]): Promise<void> {
  await server.store.apply(keys.map((key) => ({ kind: 'put' as const, key, value: Buffer.from(`v:${key}`), format: 'text' as const })));
}

describe('status codes (compat 6.6)', () => {
  beforeAll(() => seed('public/a', 'private/a', 'app/x'));

  it('anonymous without a public grant: 401 plain-text Unauthorized', async () => {
    const res = await call('GET', '/kv/private/a');
    expect(res.status).toBe(401);
    expect(res.headers.get('content-type')).toBe('text/plain; charset=utf-8');
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    expect(await res.text()).toBe('Unauthorized\n');
  });

  it('anonymous read of a public prefix: 200', async () => {
    const res = await call('GET', '/kv/public/a');
    expect(res.status).toBe(200);
    expect(await res.text()).toBe('v:public/a');
  });

  it('anonymous PUT on a public read-only prefix: 401', async () => {
    expect(await status('PUT', '/kv/public/a', { body: 'x' })).toBe(401);
  });

  it('unknown token: 401, but still public access where the public ACL allows', async () => {
    expect(await status('GET', '/kv/private/a', { token: 'nope' })).toBe(401);
    expect(await status('GET', '/kv/public/a', { token: 'nope' })).toBe(200);
    expect(await status('DELETE', '/kv/app/x', { bearer: 'nope' })).toBe(401);
  });

  it('valid token without the grant: 403 plain-text Forbidden', async () => {
    const res = await call('PUT', '/kv/private/a', { token: READ, body: 'x' });
    expect(res.status).toBe(403);
    expect(res.headers.get('content-type')).toBe('text/plain; charset=utf-8');
    expect(await res.text()).toBe('Forbidden\n');
    expect(await status('GET', '/kv/private/a', { token: WRITE })).toBe(403);
  });

  it('auth disabled: everything allowed', async () => {
    const open = await startTestServer();
    try {
      const res = await fetch(`${open.url}/kv/anything/at/all`, { method: 'PUT', body: 'x' });
      expect(res.status).toBe(201);
      expect(await open.store.get('anything/at/all')).toBeDefined();
    } finally {
      await open.close();
    }
  });
});

describe('grants (compat 6.2-6.4)', () => {
  it('r reads but does not write; rw does both', async () => {
    await seed('levels/k');
    expect(await status('GET', '/kv/levels/k', { token: READ })).toBe(200);
    expect(await status('PUT', '/kv/levels/k', { token: READ, body: 'x' })).toBe(403);
    expect(await status('DELETE', '/kv/levels/k', { token: READ })).toBe(403);
    expect(await status('PUT', '/kv/levels/k', { token: RW, body: 'y' })).toBe(200);
    expect(await status('GET', '/kv/levels/k', { token: RW })).toBe(200);
  });

  it('w implies read', async () => {
    expect(await status('PUT', '/kv/svc/one', { token: WRITE, body: 'x' })).toBe(201);
    const res = await call('GET', '/kv/svc/one', { token: WRITE });
    expect(res.status).toBe(200);
    expect(await res.text()).toBe('x');
  });

  it('longest prefix wins; string prefix and exact key patterns', async () => {
    await seed('app/locked/x', 'app/locked/open', 'apple');
    expect(await status('PUT', '/kv/app/free', { token: APP, body: 'x' })).toBe(201);
    expect(await status('GET', '/kv/app/locked/x', { token: APP })).toBe(200);
    expect(await status('PUT', '/kv/app/locked/x', { token: APP, body: 'x' })).toBe(403);
    expect(await status('PUT', '/kv/app/locked/open', { token: APP, body: 'x' })).toBe(200);
    expect(await status('PUT', '/kv/app/locked/open2', { token: APP, body: 'x' })).toBe(403);
    expect(await status('GET', '/kv/apple', { token: APP })).toBe(200);
    expect(await status('PUT', '/kv/apple', { token: APP, body: 'x' })).toBe(403);
    expect(await status('GET', '/kv/other', { token: APP })).toBe(403);
  });

  it('* rw does not cover secret keys; an explicit secret grant does', async () => {
    await seed('app/secrets/x', 'secrets/db');
    // DELETE needs no secrets key, so it shows the decision itself
    expect(await status('DELETE', '/kv/app/secrets/x', { token: RW })).toBe(403);
    expect(await status('GET', '/kv/app/secrets/x', { token: RW })).toBe(403);
    expect(await status('DELETE', '/kv/secrets/db', { token: RW })).toBe(403);
    expect(await status('DELETE', '/kv/app/secrets/x', { token: SECRET })).toBe(403);
    expect(await status('GET', '/kv/app/secrets/x', { token: SECRET })).not.toBeOneOf([401, 403]);
    expect(await status('DELETE', '/kv/secrets/db', { token: SECRET })).toBe(204);
    expect(await status('DELETE', '/kv/secrets/other', { token: SECRET })).toBe(403);
  });

  it('history needs read', async () => {
    await seed('bob/h');
    expect(await status('GET', '/kv/history/app/locked/x', { token: APP })).toBe(200);
    expect(await status('GET', '/kv/history/bob/h', { token: APP })).toBe(403);
    expect(await status('GET', '/kv/history/bob/h')).toBe(401);
    expect(await status('GET', '/kv/history/app/secrets/x', { token: RW })).toBe(403);
  });

  it('sha256: tokens authenticate with the plain value only', async () => {
    expect(await status('PUT', '/kv/hashed/k', { token: 'hashed-token-value', body: 'x' })).toBe(201);
    const hashed = 'sha256:cd1ea973bfc929554abc95251641b98121f9274a7bfe32411b249aea87291270';
    expect(await status('PUT', '/kv/hashed/k', { token: hashed, body: 'x' })).toBe(401);
  });
});

describe('credentials', () => {
  it('X-Auth-Token is taken before Authorization: Bearer', async () => {
    expect(await status('PUT', '/kv/prec/k', { token: READ, bearer: RW, body: 'x' })).toBe(403);
    expect(await status('PUT', '/kv/prec/k', { bearer: RW, body: 'x' })).toBe(201);
    expect(await status('PUT', '/kv/prec/k', { token: RW, bearer: READ, body: 'x' })).toBe(200);
  });

  it('Bearer scheme is case-insensitive; other schemes are not tokens', async () => {
    expect(await status('GET', '/kv/prec/k', { headers: { authorization: `bearer ${READ}` } })).toBe(200);
    expect(await status('GET', '/kv/prec/k', { headers: { authorization: `Basic ${READ}` } })).toBe(401);
    expect(await status('GET', '/kv/prec/k', { headers: { authorization: READ } })).toBe(401);
  });

  it('tokens in query strings are ignored', async () => {
    for (const q of ['token', 'auth_token', 'access_token', 'x-auth-token']) {
      expect(await status('GET', `/kv/prec/k?${q}=${RW}`)).toBe(401);
    }
  });

  it('header values with newlines never reach the server', async () => {
    await expect(call('GET', '/kv/prec/k', { token: `${RW}\r\nX-Evil: 1` })).rejects.toThrow();
  });
});

describe('list filtering', () => {
  beforeAll(() => seed('list/a', 'list/secrets/s'));

  const keysOf = async (init: Init): Promise<string[]> => {
    const res = await call('GET', '/kv/?prefix=list/', init);
    expect(res.status).toBe(200);
    return ((await res.json()) as Array<{ key: string }>).map((k) => k.key).sort();
  };

  it('shows only readable keys', async () => {
    expect(await keysOf({ token: RW })).toEqual(['list/a']);
    expect(await keysOf({ token: APP })).toEqual([]);
    const all = await (await call('GET', '/kv/', { token: SECRET })).json();
    expect((all as Array<{ key: string }>).map((k) => k.key)).toContain('app/secrets/x');
  });

  it('answers [] with 200 when nothing is readable', async () => {
    const res = await call('GET', '/kv/?prefix=list/', { token: WRITE });
    expect(res.status).toBe(200);
    expect(await res.text()).toBe('[]\n');
  });

  it('anonymous callers see the public keys (public token exists)', async () => {
    const res = await call('GET', '/kv/');
    expect(res.status).toBe(200);
    const keys = ((await res.json()) as Array<{ key: string }>).map((k) => k.key);
    expect(keys.length).toBeGreaterThan(0);
    expect(keys.every((k) => k.startsWith('public/'))).toBe(true);
  });
});

describe('tricky keys', () => {
  it('app/secrets/../x is redirected by the router before any auth', async () => {
    // fetch would clean the path itself, so send it raw
    const { request } = await import('node:http');
    const res = await new Promise<{ status: number; location: string | undefined }>((resolve, reject) => {
      const { hostname, port } = new URL(server.url);
      const options = { hostname, port, path: '/kv/app/secrets/../x', method: 'DELETE', headers: { 'x-auth-token': RW } };
      const req = request(options, (r) => {
        r.resume();
        resolve({ status: r.statusCode ?? 0, location: r.headers.location });
      });
      req.on('error', reject);
      req.end();
    });
    expect(res).toEqual({ status: 301, location: '/kv/app/x' });
  });

  it('app/Secrets/x is not a secret (case-sensitive)', async () => {
    expect(await status('PUT', '/kv/app/Secrets/x', { token: RW, body: 'x' })).toBe(201);
    expect(await status('GET', '/kv/app/Secrets/x', { token: RW })).toBe(200);
  });

  it('%2F inside a segment is decoded before the check', async () => {
    await seed('app/secrets/enc');
    expect(await status('DELETE', '/kv/app%2Fsecrets%2Fenc', { token: RW })).toBe(403);
    expect(await status('DELETE', '/kv/app/secrets%2Fenc', { token: RW })).toBe(403);
    expect(await status('GET', '/kv/public%2Fa')).toBe(200);
    expect(await status('GET', '/kv/private%2Fa')).toBe(401);
  });
});

describe('no public token', () => {
  it('list without credentials is 401; with a valid token it is 200', async () => {
    const { writeFileSync } = await import('node:fs');
    const { makeTempDir } = await import('../helpers/test-server.js');
    const file = join(makeTempDir('stash-auth-'), 'auth.yml');
    writeFileSync(file, 'tokens:\n  - token: only-token\n    permissions:\n      - prefix: "a/*"\n        access: r\n');
    const s = await startTestServer(['--auth.file', file]);
    try {
      expect((await fetch(`${s.url}/kv/`)).status).toBe(401);
      expect((await fetch(`${s.url}/kv/`, { headers: { 'x-auth-token': 'bad' } })).status).toBe(401);
      const ok = await fetch(`${s.url}/kv/`, { headers: { 'x-auth-token': 'only-token' } });
      expect(ok.status).toBe(200);
      expect(await ok.text()).toBe('[]\n');
    } finally {
      await s.close();
    }
  });
});

describe('secret values with the vault on', () => {
  it('only explicit secret grants read or write them', async () => {
    const s = await startTestServer(['--auth.file', AUTH_FILE, '--secrets.key', 'a-test-secrets-key-0123456789']);
    try {
      const go = (method: string, key: string, token: string, body?: string): Promise<Response> =>
        fetch(`${s.url}/kv/${key}`, { method, headers: { 'x-auth-token': token }, body });
      expect((await go('PUT', 'secrets/db', RW, 'pw')).status).toBe(403);
      expect((await go('PUT', 'secrets/db', SECRET, 'pw')).status).toBe(201);
      const read = await go('GET', 'secrets/db', SECRET);
      expect(read.status).toBe(200);
      expect(await read.text()).toBe('pw');
      expect((await go('GET', 'secrets/db', RW)).status).toBe(403);
      expect((await go('GET', 'secrets/db', READ)).status).toBe(403);
      expect((await go('PUT', 'app/secrets/x', SECRET, 'v')).status).toBe(403);
      expect((await go('GET', 'app/secrets/x', SECRET)).status).toBe(404);
      const listed = (await (await go('GET', '?filter=secrets', RW)).json()) as unknown[];
      expect(listed).toEqual([]);
    } finally {
      await s.close();
    }
  });
});

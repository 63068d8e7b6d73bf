import { readdirSync, readFileSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/logger.js';
import { makeTempDir, startTestServer, type TestServer } from '../helpers/test-server.js';
import { originalOpen, originalSeal } from './original-format.js';

const MASTER = '0123456789abcdef-test';
const PLAIN = 'Pl41ntext-S3cret-must-not-leak';
// The client package's copy of the original SDKs' vectors (packages/client/test/fixtures/zk/README.md).
const ZK_DIR = join(import.meta.dirname, '..', '..', '..', 'client', 'test', 'fixtures', 'zk');

interface Captured {
  server: TestServer;
  lines: string[];
}

async function start(args: string[]): Promise<Captured> {
  const lines: string[] = [];
  const log = createLogger({ debug: true, write: (line) => lines.push(line) });
  return { server: await startTestServer(args, { log }), lines };
}

const put = (url: string, key: string, body: string | Uint8Array, headers: Record<string, string> = {}) =>
  fetch(`${url}/kv/${key}`, { method: 'PUT', body: body as BodyInit, headers });
const list = async (url: string, query = ''): Promise<Array<Record<string, unknown>>> =>
  (await fetch(`${url}/kv/${query}`)).json() as Promise<Array<Record<string, unknown>>>;
const sealedSize = (plainBytes: number): number => 4 * Math.ceil((56 + plainBytes) / 3);

function rawRow(dir: string, key: string): Buffer | undefined {
  const db = new Database(join(dir, 'stash.db'), { readonly: true, fileMustExist: true });
  try {
    const row = db.prepare('SELECT CAST(value AS BLOB) AS v FROM kv WHERE key = ?').get(key) as { v: Buffer } | undefined;
    return row?.v;
  } finally {
    db.close();
  }
}

/** A request whose path is sent exactly as written (fetch would resolve `..` itself). */
function rawGet(url: string, path: string): Promise<{ status: number | undefined; location: string | undefined }> {
  return new Promise((resolve, reject) => {
    const req = request(`${url}${path}`, { method: 'GET', path }, (res) => {
      res.resume();
      resolve({ status: res.statusCode, location: res.headers.location });
    });
    req.on('error', reject);
    req.end();
  });
}

/** Every byte on disk for this database: main file, WAL and shared memory. */
function diskBytes(dir: string): Buffer {
  return Buffer.concat(readdirSync(dir).map((f) => readFileSync(join(dir, f))));
}

describe('secrets vault through a real server', () => {
  let c: Captured;
  beforeAll(async () => {
    c = await start(['--secrets.key', MASTER]);
  });
  afterAll(() => c.server.close());

  it('warns at start-up that secrets without an auth file are readable by everyone', () => {
    expect(c.lines.some((l) => l.includes('[WARN]') && l.includes('without --auth.file'))).toBe(true);
  });

  it('stores ciphertext the original can open, returns plaintext, lists the stored size', async () => {
    const { url, dir } = c.server;
    expect((await put(url, 'app/secrets/db', PLAIN, { 'x-stash-format': 'yaml' })).status).toBe(201);
    const got = await fetch(`${url}/kv/app/secrets/db`);
    expect(got.status).toBe(200);
    expect(got.headers.get('content-type')).toBe('application/yaml');
    expect(await got.text()).toBe(PLAIN);

    const stored = rawRow(dir, 'app/secrets/db');
    expect(stored?.toString()).not.toContain(PLAIN);
    expect((await originalOpen(MASTER, stored?.toString() ?? '')).toString()).toBe(PLAIN);

    const item = (await list(url)).find((k) => k['key'] === 'app/secrets/db');
    expect(item).toMatchObject({ secret: true, zk_encrypted: false, format: 'yaml', size: sealedSize(PLAIN.length) });
  });

  it('opens a value the original wrote into the database', async () => {
    const { url, store } = c.server;
    const original = await originalSeal(MASTER, Buffer.from('written by the Go server ✓'));
    await store.apply([{ kind: 'put', key: 'secrets/legacy', value: Buffer.from(original), format: 'text' }]);
    expect(await (await fetch(`${url}/kv/secrets/legacy`)).text()).toBe('written by the Go server ✓');
  });

  it('updates re-encrypt with a new salt; history and export return plaintext', async () => {
    const { url, dir } = c.server;
    await put(url, 'svc/secrets', 'v1-hidden-value');
    const first = rawRow(dir, 'svc/secrets');
    expect((await put(url, 'svc/secrets', 'v2-hidden-value')).status).toBe(200);
    const second = rawRow(dir, 'svc/secrets');
    expect(first?.subarray(0, 22).equals(second?.subarray(0, 22) ?? Buffer.alloc(0))).toBe(false);
    expect(await (await fetch(`${url}/kv/svc/secrets`)).text()).toBe('v2-hidden-value');

    const history = (await (await fetch(`${url}/kv/history/svc/secrets`)).json()) as Array<{ value: string }>;
    expect(history.map((h) => Buffer.from(h.value, 'base64').toString())).toEqual(['v2-hidden-value', 'v1-hidden-value']);

    const exported = (await list(url, '?values=true&prefix=svc/')) as Array<{ key: string; value: string }>;
    expect(exported.map((e) => [e.key, Buffer.from(e.value, 'base64').toString()])).toEqual([['svc/secrets', 'v2-hidden-value']]);
  });

  it('encrypts secret items of a batch', async () => {
    const { url, dir } = c.server;
    const body = JSON.stringify([
      { key: 'batch/secrets/a', value: 'batch-hidden-value' },
      { key: 'batch/plain', value: 'visible' },
    ]);
    expect((await fetch(`${url}/kv/`, { method: 'POST', body })).status).toBe(200);
    expect(rawRow(dir, 'batch/secrets/a')?.toString()).not.toContain('batch-hidden-value');
    expect(rawRow(dir, 'batch/plain')?.toString()).toBe('visible');
    expect(await (await fetch(`${url}/kv/batch/secrets/a`)).text()).toBe('batch-hidden-value');
  });

  it('decides secret paths by segment, case-sensitively, after decoding %2F', async () => {
    const { url, dir } = c.server;
    await put(url, 'app/Secrets/x', 'not-a-secret-1');
    await put(url, 'my-secrets/x', 'not-a-secret-2');
    await put(url, 'app%2Fsecrets%2Fenc', 'encoded-slash-secret');
    await put(url, 'secrets', 'bare-secret-value');
    expect(rawRow(dir, 'app/Secrets/x')?.toString()).toBe('not-a-secret-1');
    expect(rawRow(dir, 'my-secrets/x')?.toString()).toBe('not-a-secret-2');
    expect(rawRow(dir, 'app/secrets/enc')?.toString()).not.toContain('encoded-slash-secret');
    expect(rawRow(dir, 'secrets')?.toString()).not.toContain('bare-secret-value');
    // `..` is cleaned by the router (301) before any key is formed
    expect(await rawGet(url, '/kv/app/secrets/../x')).toEqual({ status: 301, location: '/kv/app/x' });
  });

  it('filters list by secrets and keys', async () => {
    const { url } = c.server;
    const secrets = (await list(url, '?filter=secrets')).map((k) => k['key'] as string);
    const keys = (await list(url, '?filter=KEYS')).map((k) => k['key'] as string);
    expect(secrets).toContain('app/secrets/db');
    expect(secrets.every((k) => /(^|\/)secrets(\/|$)/.test(k))).toBe(true);
    expect(keys).toContain('my-secrets/x');
    expect(keys.some((k) => /(^|\/)secrets(\/|$)/.test(k))).toBe(false);
  });

  it('answers 500 without the value when a stored secret does not decrypt', async () => {
    const { url, store } = c.server;
    await store.apply([{ kind: 'put', key: 'secrets/broken', value: Buffer.from('legacy-plaintext-in-db'), format: 'text' }]);
    const res = await fetch(`${url}/kv/secrets/broken`);
    expect(res.status).toBe(500);
    expect(await res.json()).toEqual({ error: 'failed to get key' });
    expect(c.lines.join('')).not.toContain('legacy-plaintext-in-db');
  });

  it('never writes a secret plaintext to disk, the change log, logs or metrics', async () => {
    const { url, dir } = c.server;
    const metrics = await (await fetch(`${url}/metrics`)).text();
    const disk = diskBytes(dir);
    for (const secret of [PLAIN, 'v1-hidden-value', 'v2-hidden-value', 'batch-hidden-value', 'encoded-slash-secret']) {
      expect(disk.includes(secret)).toBe(false);
      expect(c.lines.join('')).not.toContain(secret);
      expect(metrics).not.toContain(secret);
    }
    const db = new Database(join(dir, 'stash.db'), { readonly: true });
    const logged = db.prepare("SELECT CAST(value AS BLOB) AS v FROM kv_history WHERE key LIKE '%secrets%' AND value IS NOT NULL").all() as { v: Buffer }[];
    db.close();
    expect(logged.length).toBeGreaterThan(3);
    for (const { v } of logged) expect(v.toString()).not.toMatch(/hidden-value|Pl41ntext/);
  });
});

describe('zero-knowledge values on secret paths', () => {
  let c: Captured;
  beforeAll(async () => {
    c = await start(['--secrets.key', MASTER]);
  });
  afterAll(() => c.server.close());

  const fixtures = readdirSync(ZK_DIR).filter((f) => f.endsWith('.bin'));

  it.each(fixtures)('stores %s unchanged (no double encryption)', async (file) => {
    const { url, dir } = c.server;
    const body = readFileSync(join(ZK_DIR, file));
    const key = `zk/secrets/${file}`;
    expect((await put(url, key, body)).status).toBe(201);
    expect(rawRow(dir, key)?.equals(body)).toBe(true);
    expect(Buffer.from(await (await fetch(`${url}/kv/${key}`)).arrayBuffer()).equals(body)).toBe(true);
    const item = (await list(url, `?prefix=${encodeURIComponent(key)}`))[0];
    expect(item).toMatchObject({ key, secret: true, zk_encrypted: true, size: body.length });
  });

  const b64 = (n: number): string => Buffer.alloc(n, 7).toString('base64');
  it.each([
    ['3 decoded bytes', '$ZK$AAAA'],
    ['43 decoded bytes', `$ZK$${b64(43)}`],
    ['padding stripped', `$ZK$${b64(44).replace(/=+$/, '')}`],
    ['a line break inside', `$ZK$${b64(30)}\n${b64(30)}`],
    ['URL-safe alphabet', `$ZK$${b64(45).slice(0, -4)}-_-_`],
    ['not base64 at all', '$ZK$this is not base64!!'],
  ])('rejects a $ZK$ value with %s: 400 invalid ZK payload', async (_name, value) => {
    const res = await put(c.server.url, 'zk/secrets/bad', value);
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual({ error: 'invalid ZK payload' });
    expect(rawRow(c.server.dir, 'zk/secrets/bad')).toBeUndefined();
  });

  it('accepts the 44-byte minimum unchanged', async () => {
    const value = `$ZK$${b64(44)}`;
    expect((await put(c.server.url, 'zk/secrets/min', value)).status).toBe(201);
    expect(rawRow(c.server.dir, 'zk/secrets/min')?.toString()).toBe(value);
  });

  it('treats a bare "$ZK$" (not longer than the marker) as a plain value and encrypts it', async () => {
    expect((await put(c.server.url, 'zk/secrets/marker', '$ZK$')).status).toBe(201);
    expect(rawRow(c.server.dir, 'zk/secrets/marker')?.toString()).not.toBe('$ZK$');
    expect(await (await fetch(`${c.server.url}/kv/zk/secrets/marker`)).text()).toBe('$ZK$');
  });

  it('does not check $ZK$ values outside secret paths', async () => {
    expect((await put(c.server.url, 'zk/open', '$ZK$AAAA')).status).toBe(201);
    expect(rawRow(c.server.dir, 'zk/open')?.toString()).toBe('$ZK$AAAA');
  });
});

describe('a database with secrets, served without --secrets.key', () => {
  const dbDir = makeTempDir('stash-secrets-');
  const db = join(dbDir, 'stash.db');
  let c: Captured | undefined;
  afterEach(async () => {
    await c?.server.close();
    c = undefined;
  });
  afterAll(() => rmSync(dbDir, { recursive: true, force: true }));

  it('refuses secret reads and writes with 400, but lists, filters and deletes them', async () => {
    c = await start(['--db', db, '--secrets.key', MASTER]);
    await put(c.server.url, 'app/secrets/token', 'abc-hidden-value');
    await put(c.server.url, 'app/secrets/other', 'other-hidden-value');
    await put(c.server.url, 'app/plain', 'visible');
    await c.server.close();

    c = await start(['--db', db]);
    const { url } = c.server;
    expect(c.lines.some((l) => l.includes('without --auth.file'))).toBe(false);
    for (const res of [
      await fetch(`${url}/kv/app/secrets/token`),
      await put(url, 'app/secrets/token', 'new'),
      await put(url, 'app/secrets/zk', `$ZK$${Buffer.alloc(44).toString('base64')}`),
      await fetch(`${url}/kv/history/app/secrets/token`),
    ]) {
      expect(res.status).toBe(400);
      expect(await res.json()).toEqual({ error: 'secrets not configured' });
    }
    expect((await list(url, '?filter=secrets')).map((k) => k['key']).sort()).toEqual(['app/secrets/other', 'app/secrets/token']);
    expect((await list(url, '?filter=keys')).map((k) => k['key'])).toEqual(['app/plain']);
    const all = await list(url);
    expect(all.find((k) => k['key'] === 'app/secrets/token')?.['size']).toBe(sealedSize('abc-hidden-value'.length));
    // export skips what it cannot decrypt rather than failing
    const exported = (await list(url, '?values=true')) as Array<{ key: string }>;
    expect(exported.map((e) => e.key)).toEqual(['app/plain']);

    expect((await fetch(`${url}/kv/app/secrets/token`, { method: 'DELETE' })).status).toBe(204);
    expect((await list(url, '?filter=secrets')).map((k) => k['key'])).toEqual(['app/secrets/other']);
  });
});

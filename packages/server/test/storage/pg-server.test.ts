import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import postgres from 'postgres';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, PG_URL, type TestDatabase } from '../helpers/pg.js';
import { startTestServer, type TestServer } from '../helpers/test-server.js';

if (!PG_URL) console.warn('pg-server: STASH_TEST_PG_URL is not set, skipping the PostgreSQL server tests');

const ROOT = fileURLToPath(new URL('../../../../', import.meta.url));
const BIN = fileURLToPath(new URL('../../bin/stash.js', import.meta.url));

describe.skipIf(!PG_URL)('a server on PostgreSQL', () => {
  let db: TestDatabase;
  let server: TestServer | undefined;
  beforeAll(async () => {
    db = await createTestDatabase();
  });
  afterEach(async () => {
    await server?.close();
    server = undefined;
  });
  afterAll(async () => {
    await db?.drop();
  });

  it('serves PUT, GET, list and DELETE over HTTP', async () => {
    server = await startTestServer(['--db', db.url]);
    expect(server.store.engine).toBe('postgres');
    const kv = (key: string) => `${server!.url}/kv/${key}`;
    const created = await fetch(kv('app/db'), { method: 'PUT', body: 'host=x', headers: { 'x-stash-format': 'ini' } });
    expect(created.status).toBe(201);
    expect(created.headers.get('x-stash-revision')).toBe('1');
    expect((await fetch(kv('app/db'), { method: 'PUT', body: 'host=y' })).status).toBe(200);
    const got = await fetch(kv('app/db'));
    expect(got.status).toBe(200);
    expect(await got.text()).toBe('host=y');
    expect(got.headers.get('x-stash-revision')).toBe('2');
    await fetch(kv('apple'), { method: 'PUT', body: '\u00e9' });
    await fetch(kv('other'), { method: 'PUT', body: 'o' });
    const listed = (await (await fetch(`${server.url}/kv/?prefix=app`)).json()) as { key: string; size: number }[];
    expect(listed.map((i) => [i.key, i.size])).toEqual([['apple', 2], ['app/db', 6]]);
    expect((await fetch(kv('app/db'), { method: 'DELETE' })).status).toBe(204);
    expect((await fetch(kv('app/db'))).status).toBe(404);
    expect((await fetch(kv('app/db'), { method: 'DELETE' })).status).toBe(404);
  });

  it('keeps read caches of two servers on one database coherent through the change stream', async () => {
    server = await startTestServer(['--db', db.url, '--cache.enabled']);
    const other = await startTestServer(['--db', db.url, '--cache.enabled']);
    try {
      const key = `${server.url}/kv/cached/shared`;
      expect((await fetch(key, { method: 'PUT', body: 'first' })).status).toBe(201);
      expect(await (await fetch(key)).text()).toBe('first'); // now cached on `server`
      const hits = async () => (await server!.metrics.cacheRequests.get()).values.find((v) => v.labels['result'] === 'hit')?.value ?? 0;
      const before = await hits();
      expect(await (await fetch(key)).text()).toBe('first');
      expect(await hits()).toBe(before + 1); // served from the cache, which has no expiry
      expect((await fetch(`${other.url}/kv/cached/shared`, { method: 'PUT', body: 'second' })).status).toBe(200);
      // the other server's write reaches this one's cache through LISTEN/NOTIFY, not a timeout
      const deadline = Date.now() + 5_000;
      let seen = '';
      while (Date.now() < deadline && (seen = await (await fetch(key)).text()) !== 'second') {
        await new Promise((r) => setTimeout(r, 50));
      }
      expect(seen).toBe('second');
    } finally {
      await other.close();
    }
  });
});

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      probe.close(() => resolve(port));
    });
  });
}

async function waitReady(url: string, child: ChildProcess, output: () => string): Promise<void> {
  const deadline = Date.now() + 20_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`server exited early:\n${output()}`);
    try {
      if ((await fetch(`${url}/ping`)).ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`server did not become ready:\n${output()}`);
}

describe.skipIf(!PG_URL)('two servers writing one PostgreSQL database', () => {
  let db: TestDatabase;
  const children: ChildProcess[] = [];
  const urls: string[] = [];

  beforeAll(async () => {
    // the children run the built CLI; other packages' type errors must not stop the emit
    spawnSync('npx', ['tsc', '-b'], { cwd: ROOT, stdio: 'ignore' });
    expect(existsSync(fileURLToPath(new URL('../../dist/cli/main.js', import.meta.url)))).toBe(true);
    db = await createTestDatabase();
    for (let i = 0; i < 2; i++) {
      const port = await freePort();
      let output = '';
      const child = spawn(
        process.execPath,
        [BIN, 'server', `--db=${db.url}`, `--server.address=127.0.0.1:${port}`, '--limits.requests-per-sec=0'],
        { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] },
      );
      child.stdout?.on('data', (d: Buffer) => (output += d.toString()));
      child.stderr?.on('data', (d: Buffer) => (output += d.toString()));
      children.push(child);
      urls.push(`http://127.0.0.1:${port}`);
      await waitReady(urls[i]!, child, () => output);
    }
  }, 120_000);

  afterAll(async () => {
    await Promise.all(
      children.map(
        (child) =>
          new Promise<void>((resolve) => {
            if (child.exitCode !== null) return resolve();
            child.once('exit', () => resolve());
            child.kill('SIGTERM');
            setTimeout(() => child.kill('SIGKILL'), 5_000).unref();
          }),
      ),
    );
    await db?.drop();
  });

  it('hands out unique, gap-free revisions that the change log lists in order', async () => {
    const perServer = 100;
    const written = new Map<number, string>();
    await Promise.all(
      urls.map(async (url, s) => {
        let next = 0;
        const writer = async (): Promise<void> => {
          while (next < perServer) {
            const key = `s${s}/k${next++}`;
            const res = await fetch(`${url}/kv/${key}`, { method: 'PUT', body: `${key}=${s}` });
            expect(res.status).toBe(201);
            const revision = Number(res.headers.get('x-stash-revision'));
            expect(written.has(revision), `revision ${revision} handed out twice`).toBe(false);
            written.set(revision, key);
          }
        };
        await Promise.all(Array.from({ length: 8 }, writer));
      }),
    );
    const total = 2 * perServer;
    expect([...written.keys()].sort((a, b) => a - b)).toEqual(Array.from({ length: total }, (_, i) => i + 1));

    const sql = postgres(db.url, { max: 1, onnotice: () => undefined });
    try {
      const log = await sql`SELECT revision::int AS revision, key, action FROM kv_history ORDER BY revision`;
      expect(log.map((r) => r['revision'])).toEqual(Array.from({ length: total }, (_, i) => i + 1));
      for (const row of log) {
        expect(row['key']).toBe(written.get(row['revision'] as number));
        expect(row['action']).toBe('create');
      }
      const [meta] = await sql`SELECT value::int AS value FROM stash_meta WHERE name = 'revision'`;
      expect(meta?.['value']).toBe(total);
    } finally {
      await sql.end();
    }
    // both servers see every write
    for (const url of urls) {
      const listed = (await (await fetch(`${url}/kv/`)).json()) as unknown[];
      expect(listed).toHaveLength(total);
    }
  });
});

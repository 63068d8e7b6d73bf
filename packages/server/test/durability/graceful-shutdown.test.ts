import { existsSync, rmSync, statSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeTempDir } from '../helpers/test-server.js';
import { buildOnce, startStashProcess, type Spawned } from '../helpers/spawned-server.js';

/** PUT whose body trickles in: one chunk now, the rest after `sendRest` is called. */
function slowPut(
  url: string,
  body: Buffer,
): { sendRest: () => void; response: Promise<{ status: number; revision: string }>; answered: () => boolean } {
  const half = Math.floor(body.length / 2);
  let sendRest = (): void => {};
  let answered = false;
  const response = new Promise<{ status: number; revision: string }>((resolve, reject) => {
    const req = request(url, { method: 'PUT', headers: { 'content-length': String(body.length) } }, (res) => {
      answered = true;
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode ?? 0, revision: String(res.headers['x-stash-revision']) }));
    });
    req.on('error', reject);
    req.write(body.subarray(0, half));
    sendRest = () => req.end(body.subarray(half));
  });
  return { sendRest, response, answered: () => answered };
}

/** Poll `check` every 20 ms until it holds; fails with `what` after `timeoutMs`. */
async function until(what: string, check: () => Promise<boolean> | boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** stash_http_requests_in_flight from /metrics; the scrape itself is one of them. */
async function inFlight(url: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  return Number(/^stash_http_requests_in_flight (\d+)$/m.exec(text)?.[1]);
}

/** A new request is answered 503 or not at all: the server stopped taking work. */
async function refusesNewRequests(url: string): Promise<boolean> {
  return fetch(`${url}/ping`).then(
    async (r) => (await r.arrayBuffer(), r.status === 503),
    () => true,
  );
}

/** Start a slow upload and resolve once the server counts it in flight (headers read, body not). */
async function uploadInFlight(url: string, key: string, body: Buffer): Promise<ReturnType<typeof slowPut>> {
  expect(await inFlight(url)).toBe(1); // the scrape alone
  const upload = slowPut(`${url}/kv/${key}`, body);
  await until('the upload to be in flight', async () => (await inFlight(url)) === 2);
  return upload;
}

describe('graceful shutdown of the spawned server', () => {
  let dir: string;
  let server: (Spawned & { url: string }) | undefined;

  beforeAll(async () => {
    await buildOnce();
    dir = makeTempDir('stash-shutdown-');
  });
  afterAll(() => {
    server?.proc.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  });

  it.each(['SIGTERM', 'SIGINT'] as const)('%s lets an in-flight upload finish, then closes the database cleanly', async (signal) => {
    const db = join(dir, `${signal}.db`);
    server = await startStashProcess(db);
    const value = Buffer.alloc(64 * 1024, 'v');
    // the request is being served (headers in, body incomplete) when the signal arrives
    const upload = await uploadInFlight(server.url, 'slow/upload', value);
    server.proc.kill(signal);
    const s = server;
    await until('the shutdown log line', () => s.stdout().includes(`${signal} received, shutting down`));
    await until('new requests to be refused', () => refusesNewRequests(s.url));
    // shutting down, but waiting for the upload: not exited, not stopped, the upload unanswered
    expect(server.proc.exitCode).toBeNull();
    expect(server.stdout()).not.toContain('server stopped');
    expect(upload.answered()).toBe(false);
    upload.sendRest();
    const { status, revision } = await upload.response;
    expect(status).toBe(201);
    expect(await server.exited).toBe(0);
    expect(server.stdout()).toContain(`${signal} received, shutting down`);

    // a clean close checkpoints the WAL and removes it: nothing is left to recover
    const wal = `${db}-wal`;
    expect(!existsSync(wal) || statSync(wal).size === 0).toBe(true);
    const check = new Database(db, { readonly: true });
    try {
      expect(check.pragma('integrity_check', { simple: true })).toBe('ok');
      const row = check.prepare('SELECT value, revision FROM kv WHERE key = ?').get('slow/upload') as
        | { value: Buffer; revision: number }
        | undefined;
      expect(row?.revision).toBe(Number(revision));
      expect(Buffer.compare(Buffer.from(row?.value ?? ''), value)).toBe(0);
    } finally {
      check.close();
    }
    server = undefined;
  });

  it('answers new connections with 503 or refuses them while draining', async () => {
    const db = join(dir, 'drain.db');
    server = await startStashProcess(db);
    const upload = await uploadInFlight(server.url, 'slow/second', Buffer.alloc(1024, 'x'));
    server.proc.kill('SIGTERM');
    const s = server;
    await until('the shutdown log line', () => s.stdout().includes('SIGTERM received, shutting down'));
    // the upload holds the server open; meanwhile a new request is not served
    await until('new requests to be refused', () => refusesNewRequests(s.url));
    const late = await fetch(`${server.url}/kv/late`, { method: 'PUT', body: 'x' }).then(
      (r) => r.status,
      () => 'refused',
    );
    expect([503, 'refused']).toContain(late);
    expect(server.proc.exitCode).toBeNull();
    upload.sendRest();
    expect((await upload.response).status).toBe(201);
    expect(await server.exited).toBe(0);
    server = undefined;
    const check = new Database(db, { readonly: true });
    try {
      const keys = (check.prepare('SELECT key FROM kv ORDER BY key').all() as { key: string }[]).map((r) => r.key);
      expect(keys).toEqual(['slow/second']); // the late PUT wrote nothing
    } finally {
      check.close();
    }
  });
});

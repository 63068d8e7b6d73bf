import { existsSync, rmSync, statSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeTempDir } from '../helpers/test-server.js';
import { buildOnce, startStashProcess, type Spawned } from '../helpers/spawned-server.js';

/** PUT whose body trickles in: one chunk now, the rest after `sendRest` is called. */
function slowPut(url: string, body: Buffer): { sendRest: () => void; response: Promise<{ status: number; revision: string }> } {
  const half = Math.floor(body.length / 2);
  let sendRest = (): void => {};
  const response = new Promise<{ status: number; revision: string }>((resolve, reject) => {
    const req = request(url, { method: 'PUT', headers: { 'content-length': String(body.length) } }, (res) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode ?? 0, revision: String(res.headers['x-stash-revision']) }));
    });
    req.on('error', reject);
    req.write(body.subarray(0, half));
    sendRest = () => req.end(body.subarray(half));
  });
  return { sendRest, response };
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
    const upload = slowPut(`${server.url}/kv/slow/upload`, value);
    // the request is being served (headers in, body incomplete) when the signal arrives
    await new Promise((r) => setTimeout(r, 200));
    server.proc.kill(signal);
    await new Promise((r) => setTimeout(r, 300));
    expect(server.proc.exitCode).toBeNull(); // still draining
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
    const upload = slowPut(`${server.url}/kv/slow/second`, Buffer.alloc(1024, 'x'));
    await new Promise((r) => setTimeout(r, 200));
    server.proc.kill('SIGTERM');
    await new Promise((r) => setTimeout(r, 200));
    const late = await fetch(`${server.url}/kv/late`, { method: 'PUT', body: 'x' }).then(
      (r) => r.status,
      () => 'refused',
    );
    expect([503, 'refused']).toContain(late);
    upload.sendRest();
    expect((await upload.response).status).toBe(201);
    expect(await server.exited).toBe(0);
    server = undefined;
  });
});

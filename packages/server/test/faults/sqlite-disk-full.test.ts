import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { rmSync, statfsSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, type TestContext } from 'vitest';
import { classifyStorageError } from '../../src/storage/storage-errors.js';
import { SqliteStore } from '../../src/storage/sqlite-store.js';
import type { WriteOp } from '../../src/storage/store.js';
import { makeTempDir } from '../helpers/test-server.js';
import { buildOnce, startStashProcess, type Spawned } from '../helpers/spawned-server.js';
import { expectSqliteIntact } from '../helpers/kill-cycles.js';

const TMPFS_SIZE = '16m';
/**
 * Room the test frees once the disk is full, as an operator deleting old logs would. In WAL mode
 * the database file must first take in what the WAL holds (the checkpoint) before the WAL is
 * reused, so the room freed must exceed the WAL's size (about 4 MB at the default autocheckpoint).
 */
const BALLAST_BYTES = 6 * 1024 * 1024;
const LARGE_VALUE_BYTES = 192 * 1024;
const SMALL_VALUE_BYTES = 2048;
const FILLERS = 4;

/** Mount a private tmpfs on `dir`; the reason it cannot, or undefined once mounted. */
function mountTmpfs(dir: string): string | undefined {
  if (process.getuid?.() !== 0) return 'not running as root';
  const mounted = spawnSync('mount', ['-t', 'tmpfs', '-o', `size=${TMPFS_SIZE}`, 'tmpfs', dir], { encoding: 'utf8' });
  if (mounted.error) return `mount failed: ${mounted.error.message}`;
  if (mounted.status !== 0) return `mount failed: ${mounted.stderr.trim()}`;
  return undefined;
}

function unmount(dir: string): void {
  // lazy as a fallback: a killed server's descriptors may still be closing
  if (spawnSync('umount', [dir]).status !== 0) spawnSync('umount', ['-l', dir]);
}

/** A value nobody can compress or mistake for another: random bytes as base64 text. */
const randomValue = (bytes: number): string => randomBytes(Math.ceil((bytes * 3) / 4)).toString('base64').slice(0, bytes);

interface Answer {
  status: number;
  contentType: string;
  body: string;
}

async function send(url: string, method: string, path: string, body?: string): Promise<Answer> {
  const res = await fetch(`${url}${path}`, { method, ...(body === undefined ? {} : { body }) });
  return { status: res.status, contentType: res.headers.get('content-type') ?? '', body: await res.text() };
}

/** A refused write: 507 with the upstream `{"error": ...}` body, never a 500. */
function expectDiskFull(answer: Answer, what: string): void {
  expect(answer.status, `${what}: ${answer.body}`).toBe(507);
  expect(answer.contentType).toMatch(/^application\/json/);
  const parsed = JSON.parse(answer.body) as { error?: unknown };
  expect(typeof parsed.error).toBe('string');
}

describe('SQLite on a full disk', () => {
  const mounts: string[] = [];
  let server: (Spawned & { url: string }) | undefined;

  /** A fresh 8 MB tmpfs for one test, or the test skips with the reason. */
  function tmpfsOrSkip(ctx: TestContext): string {
    const dir = makeTempDir('stash-diskfull-');
    const reason = mountTmpfs(dir);
    if (reason) {
      rmSync(dir, { recursive: true, force: true });
      console.warn(`sqlite-disk-full skipped: ${reason}`);
      ctx.skip(reason);
    }
    mounts.push(dir);
    return dir;
  }

  beforeAll(async () => {
    await buildOnce();
  });
  afterAll(async () => {
    if (server) {
      server.proc.kill('SIGKILL');
      await server.exited;
    }
    for (const dir of mounts) {
      unmount(dir);
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses writes with 507, keeps serving reads, corrupts nothing and writes again once space is freed', { timeout: 60_000 }, async (ctx) => {
    const dir = tmpfsOrSkip(ctx);
    const db = join(dir, 'stash.db');
    const ballast = join(dir, 'ballast');
    writeFileSync(ballast, randomBytes(BALLAST_BYTES));
    server = await startStashProcess(db);
    const acked = new Map<string, string>();
    const put = async (key: string, value: string): Promise<Answer> => {
      const answer = await send((server as Spawned & { url: string }).url, 'PUT', `/kv/${key}`, value);
      if (answer.status === 200 || answer.status === 201) acked.set(key, value);
      return answer;
    };
    for (let i = 0; i < 5; i++) expect((await put(`config/app${i}`, `setting ${i}`)).status).toBe(201);

    // concurrent fillers, so that whole group commits fail together; then small values for the last pages
    const started = Date.now();
    const refusals: Answer[] = [];
    const fill = async (writer: number, bytes: number): Promise<void> => {
      for (let n = 0; n < 200; n++) {
        const answer = await put(`fill/${bytes}/w${writer}/k${n}`, randomValue(bytes));
        if (answer.status !== 200 && answer.status !== 201) return void refusals.push(answer);
      }
    };
    await Promise.all(Array.from({ length: FILLERS }, (_, w) => fill(w, LARGE_VALUE_BYTES)));
    const msToFull = Date.now() - started;
    await Promise.all(Array.from({ length: FILLERS }, (_, w) => fill(w, SMALL_VALUE_BYTES)));
    expect(refusals).toHaveLength(2 * FILLERS);
    refusals.forEach((r, i) => expectDiskFull(r, `refusal ${i}`));
    const url = server.url;
    expectDiskFull(await send(url, 'PUT', '/kv/config/late', randomValue(LARGE_VALUE_BYTES)), 'PUT on a full disk');
    const pair = JSON.stringify(['batch/a', 'batch/b'].map((key) => ({ key, value: randomValue(LARGE_VALUE_BYTES) })));
    expectDiskFull(await send(url, 'POST', '/kv/', pair), 'batch on a full disk');
    // a delete writes too (the change log keeps the old value), so it is no way out of a full disk
    const victim = `fill/${LARGE_VALUE_BYTES}/w0/k0`;
    const deleted = await send(url, 'DELETE', `/kv/${victim}`);
    if (deleted.status === 204) acked.delete(victim);
    else expectDiskFull(deleted, 'DELETE on a full disk');
    const free = statfsSync(dir);
    console.log(
      `disk full after ${acked.size} acknowledged writes, first 507 after ${msToFull} ms, ` +
        `${(free.bavail * free.bsize) / 1024} KiB left; DELETE on the full disk answered ${deleted.status}`,
    );
    await expectAllReadable(url, acked);

    // a restart on the full disk: clean stop, intact file, still serving reads
    server.proc.kill('SIGTERM');
    expect(await server.exited).toBe(0);
    expectSqliteIntact(db);
    server = await startStashProcess(db);
    await expectAllReadable(server.url, acked);
    expectDiskFull(await send(server.url, 'PUT', '/kv/config/late', randomValue(LARGE_VALUE_BYTES)), 'PUT after restart');

    // the operator frees space: every kind of write works again, without a restart
    unlinkSync(ballast);
    expect((await put('after/large', randomValue(LARGE_VALUE_BYTES))).status).toBe(201);
    for (let i = 0; i < 10; i++) expect((await put(`after/small${i}`, randomValue(SMALL_VALUE_BYTES))).status).toBe(201);
    for (const key of [`fill/${LARGE_VALUE_BYTES}/w1/k0`, 'after/small0']) {
      expect((await send(server.url, 'DELETE', `/kv/${key}`)).status).toBe(204);
      acked.delete(key);
    }
    const items = ['after/batch-a', 'after/batch-b'].map((key) => ({ key, value: randomValue(SMALL_VALUE_BYTES) }));
    expect((await send(server.url, 'POST', '/kv/', JSON.stringify(items))).status).toBe(200);
    for (const item of items) acked.set(item.key, item.value);
    await expectAllReadable(server.url, acked);
    server.proc.kill('SIGTERM');
    expect(await server.exited).toBe(0);
    server = undefined;
    expectSqliteIntact(db);
  });

  it('fails a group commit that spills to a full disk as a whole, with a full-disk error, then commits again', async (ctx) => {
    const db = join(tmpfsOrSkip(ctx), 'store.db');
    const store = new SqliteStore({ path: db });
    const put = (key: string, value: Uint8Array): WriteOp => ({ kind: 'put', key, value, format: 'text' });
    try {
      await store.apply([put('kept', Buffer.from('v'))]);
      // one group of 24 two-item batches: ~38 MB of pages, more than the 16 MB page cache holds,
      // so SQLite spills to the WAL mid-transaction, hits ENOSPC and rolls the whole transaction back
      const units = Array.from({ length: 24 }, (_, i) =>
        store.apply([put(`g${i}/a`, randomBytes(400 * 1024)), put(`g${i}/b`, randomBytes(400 * 1024))]),
      );
      const results = await Promise.allSettled(units);
      for (const result of results) {
        expect(result.status).toBe('rejected');
        const reason: unknown = result.status === 'rejected' ? result.reason : undefined;
        expect(classifyStorageError(reason), `${String(reason)} ${(reason as { code?: string }).code}`).toBe('full');
      }
      expect((await store.list()).map((k) => k.key)).toEqual(['kept']);
      await store.apply([put('after', Buffer.from('ok'))]);
      expect((await store.get('after'))?.value.toString()).toBe('ok');
    } finally {
      await store.close();
    }
    expectSqliteIntact(db);
  });
});

/** Every acknowledged value reads back byte for byte, and the list holds exactly the acknowledged keys. */
async function expectAllReadable(url: string, acked: ReadonlyMap<string, string>): Promise<void> {
  for (const [key, value] of acked) {
    const answer = await send(url, 'GET', `/kv/${key}`);
    expect(answer.status, `GET ${key}`).toBe(200);
    expect(answer.body === value, `GET ${key}: value differs`).toBe(true);
  }
  const list = await send(url, 'GET', '/kv/');
  expect(list.status).toBe(200);
  const keys = (JSON.parse(list.body) as { key: string }[]).map((k) => k.key).sort();
  expect(keys).toEqual([...acked.keys()].sort());
}

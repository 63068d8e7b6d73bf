import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, PG_URL, type TestDatabase } from '../helpers/pg.js';
import { buildOnce, startStashProcess, type Spawned } from '../helpers/spawned-server.js';
import { openStream, put } from './sse-helpers.js';

if (!PG_URL) console.warn('skipping change streams on PostgreSQL: STASH_TEST_PG_URL is not set');

type Proc = Spawned & { url: string };

describe.skipIf(!PG_URL)('change streams across two servers on one PostgreSQL', () => {
  let db: TestDatabase;
  let a: Proc;
  let b: Proc;

  beforeAll(async () => {
    await buildOnce();
    db = await createTestDatabase();
    [a, b] = await Promise.all([
      startStashProcess(db.url, ['--server.shutdown-timeout=1s', '--cache.enabled']),
      startStashProcess(db.url, ['--server.shutdown-timeout=1s', '--cache.enabled']),
    ]);
  }, 120_000);

  afterAll(async () => {
    for (const p of [a, b]) {
      if (p && p.proc.exitCode === null) {
        p.proc.kill('SIGTERM');
        await p.exited;
      }
    }
    await db?.drop();
  });

  it('delivers writes made on either server to subscribers on both, in revision order', async () => {
    const onB = await openStream(`${b.url}/kv/subscribe/multi/*`);
    const onA = await openStream(`${a.url}/kv/subscribe/multi/*`);
    const writes: Array<Promise<number>> = [];
    for (let i = 0; i < 30; i++) writes.push(put(i % 2 === 0 ? a.url : b.url, `multi/k${i}`, String(i)));
    expect((await Promise.all(writes)).every((s) => s === 201)).toBe(true);
    for (const s of [onA, onB]) {
      await s.waitFor((x) => x.changes().length >= 30, 10_000);
      const revs = s.changes().map((c) => c.revision);
      expect(revs).toEqual([...revs].sort((x, y) => x - y));
      expect(new Set(revs).size).toBe(30);
      expect(new Set(s.changes().map((c) => c.key)).size).toBe(30);
    }
    expect(onA.changes()).toEqual(onB.changes());
    onA.close();
    onB.close();
  });

  it('a write on A reaches an exact-key subscriber on B', async () => {
    const s = await openStream(`${b.url}/kv/subscribe/cross/key`);
    expect(await put(a.url, 'cross/key', 'from-a')).toBe(201);
    await s.waitFor((x) => x.changes().length >= 1, 5000);
    expect(s.changes()[0]).toMatchObject({ key: 'cross/key', action: 'create' });
    s.close();
  });

  it('drops a key changed on A from the read cache of B', async () => {
    const read = async (url: string): Promise<string> => (await fetch(`${url}/kv/cached/k`)).text();
    expect(await put(a.url, 'cached/k', 'one')).toBe(201);
    expect(await read(b.url)).toBe('one');
    expect(await read(b.url)).toBe('one'); // served from B's cache now
    const s = await openStream(`${b.url}/kv/subscribe/cached/k`);
    expect(await put(a.url, 'cached/k', 'two')).toBe(200);
    await s.waitFor((x) => x.changes().length >= 1, 5000);
    expect(await read(b.url)).toBe('two');
    s.close();
  });

  it('resumes on B after a write made on A while the client was away', async () => {
    const first = await openStream(`${a.url}/kv/subscribe/hop/*`);
    await put(a.url, 'hop/1', 'v');
    await first.waitFor((x) => x.changes().length >= 1);
    first.close();
    const last = first.events().at(-1)?.id ?? '0';
    await put(a.url, 'hop/2', 'v');
    const second = await openStream(`${b.url}/kv/subscribe/hop/*`, { 'Last-Event-ID': last });
    await put(b.url, 'hop/3', 'v');
    await second.waitFor((x) => x.changes().length >= 2, 5000);
    expect(second.changes().map((c) => c.key)).toEqual(['hop/2', 'hop/3']);
    second.close();
  });

  it('ends its streams on graceful shutdown so clients move to the other server', async () => {
    const s = await openStream(`${a.url}/kv/subscribe/*`);
    a.proc.kill('SIGTERM');
    await s.ended;
    expect(await a.exited).toBe(0);
  });
});

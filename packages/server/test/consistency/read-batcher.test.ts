import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PostgresStore } from '../../src/storage/postgres-store.js';
import { StoreUnavailableError } from '../../src/storage/store.js';
import { createTestDatabase, PG_URL, type TestDatabase } from '../helpers/pg.js';
import { startTestServer, type TestServer } from '../helpers/test-server.js';

const put = (key: string, value: string) => ({ kind: 'put' as const, key, value: Buffer.from(value), format: 'text' as const });

describe.skipIf(!PG_URL)('batched linearizable reads on PostgreSQL', () => {
  if (!PG_URL) console.warn('skipping the read batcher checks: STASH_TEST_PG_URL is not set');
  let db: TestDatabase;
  let reader: PostgresStore;
  let writer: PostgresStore;
  let readQueries = 0;
  beforeAll(async () => {
    db = await createTestDatabase();
    reader = await PostgresStore.connect(db.url, {
      readTimeoutMs: 1000,
      debug: (_c, query) => void (query.includes('db_revision') && readQueries++),
    });
    writer = await PostgresStore.connect(db.url); // another server on the same database
    await writer.apply(Array.from({ length: 100 }, (_, i) => put(`b/${i}`, `v${i}`)));
  });
  afterAll(async () => {
    await reader?.close();
    await writer?.close();
    await db?.drop();
  });

  it('answers concurrent reads with a few shared queries, each with its own row', async () => {
    readQueries = 0;
    const records = await Promise.all(Array.from({ length: 100 }, (_, i) => reader.get(`b/${i}`)));
    expect(records.map((r) => r && Buffer.from(r.value).toString())).toEqual(Array.from({ length: 100 }, (_, i) => `v${i}`));
    // the first read goes alone, everything arriving meanwhile shares the next query
    expect(readQueries).toBeLessThanOrEqual(3);
    expect(await reader.get('b/absent')).toBeUndefined();
  });

  it('sees a write another server acknowledged before the read began, every time', async () => {
    for (let i = 0; i < 50; i++) {
      const [entry] = await writer.apply([put('b/hot', `w${i}`)]);
      const [record, fence] = await Promise.all([reader.get('b/hot'), reader.fence()]);
      expect(Buffer.from(record?.value ?? []).toString()).toBe(`w${i}`);
      expect(fence).toBeGreaterThanOrEqual(entry?.revision ?? Infinity);
    }
  });

  it('fails reads with StoreUnavailableError when the database does not answer in time, then recovers', async () => {
    // an exclusive lock on kv makes every read of it wait, as a black-holed connection would
    const locker = postgres(db.url, { max: 1, onnotice: () => undefined });
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    const locked = new Promise<void>((ready) => {
      void locker.begin(async (tx) => {
        await tx`LOCK TABLE kv IN ACCESS EXCLUSIVE MODE`;
        ready();
        await held;
      });
    });
    await locked;
    try {
      const started = Date.now();
      await expect(reader.get('b/1')).rejects.toBeInstanceOf(StoreUnavailableError);
      expect(Date.now() - started).toBeLessThan(5000);
    } finally {
      release();
      await locker.end();
    }
    expect(Buffer.from((await reader.get('b/1'))?.value ?? []).toString()).toBe('v1');
  });
});

describe('?consistency= on GET /kv/{key}', () => {
  const servers: TestServer[] = [];
  let db: TestDatabase | undefined;
  afterAll(async () => {
    for (const s of servers) await s.close();
    await db?.drop();
  });

  it('rejects an unknown level with 400 and serves serializable reads on SQLite (staleness 0)', async () => {
    const server = await startTestServer(['--cache.enabled', '--metrics.enabled']);
    servers.push(server);
    await fetch(`${server.url}/kv/c/k`, { method: 'PUT', body: 'one' });
    const bad = await fetch(`${server.url}/kv/c/k?consistency=eventual`);
    expect(bad.status).toBe(400);
    expect(await bad.json()).toEqual({ error: 'consistency must be linearizable or serializable' });
    for (const level of ['linearizable', 'serializable']) {
      const res = await fetch(`${server.url}/kv/c/k?consistency=${level}`);
      expect([res.status, await res.text(), res.headers.get('x-stash-revision')]).toEqual([200, 'one', '1']);
    }
    const metrics = await (await fetch(`${server.url}/metrics`)).text();
    expect(metrics).toMatch(/^stash_read_staleness_seconds 0$/m);
  });

  it.skipIf(!PG_URL)('on two PostgreSQL servers with --cache.enabled: serializable reads come from memory, the bound is reported', async () => {
    db = await createTestDatabase();
    const flags = ['--db', db.url, '--cache.enabled', '--metrics.enabled'];
    const [a, b] = [await startTestServer(flags), await startTestServer(flags)];
    servers.push(a, b);
    await fetch(`${b.url}/kv/c/k`, { method: 'PUT', body: 'one' });
    // a linearizable read on A fills its cache; the serializable read is then a hit
    expect(await (await fetch(`${a.url}/kv/c/k`)).text()).toBe('one');
    const hitsBefore = await a.metrics.registry.getSingleMetricAsString('stash_cache_requests_total');
    expect(await (await fetch(`${a.url}/kv/c/k?consistency=serializable`)).text()).toBe('one');
    const hitsAfter = await a.metrics.registry.getSingleMetricAsString('stash_cache_requests_total');
    const hits = (text: string): number => Number(/result="hit"} (\d+)/.exec(text)?.[1] ?? 0);
    expect(hits(hitsAfter)).toBe(hits(hitsBefore) + 1);
    // B writes; a linearizable read on A sees it at once, whatever A's notifications are doing
    await fetch(`${b.url}/kv/c/k`, { method: 'PUT', body: 'two' });
    expect(await (await fetch(`${a.url}/kv/c/k`)).text()).toBe('two');
    const staleness = Number(/^stash_read_staleness_seconds (\S+)$/m.exec(await (await fetch(`${a.url}/metrics`)).text())?.[1]);
    expect(staleness).toBeGreaterThanOrEqual(0);
    expect(staleness).toBeLessThan(10); // confirmed by the fences and the bus's catch-ups
  });
});

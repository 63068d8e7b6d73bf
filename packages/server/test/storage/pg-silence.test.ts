import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPgSocketFactory, probeDatabase } from '../../src/storage/pg-socket.js';
import { PG_URL } from '../helpers/pg.js';
import { startTcpProxy, type TcpProxy } from '../helpers/tcp-proxy.js';

if (!PG_URL) console.warn('skipping PostgreSQL silence tests: STASH_TEST_PG_URL is not set');

const SILENCE_MS = 300;

/**
 * The silence watch of our PostgreSQL sockets tells a slow statement (the database answers a
 * probe on a new connection) from a partition (it does not): only the second is cut early.
 */
describe.skipIf(!PG_URL)('PostgreSQL connections that stay silent while a query waits', () => {
  let proxy: TcpProxy;
  const pools: postgres.Sql[] = [];
  const pool = (url: string, longMs?: number): postgres.Sql => {
    // `socket` is a documented option that the type definitions leave out
    const socket = { socket: createPgSocketFactory(SILENCE_MS, longMs) } as Partial<postgres.Options<Record<string, never>>>;
    const sql = postgres(url, { max: 1, onnotice: () => undefined, ...socket });
    pools.push(sql);
    return sql;
  };

  beforeAll(async () => {
    const url = new URL(PG_URL as string);
    proxy = await startTcpProxy({ host: url.hostname, port: Number(url.port || 5432) });
  });
  afterAll(async () => {
    proxy.setMode({ kind: 'pass' });
    await Promise.all(pools.map((sql) => sql.end({ timeout: 1 })));
    await proxy.close();
  });

  it('lets a statement run silently far past the silence bound while the database answers probes', async () => {
    const sql = pool(PG_URL as string);
    const [row] = await sql`SELECT pg_sleep(1.5), 42 AS answer`;
    expect(row?.['answer']).toBe(42);
  });

  it('still cuts a slow statement once it passes the long-statement bound', async () => {
    const sql = pool(PG_URL as string, 900);
    await expect(sql`SELECT pg_sleep(3)`).rejects.toThrow();
    expect((await sql`SELECT 1 AS one`)[0]?.['one']).toBe(1); // the pool reconnects
  });

  it('cuts a black-holed connection within the bound plus one probe', async () => {
    const sql = pool(proxy.via(PG_URL as string));
    expect((await sql`SELECT 1 AS one`)[0]?.['one']).toBe(1);
    proxy.setMode({ kind: 'blackhole' });
    const started = Date.now();
    const outcome = await sql`SELECT 2`.then(
      () => 'answered',
      (error: Error) => error.message,
    );
    const took = Date.now() - started;
    proxy.setMode({ kind: 'pass' });
    expect(outcome).not.toBe('answered');
    // a bound, not a speed: without the cut the query would wait for TCP to give up (minutes)
    expect(took).toBeLessThan(SILENCE_MS + 1000 + 3000);
  });

  it('probes answer for a live database and not for a black hole', async () => {
    const url = new URL(PG_URL as string);
    expect(await probeDatabase({ host: url.hostname, port: Number(url.port || 5432) }, 1000)).toBe(true);
    proxy.setMode({ kind: 'blackhole' });
    expect(await probeDatabase({ host: '127.0.0.1', port: proxy.port }, 300)).toBe(false);
    proxy.setMode({ kind: 'pass' });
  });
});

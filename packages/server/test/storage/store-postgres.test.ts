import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PostgresStore } from '../../src/storage/postgres-store.js';
import { createTestDatabase, PG_URL, type TestDatabase } from '../helpers/pg.js';
import { describeStoreConformance } from './store-conformance.js';

if (!PG_URL) console.warn('store-postgres: STASH_TEST_PG_URL is not set, skipping the PostgreSQL store tests');

describe.skipIf(!PG_URL)('PostgresStore', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase();
  });
  afterAll(async () => {
    await db?.drop();
  });

  // one database per file; each test starts from empty tables and a zero counter
  describeStoreConformance('postgres', async () => {
    const store = await PostgresStore.connect(db.url);
    await store.sql`TRUNCATE kv, kv_history`;
    await store.sql`UPDATE stash_meta SET value = 0`;
    return { store, dispose: () => store.close() };
  });

  it('lists a prefix with a range scan on the "C" key index', async () => {
    const seen: { query: string; parameters: unknown[] }[] = [];
    const store = await PostgresStore.connect(db.url, {
      debug: (_connection, query, parameters) => seen.push({ query, parameters }),
    });
    try {
      seen.length = 0;
      await store.list({ prefix: 'app/' });
      const listQuery = seen.find((q) => q.query.includes('COLLATE "C" >='));
      expect(listQuery, 'the prefix list query').toBeDefined();
      const plan = await store.sql.begin(async (tx) => {
        await tx`SET LOCAL enable_seqscan = off`;
        return tx.unsafe(`EXPLAIN ${listQuery!.query}`, listQuery!.parameters as string[]);
      });
      const text = plan.map((r) => r['QUERY PLAN'] as string).join('\n');
      expect(text).toMatch(/(Index Scan|Index Only Scan|Bitmap Index Scan) (using|on) idx_kv_key_c/);
    } finally {
      await store.close();
    }
  });

  it('stores the timestamps as UTC wall-clock TIMESTAMP columns like the original', async () => {
    const store = await PostgresStore.connect(db.url, { max: 1 }); // one connection: the SET covers every query
    try {
      await store.sql`SET TimeZone = 'America/New_York'`; // a session in another zone must not shift them
      const [entry] = await store.apply([{ kind: 'put', key: 'tz/k', value: new Uint8Array([1]), format: 'text' }]);
      const [row] = await store.sql`
        SELECT to_char(updated_at, 'YYYY-MM-DD"T"HH24:MI:SS.MS') AS wall, pg_typeof(updated_at)::text AS type
        FROM kv WHERE key = 'tz/k'`;
      expect(row?.['type']).toBe('timestamp without time zone');
      expect(`${row?.['wall'] as string}Z`).toBe(entry!.timestamp.toISOString());
      expect((await store.get('tz/k'))?.updatedAt.toISOString()).toBe(entry!.timestamp.toISOString());
    } finally {
      await store.close();
    }
  });

  it('starts next to a server that is in the middle of a write without waiting for it', async () => {
    const first = await PostgresStore.connect(db.url);
    let release: () => void = () => undefined;
    const held = new Promise<void>((resolve) => (release = resolve));
    let writing: Promise<unknown> | undefined;
    const locked = new Promise<void>((resolve) => {
      // a write transaction holding the counter row and a kv row lock, kept open
      writing = first.sql.begin(async (tx) => {
        await tx`UPDATE stash_meta SET value = value + 1 WHERE name = 'revision'`;
        await tx`INSERT INTO kv (key, value, revision) VALUES ('busy/held', '\\x00'::bytea, 999999)`;
        resolve();
        await held;
        throw new Error('rolled back on purpose');
      });
    });
    await locked;
    try {
      const started = Date.now();
      const second = await Promise.race([
        PostgresStore.connect(db.url),
        new Promise<never>((_, reject) => setTimeout(() => reject(new Error('migration waited for a writer')), 3_000)),
      ]);
      expect(Date.now() - started).toBeLessThan(3_000);
      await second.close();
    } finally {
      release();
      await expect(writing).rejects.toThrow('rolled back on purpose');
      await first.close();
    }
  });

  it('migrates a database the original wrote, also when several servers start at once', async () => {
    const legacy = await createTestDatabase();
    const sql = postgres(legacy.url, { max: 1, onnotice: () => undefined });
    try {
      // the original's PostgreSQL kv table (compat 9.1) and rows written the way it writes them
      await sql`CREATE TABLE kv (key TEXT PRIMARY KEY, value BYTEA NOT NULL, format TEXT NOT NULL DEFAULT 'text',
        created_at TIMESTAMP DEFAULT NOW(), updated_at TIMESTAMP DEFAULT NOW())`;
      await sql`INSERT INTO kv (key, value, format, created_at, updated_at) VALUES
        ('b/old', '\\x00ff01'::bytea, 'json', '2025-01-15 10:30:00.123456', '2025-01-15 10:30:00.123456'),
        ('a/new', 'hello'::bytea, 'yaml', '2025-01-15 10:30:00', '2025-02-01 08:00:00')`;
      const stores = await Promise.all([1, 2, 3].map(() => PostgresStore.connect(legacy.url)));
      const [store] = stores;
      try {
        expect(await store!.get('b/old')).toMatchObject({ revision: 1, format: 'json' });
        const fresh = await store!.get('a/new');
        expect(fresh).toMatchObject({ revision: 2, format: 'yaml' });
        expect(fresh?.createdAt.toISOString()).toBe('2025-01-15T10:30:00.000Z');
        expect(fresh?.updatedAt.toISOString()).toBe('2025-02-01T08:00:00.000Z');
        expect([...(await store!.get('b/old'))!.value]).toEqual([0, 255, 1]);
        expect((await store!.get('b/old'))?.updatedAt.toISOString()).toBe('2025-01-15T10:30:00.123Z');
        expect(await store!.currentRevision()).toBe(2);
        expect(await store!.oldestRetainedRevision()).toBe(3);
        expect(text(await store!.getAt('a/new', 2))).toBe('hello');
        const [written] = await stores[1]!.apply([{ kind: 'put', key: 'a/new', value: new Uint8Array([9]), format: 'text' }]);
        expect(written?.revision).toBe(3);
        // the original's own statements still work on the migrated table
        await sql`INSERT INTO kv (key, value, format, created_at, updated_at) VALUES ('c', 'x'::bytea, 'text', NOW(), NOW())`;
        const [row] = await sql`SELECT key, value, format, created_at, updated_at FROM kv WHERE key = 'a/new'`;
        expect(row?.['format']).toBe('text');
        const tables = await sql`SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename`;
        expect(tables.map((t) => t['tablename'])).toEqual(['audit_log', 'kv', 'kv_history', 'sessions', 'stash_meta']);
      } finally {
        await Promise.all(stores.map((s) => s.close()));
      }
    } finally {
      await sql.end();
      await legacy.drop();
    }
  });
});

function text(record: { value: Uint8Array } | undefined): string | undefined {
  return record && new TextDecoder().decode(record.value);
}

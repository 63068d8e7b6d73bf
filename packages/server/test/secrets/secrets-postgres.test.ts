import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, PG_URL, type TestDatabase } from '../helpers/pg.js';
import { startTestServer, type TestServer } from '../helpers/test-server.js';
import { originalOpen, originalSeal } from './original-format.js';

const MASTER = '0123456789abcdef-test';
// The client package's copy of the original SDKs' vectors (packages/client/test/fixtures/zk/README.md).
const ZK_DIR = join(import.meta.dirname, '..', '..', '..', 'client', 'test', 'fixtures', 'zk');

if (!PG_URL) console.warn('secrets PostgreSQL tests skipped: STASH_TEST_PG_URL is not set');

describe.skipIf(!PG_URL)('secrets vault on PostgreSQL', () => {
  let db: TestDatabase;
  let server: TestServer;
  let sql: postgres.Sql;
  beforeAll(async () => {
    db = await createTestDatabase();
    server = await startTestServer(['--db', db.url, '--secrets.key', MASTER]);
    sql = postgres(db.url, { max: 1, onnotice: () => undefined });
  });
  afterAll(async () => {
    await sql?.end();
    await server?.close();
    await db?.drop();
  });

  const stored = async (key: string): Promise<Buffer | undefined> =>
    ((await sql`SELECT value FROM kv WHERE key = ${key}`)[0]?.['value'] as Buffer | undefined) ?? undefined;

  it('stores BYTEA ciphertext both ways compatible; list size is octet_length of it', async () => {
    const res = await fetch(`${server.url}/kv/pg/secrets/a`, { method: 'PUT', body: 'pg-hidden-value' });
    expect(res.status).toBe(201);
    const raw = await stored('pg/secrets/a');
    expect(raw?.toString()).not.toContain('pg-hidden-value');
    expect((await originalOpen(MASTER, raw?.toString() ?? '')).toString()).toBe('pg-hidden-value');
    expect(await (await fetch(`${server.url}/kv/pg/secrets/a`)).text()).toBe('pg-hidden-value');
    const [item] = (await (await fetch(`${server.url}/kv/?prefix=pg/secrets/a`)).json()) as Array<{ size: number }>;
    expect(item?.size).toBe(raw?.length);

    const history = await sql`SELECT value FROM kv_history WHERE key = 'pg/secrets/a'`;
    for (const row of history) expect(String(row['value'])).not.toContain('pg-hidden-value');
  });

  it('opens a value the original wrote', async () => {
    const value = Buffer.from(await originalSeal(MASTER, Buffer.from('from the Go server')));
    await server.store.apply([{ kind: 'put', key: 'secrets/pg-legacy', value, format: 'text' }]);
    expect(await (await fetch(`${server.url}/kv/secrets/pg-legacy`)).text()).toBe('from the Go server');
  });

  it('stores a ZK fixture unchanged', async () => {
    const body = readFileSync(join(ZK_DIR, 'rust_encrypted.bin'));
    expect((await fetch(`${server.url}/kv/pg/secrets/zk`, { method: 'PUT', body })).status).toBe(201);
    expect((await stored('pg/secrets/zk'))?.equals(body)).toBe(true);
  });
});

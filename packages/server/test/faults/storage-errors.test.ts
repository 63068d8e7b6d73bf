import { execFileSync, spawnSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { classifyStorageError } from '../../src/storage/storage-errors.js';
import { PostgresStore } from '../../src/storage/postgres-store.js';
import { PRIVATE_PG_SKIP, startPrivatePg, type PrivatePg } from '../helpers/private-pg.js';
import { freePort } from '../helpers/spawned-server.js';
import { makeTempDir } from '../helpers/test-server.js';

if (PRIVATE_PG_SKIP) console.warn(`skipping driver error classification on PostgreSQL: ${PRIVATE_PG_SKIP}`);

/** The error `work` rejects with (fails the test when it resolves). */
async function failure(work: () => Promise<unknown>): Promise<unknown> {
  try {
    await work();
  } catch (error) {
    return error;
  }
  throw new Error('expected a failure');
}

const quiet = { max: 1, onnotice: () => undefined, connect_timeout: 5 };

describe('classifyStorageError on real SQLite errors', () => {
  const dir = makeTempDir('stash-errors-');
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('a database locked by another connection is unavailable, a full one is full, a bad statement is neither', () => {
    const file = join(dir, 'x.db');
    const holder = new Database(file);
    const other = new Database(file, { timeout: 0 });
    try {
      holder.exec('CREATE TABLE t (v BLOB); BEGIN IMMEDIATE; INSERT INTO t VALUES (1)');
      const busy = ((): unknown => {
        try {
          other.exec('BEGIN IMMEDIATE');
        } catch (error) {
          return error;
        }
        return undefined;
      })();
      expect((busy as { code?: string }).code).toMatch(/^SQLITE_BUSY/);
      expect(classifyStorageError(busy)).toBe('unavailable');
      holder.exec('COMMIT');

      holder.pragma('max_page_count = 8');
      const full = ((): unknown => {
        try {
          holder.prepare('INSERT INTO t VALUES (?)').run(Buffer.alloc(64 * 1024));
        } catch (error) {
          return error;
        }
        return undefined;
      })();
      expect((full as { code?: string }).code).toBe('SQLITE_FULL');
      expect(classifyStorageError(full)).toBe('full');

      const syntax = ((): unknown => {
        try {
          holder.exec('SELEC 1');
        } catch (error) {
          return error;
        }
        return undefined;
      })();
      expect(classifyStorageError(syntax)).toBeUndefined();
    } finally {
      other.close();
      holder.close();
    }
  });
});

describe.skipIf(PRIVATE_PG_SKIP)('classifyStorageError on real PostgreSQL errors', () => {
  let pg: PrivatePg;
  let admin: postgres.Sql;

  beforeAll(async () => {
    pg = await startPrivatePg();
    admin = pg.admin();
  }, 60_000);
  afterAll(async () => {
    await admin?.end();
    await pg?.destroy();
  });

  it('refused connection, terminated session and too many connections are unavailable', async () => {
    const nobody = postgres(`postgres://stash:stash@127.0.0.1:${await freePort()}/stash`, quiet);
    const refused = await failure(() => nobody`SELECT 1`);
    await nobody.end({ timeout: 1 });
    expect((refused as { code?: string }).code).toBe('ECONNREFUSED');
    expect(classifyStorageError(refused)).toBe('unavailable');

    // only the sleep is terminated: the driver's type query at connect, if hit, fails unhandled
    const victim = postgres(pg.url, { ...quiet, connection: { application_name: 'victim' } });
    const sleeping = failure(() => victim`SELECT pg_sleep(30)`);
    await expect
      .poll(async () => (await admin`SELECT pg_terminate_backend(pid) AS t FROM pg_stat_activity WHERE application_name = 'victim' AND state = 'active' AND query LIKE '%pg_sleep%'`).length, { timeout: 5000 })
      .toBe(1);
    const terminated = await sleeping;
    // the driver reports the FATAL 57P01 that precedes the close as the close itself
    expect(['57P01', 'CONNECTION_CLOSED']).toContain((terminated as { code?: string }).code);
    expect(classifyStorageError(terminated)).toBe('unavailable');

    await admin`ALTER ROLE stash CONNECTION LIMIT 1`;
    const first = postgres(pg.url, quiet);
    const second = postgres(pg.url, quiet);
    try {
      await first`SELECT 1`;
      const tooMany = await failure(() => second`SELECT 1`);
      expect((tooMany as { code?: string }).code).toBe('53300');
      expect(classifyStorageError(tooMany)).toBe('unavailable');
    } finally {
      // a failed connection never ends cleanly in postgres.js 3.4.9: bound the wait
      await Promise.all([first.end({ timeout: 1 }), second.end({ timeout: 1 }), victim.end({ timeout: 1 })]);
      await admin`ALTER ROLE stash CONNECTION LIMIT -1`;
    }
  });

  it('constraint and syntax errors stay unclassified', async () => {
    const sql = postgres(pg.url, quiet);
    try {
      await sql`CREATE TABLE IF NOT EXISTS u (k TEXT PRIMARY KEY)`;
      await sql`INSERT INTO u VALUES ('a')`;
      expect(classifyStorageError(await failure(() => sql`INSERT INTO u VALUES ('a')`))).toBeUndefined();
      expect(classifyStorageError(await failure(() => sql.unsafe('SELEC 1')))).toBeUndefined();
    } finally {
      await sql.end();
    }
  });

  // the store connects through its own socket factory (pg-socket.ts): TLS must still work
  it.skipIf(spawnSync('openssl', ['version']).status !== 0)('the store connects over TLS when the URL asks for it', async () => {
    const [row] = await admin`SELECT current_setting('data_directory') AS dir`;
    const dataDir = String(row?.['dir']);
    execFileSync('openssl', ['req', '-new', '-x509', '-days', '1', '-nodes', '-subj', '/CN=localhost',
      '-keyout', join(dataDir, 'server.key'), '-out', join(dataDir, 'server.crt')], { stdio: 'ignore' });
    if (process.getuid?.() === 0) execFileSync('chown', ['postgres', join(dataDir, 'server.key'), join(dataDir, 'server.crt')]);
    execFileSync('chmod', ['600', join(dataDir, 'server.key')]);
    await admin`ALTER SYSTEM SET ssl = on`;
    await admin`SELECT pg_reload_conf()`;
    const store = await PostgresStore.connect(`${pg.url}?sslmode=require`);
    try {
      const [entry] = await store.apply([{ kind: 'put', key: 'tls', value: Buffer.from('x'), format: 'text' }]);
      expect((await store.get('tls'))?.revision).toBe(entry?.revision);
      const sessions = await admin`
        SELECT s.ssl FROM pg_stat_ssl s JOIN pg_stat_activity a USING (pid) WHERE a.application_name = 'stash'`;
      expect(sessions.length).toBeGreaterThan(0);
      expect(sessions.every((s) => s['ssl'] === true)).toBe(true);
    } finally {
      await store.close();
    }
  });
});

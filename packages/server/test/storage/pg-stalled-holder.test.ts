import type { Socket } from 'node:net';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PostgresStore } from '../../src/storage/postgres-store.js';
import { createPgSocketFactory, type PgSocketTarget } from '../../src/storage/pg-socket.js';
import { PG_APPLICATION_NAME } from '../../src/storage/pg-stalled-sessions.js';
import { createTestDatabase, PG_URL, type TestDatabase } from '../helpers/pg.js';

if (!PG_URL) console.warn('skipping PostgreSQL stalled-lock-holder tests: STASH_TEST_PG_URL is not set');

const put = (key: string): Parameters<PostgresStore['apply']>[0] => [{ kind: 'put', key, value: new Uint8Array([1]), format: 'text' }];

/**
 * Another server of ours holds the revision-counter lock: its writes must go on when that holder
 * was cut off mid-statement (after the answer to a Describe, before its Bind: neither idle in a
 * transaction nor running anything), and must wait when the holder is only slow.
 */
describe.skipIf(!PG_URL)('PostgreSQL writes behind a lock held by another session', () => {
  let db: TestDatabase;
  let store: PostgresStore;
  const holders: postgres.Sql[] = [];

  /** A session like one of another server's, whose socket the test can stop reading. */
  const holder = (): { sql: postgres.Sql; socket: () => Socket } => {
    let last: Socket | undefined;
    // our socket factory (the driver crashes on a close during its ROLLBACK without it), never cutting
    const connect = createPgSocketFactory(60_000);
    const socket = {
      socket: (target: PgSocketTarget) => (last = connect(target)),
    } as Partial<postgres.Options<Record<string, never>>>;
    const sql = postgres(db.url, { max: 1, onnotice: () => undefined, connection: { application_name: PG_APPLICATION_NAME }, ...socket });
    holders.push(sql);
    return { sql, socket: () => last as Socket };
  };

  beforeAll(async () => {
    db = await createTestDatabase();
    store = await PostgresStore.connect(db.url);
    await store.apply(put('warm'));
  });
  afterAll(async () => {
    await Promise.all(holders.map((sql) => sql.end({ timeout: 1 })));
    await store?.close();
    await db?.drop();
  });

  it('ends a holder whose client stopped between Describe and Bind, and the write commits', { timeout: 30_000 }, async () => {
    const { sql, socket } = holder();
    let locked!: () => void;
    const lockTaken = new Promise<void>((resolve) => (locked = resolve));
    const held = sql
      .begin(async (tx) => {
        await tx`SELECT value FROM stash_meta WHERE name = 'revision' FOR UPDATE`;
        socket().pause(); // the Describe answer is never read: the driver never sends Bind and Sync
        locked();
        await tx`SELECT ${1}::int AS one`;
      })
      .then(
        () => 'committed',
        () => 'failed',
      );
    await lockTaken;
    const [entry] = await store.apply(put('behind/stalled'));
    expect(entry?.key).toBe('behind/stalled');
    socket().resume();
    expect(await held).toBe('failed');
  });

  it('leaves a slow holder alone: the write waits for its commit', { timeout: 30_000 }, async () => {
    const { sql } = holder();
    let locked!: () => void;
    const lockTaken = new Promise<void>((resolve) => (locked = resolve));
    const held = sql.begin(async (tx) => {
      await tx`SELECT value FROM stash_meta WHERE name = 'revision' FOR UPDATE`;
      locked();
      await tx`SELECT pg_sleep(6)`; // past the 4 s after which a stalled holder is ended
      await tx`INSERT INTO stash_meta (name, value) VALUES ('slow_holder', 1)`;
    });
    await lockTaken;
    await store.apply(put('behind/slow'));
    await held; // committed, not ended
    const [row] = await sql`SELECT value FROM stash_meta WHERE name = 'slow_holder'`;
    expect(Number(row?.['value'])).toBe(1);
  });
});

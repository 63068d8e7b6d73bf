import { afterAll, beforeAll, describe, it } from 'vitest';
import { createTestDatabase, PG_URL, type TestDatabase } from '../helpers/pg.js';
import { buildOnce, type Spawned } from '../helpers/spawned-server.js';
import { runKillCycles } from '../helpers/kill-cycles.js';

// the SQLite twin of this test (same writers, same checks, plus integrity_check) is durability/sigkill.test.ts
if (!PG_URL) console.warn('sigkill-postgres skipped: STASH_TEST_PG_URL is not set');

describe.skipIf(!PG_URL)('kill -9 under concurrent writes on PostgreSQL', () => {
  let database: TestDatabase | undefined;
  const current: { server?: Spawned | undefined } = {};

  beforeAll(async () => {
    await buildOnce();
    database = await createTestDatabase();
  });
  afterAll(async () => {
    current.server?.proc.kill('SIGKILL');
    await current.server?.exited;
    await database?.drop();
  });

  it('loses no acknowledged write and hands out no revision twice, over 2 kill cycles', { timeout: 60_000 }, async () => {
    const url = (database as TestDatabase).url;
    const result = await runKillCycles(url, { writers: 16, cycles: 2, loadMs: 1000, minAcked: 200 }, current);
    console.log(`postgres kill -9: acknowledged writes per cycle ${result.ackedPerCycle.join(', ')}; ${result.keys} keys`);
  });
});

import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { makeTempDir } from '../helpers/test-server.js';
import { buildOnce, type Spawned } from '../helpers/spawned-server.js';
import { expectSqliteIntact, runKillCycles } from '../helpers/kill-cycles.js';

describe('kill -9 under concurrent writes', () => {
  let dir: string;
  const current: { server?: Spawned | undefined } = {};

  beforeAll(async () => {
    await buildOnce();
    dir = makeTempDir('stash-sigkill-');
  });
  afterAll(() => {
    current.server?.proc.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  });

  it('loses no acknowledged write and leaves a database that opens cleanly, over 3 kill cycles', { timeout: 90_000 }, async () => {
    const db = join(dir, 'stash.db');
    const result = await runKillCycles(
      db,
      { writers: 16, cycles: 3, loadMs: 1000, minAcked: 200, afterStop: () => expectSqliteIntact(db) },
      current,
    );
    console.log(`sqlite kill -9: acknowledged writes per cycle ${result.ackedPerCycle.join(', ')}; ${result.keys} keys`);
  });
});

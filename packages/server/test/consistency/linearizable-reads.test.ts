import { join } from 'node:path';
import { rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkHistory } from '../helpers/history-checker.js';
import { runRegisterWorkload } from '../helpers/history-workload.js';
import { createTestDatabase, PG_URL, type TestDatabase } from '../helpers/pg.js';
import { buildOnce, startStashProcess, type Spawned } from '../helpers/spawned-server.js';
import { makeTempDir } from '../helpers/test-server.js';

// 24 clients over 4 keys: reads, blind writes and compare-and-swap, on every configuration
const WORKLOAD = { clients: 24, durationMs: 3000 };
let runs = 0;

type Server = Spawned & { url: string };
async function stop(servers: Server[]): Promise<void> {
  for (const s of servers) s.proc.kill('SIGTERM');
  await Promise.all(servers.map((s) => s.exited));
}

async function checkRun(urls: string[]): Promise<void> {
  // fresh keys per run: servers of one describe share a database
  const run = ++runs;
  const keys = ['a', 'b', 'c', 'd'].map((k) => `lin${run}/${k}`);
  const history = await runRegisterWorkload({ ...WORKLOAD, keys, urls });
  const result = checkHistory(history);
  console.log(`history of ${history.length} operations on ${urls.length} server(s):`, JSON.stringify(result.counts));
  expect(result.violations).toEqual([]);
  // the run must have exercised every kind of operation, or it proves nothing
  expect(result.counts.read).toBeGreaterThan(200);
  expect(result.counts.write).toBeGreaterThan(100);
  expect(result.counts.cas - result.counts.failedCas).toBeGreaterThan(20);
}

beforeAll(buildOnce, 120_000);

describe('linearizable history on one SQLite server', () => {
  const dir = makeTempDir();
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  for (const cache of [false, true]) {
    it(`holds ${cache ? 'with' : 'without'} --cache.enabled`, { timeout: 30_000 }, async () => {
      const server = await startStashProcess(join(dir, `lin-${cache}.db`), cache ? ['--cache.enabled'] : []);
      try {
        await checkRun([server.url]);
      } finally {
        await stop([server]);
      }
    });
  }
});

describe.skipIf(!PG_URL)('linearizable history on two PostgreSQL servers', () => {
  if (!PG_URL) console.warn('skipping the PostgreSQL history checks: STASH_TEST_PG_URL is not set');
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase();
  });
  afterAll(() => db?.drop());

  for (const cache of [false, true]) {
    it(`holds ${cache ? 'with' : 'without'} --cache.enabled on both`, { timeout: 40_000 }, async () => {
      const flags = cache ? ['--cache.enabled'] : [];
      const servers = [await startStashProcess(db.url, flags), await startStashProcess(db.url, flags)];
      try {
        await checkRun(servers.map((s) => s.url));
      } finally {
        await stop(servers);
      }
    });
  }
});

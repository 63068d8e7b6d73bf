import { execFile } from 'node:child_process';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStore } from '../../src/storage/open-store.js';
import { createTestDatabase, PG_URL, type TestDatabase } from '../helpers/pg.js';
import { makeTempDir, startTestServer } from '../helpers/test-server.js';
import { commitCount, git, waitFor } from './git-helpers.js';

const BIN = fileURLToPath(new URL('../../bin/stash.js', import.meta.url));
if (!PG_URL) console.warn('git-restore-pg: STASH_TEST_PG_URL is not set, skipping the PostgreSQL restore test');

describe.skipIf(!PG_URL)('stash restore on PostgreSQL', () => {
  let tmp: string;
  let db: TestDatabase;
  beforeAll(async () => {
    tmp = makeTempDir('stash-git-restore-pg-');
    db = await createTestDatabase();
  });
  afterAll(async () => {
    await db?.drop();
    rmSync(tmp, { recursive: true, force: true });
  });

  it('mirrors a PostgreSQL-backed server and restores a revision in one transaction', async () => {
    const repo = join(tmp, 'history');
    const server = await startTestServer(['--db', db.url, '--git.enabled', '--git.path', repo]);
    await fetch(`${server.url}/kv/pg/a`, { method: 'PUT', body: 'one', headers: { 'X-Stash-Format': 'json' } });
    await waitFor(() => commitCount(repo) === 2);
    const rev = git(repo, 'rev-parse', 'HEAD').trim();
    await fetch(`${server.url}/kv/pg/a`, { method: 'PUT', body: 'two' });
    await fetch(`${server.url}/kv/pg/b`, { method: 'PUT', body: 'b' });
    await server.close();

    const result = await new Promise<{ code: number; stdout: string }>((resolve) => {
      execFile(process.execPath, [BIN, 'restore', '--db', db.url, '--git.path', repo, '--rev', rev], (error, stdout) =>
        resolve({ code: error ? Number(error.code ?? 1) : 0, stdout }),
      );
    });
    expect(result.stdout).toContain(`restored 1 keys from revision ${rev}`);
    expect(result.code).toBe(0);
    const store = await openStore(db.url, { sync: 'normal' });
    try {
      const { items } = await store.exportValues('');
      expect(items.map((i) => `${i.key}|${i.format}|${Buffer.from(i.value).toString()}`)).toEqual(['pg/a|json|one']);
    } finally {
      await store.close();
    }
  });
});

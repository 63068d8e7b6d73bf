import { rmSync } from 'node:fs';
import { join } from 'node:path';
import type { Statement } from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { GroupCommitQueue } from '../../src/storage/group-commit.js';
import { SqliteStore } from '../../src/storage/sqlite-store.js';
import { KeyNotFoundError, RevisionConflictError, type WriteOp } from '../../src/storage/store.js';
import { makeTempDir, startTestServer, type TestServer } from '../helpers/test-server.js';

const bytes = (s: string): Uint8Array => new TextEncoder().encode(s);
const put = (key: string, value = key, ifRevision?: number): WriteOp => ({
  kind: 'put',
  key,
  value: bytes(value),
  format: 'text',
  ifRevision,
});

/** Count COMMITs by wrapping the store's prepared COMMIT statement (the real one still runs). */
function countCommits(store: SqliteStore): () => number {
  const stmt = (store as unknown as { stmt: { commit: Statement } }).stmt.commit;
  const run = stmt.run.bind(stmt);
  let commits = 0;
  stmt.run = (...args: unknown[]) => {
    commits++;
    return run(...args);
  };
  return () => commits;
}

describe('group commit on a SQLite file', () => {
  let dir: string | undefined;
  let store: SqliteStore | undefined;
  let server: TestServer | undefined;

  const open = (sync?: 'full' | 'normal'): SqliteStore => {
    dir ??= makeTempDir('stash-group-');
    store = new SqliteStore({ path: join(dir, 'stash.db'), sync });
    return store;
  };

  afterEach(async () => {
    await store?.close();
    await server?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
    store = server = dir = undefined;
  });

  it('commits 100 concurrent writes in far fewer transactions, one revision each', async () => {
    const s = open();
    const commits = countCommits(s);
    const results = await Promise.all(Array.from({ length: 100 }, (_, i) => s.apply([put(`k/${i}`)])));
    const revisions = results.map(([entry]) => entry?.revision);
    expect(new Set(revisions).size).toBe(100);
    expect(revisions.toSorted((a, b) => (a ?? 0) - (b ?? 0))).toEqual(Array.from({ length: 100 }, (_, i) => i + 1));
    expect(commits()).toBeGreaterThanOrEqual(1);
    expect(commits()).toBeLessThanOrEqual(5);
    expect(await s.currentRevision()).toBe(100);
    expect((await s.list({ prefix: 'k/' })).length).toBe(100);
  });

  it('rolls back only the failing unit of a group; the others commit with contiguous revisions', async () => {
    const s = open();
    await s.apply([put('existing')]); // revision 1
    const commits = countCommits(s);
    const good = Array.from({ length: 20 }, (_, i) => s.apply([put(`ok/${i}`)]));
    const conflict = s.apply([put('cas/missing', 'x', 7)]);
    const missingDelete = s.apply([{ kind: 'delete', key: 'never/there' }]);
    // a unit is atomic: its first write is undone when its second fails
    const halfUnit = s.apply([put('half/first'), put('existing', 'y', 99)]);
    const more = Array.from({ length: 20 }, (_, i) => s.apply([put(`ok/late/${i}`)]));
    await expect(conflict).rejects.toBeInstanceOf(RevisionConflictError);
    await expect(missingDelete).rejects.toBeInstanceOf(KeyNotFoundError);
    await expect(halfUnit).rejects.toMatchObject({ key: 'existing', currentRevision: 1 });
    const revisions = (await Promise.all([...good, ...more])).map(([e]) => e?.revision);
    expect(revisions).toEqual(Array.from({ length: 40 }, (_, i) => i + 2));
    expect(commits()).toBe(1);
    expect(await s.get('cas/missing')).toBeUndefined();
    expect(await s.get('half/first')).toBeUndefined();
    expect(await s.history('half/first', 10)).toEqual([]);
    expect(Buffer.from((await s.get('existing'))?.value ?? []).toString()).toBe('existing');
    expect(await s.currentRevision()).toBe(41);
  });

  it('close() flushes writes that are still queued before closing the database', async () => {
    const s = open();
    const pending = Array.from({ length: 10 }, (_, i) => s.apply([put(`late/${i}`)]));
    await s.close();
    expect((await Promise.all(pending)).length).toBe(10);
    await expect(s.apply([put('after/close')])).rejects.toThrow('store is closed');
    const reopened = open();
    expect((await reopened.list({ prefix: 'late/' })).length).toBe(10);
  });

  it('runs with synchronous=FULL by default and NORMAL with --db.sync=normal', async () => {
    server = await startTestServer();
    expect((server.store as SqliteStore).db.pragma('synchronous', { simple: true })).toBe(2);
    expect((server.store as SqliteStore).db.pragma('journal_mode', { simple: true })).toBe('wal');
    await server.close();
    server = await startTestServer(['--db.sync=normal']);
    expect((server.store as SqliteStore).db.pragma('synchronous', { simple: true })).toBe(1);
  });
});

describe('GroupCommitQueue', () => {
  it('hands everything submitted in one turn of the event loop to a single commit', async () => {
    const groups: number[][] = [];
    const queue = new GroupCommitQueue<number, number>((units) => {
      groups.push([...units]);
      return units.map((u) => ({ ok: true, value: u * 2 }));
    });
    const first = await Promise.all([1, 2, 3].map((n) => queue.submit(n)));
    const second = await queue.submit(4);
    expect(first).toEqual([2, 4, 6]);
    expect(second).toBe(8);
    expect(groups).toEqual([[1, 2, 3], [4]]);
  });

  it('fails every unit of a group whose commit throws, and keeps serving later groups', async () => {
    let fail = true;
    const queue = new GroupCommitQueue<number, number>((units) => {
      if (fail) throw new Error('disk I/O error');
      return units.map((u) => ({ ok: true, value: u }));
    });
    const doomed = [1, 2].map((n) => queue.submit(n));
    await expect(Promise.all(doomed)).rejects.toThrow('disk I/O error');
    await expect(doomed[1]).rejects.toThrow('disk I/O error');
    fail = false;
    expect(await queue.submit(3)).toBe(3);
  });
});

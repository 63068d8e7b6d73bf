import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { KeyIndex, type KeyIndexSource } from '../../src/domain/key-index.js';
import { SqliteStore } from '../../src/storage/sqlite-store.js';
import type { WriteOp } from '../../src/storage/store.js';
import { makeTempDir } from '../helpers/test-server.js';

const put = (key: string, value: string): WriteOp => ({ kind: 'put', key, value: Buffer.from(value), format: 'text' });
const del = (key: string): WriteOp => ({ kind: 'delete', key });

/** The real store, with its reads counted: the index must not ask it more than it needs. */
function counted(store: SqliteStore): KeyIndexSource & { lists: number; replays: number } {
  const source = {
    lists: 0,
    replays: 0,
    list: (options?: { prefix?: string }) => {
      source.lists++;
      return store.list(options);
    },
    changesSince: (after: number, limit: number) => {
      source.replays++;
      return store.changesSince(after, limit);
    },
    currentRevision: () => store.currentRevision(),
  };
  return source;
}

describe('KeyIndex over a real SQLite store', () => {
  let dir: string;
  let store: SqliteStore;
  beforeEach(() => {
    dir = makeTempDir('stash-index-');
    store = new SqliteStore({ path: join(dir, 'stash.db') });
  });
  afterEach(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const prefixes = ['', 'a', 'a/', 'a/b', 'b/', 'zz', 'a/b/c/'];
  async function expectSameAsStore(index: KeyIndex): Promise<void> {
    for (const prefix of prefixes) expect(await index.list(prefix)).toEqual(await store.list({ prefix }));
  }

  it('answers every prefix as the store does, through creates, updates, deletes and re-creates', async () => {
    const index = new KeyIndex(counted(store));
    await store.apply([put('a/x', '1'), put('a/b/y', '22'), put('b/z', '$ZK$AAAAAAAAAAAA')]);
    await expectSameAsStore(index);
    let seed = 7;
    for (let round = 0; round < 40; round++) {
      seed = (seed * 48_271) % 2_147_483_647;
      const key = ['a/x', 'a/b/y', 'a/b/c/d', 'b/z', 'b/new', 'zz', 'a/bb'][seed % 7] as string;
      const exists = (await store.get(key)) !== undefined;
      await store.apply([seed % 3 === 0 && exists ? del(key) : put(key, 'v'.repeat(seed % 50))]);
      if (round % 4 === 0) await new Promise((r) => setTimeout(r, 2)); // later timestamps, so the order by time is exercised
      await expectSameAsStore(index);
    }
  });

  it('catches up from the change log when a few writes behind, and reads everything when far behind or pruned', async () => {
    const source = counted(store);
    const index = new KeyIndex(source, { maxReplay: 10 });
    await store.apply([put('a/1', 'x')]);
    await index.list('');
    expect(source.lists).toBe(1);
    await store.apply([put('a/2', 'x'), put('a/1', 'xx')]);
    await expectSameAsStore(index);
    expect([source.lists, source.replays]).toEqual([1, 1]);
    for (let i = 0; i < 12; i++) await store.apply([put(`b/${i}`, 'y')]);
    await index.list('b/');
    expect(source.lists).toBe(2); // 12 behind > maxReplay 10
    await expectSameAsStore(index);
    // the log no longer reaches back to the index's revision: read everything
    for (let i = 0; i < 5; i++) await store.apply([put('a/1', `v${i}`)]);
    await store.pruneHistory(new Date(Date.now() + 60_000), 1);
    await store.apply([put('a/3', 'z')]);
    const before = source.lists;
    await expectSameAsStore(index);
    expect(source.lists).toBeGreaterThan(before);
  });

  it('answers from memory when it is already at the revision asked for', async () => {
    const source = counted(store);
    const index = new KeyIndex(source);
    await store.apply([put('a/1', 'x')]);
    const revision = await store.currentRevision();
    await index.list('', revision);
    const reads = source.lists + source.replays;
    for (let i = 0; i < 10; i++) await index.list('a/', revision);
    expect(source.lists + source.replays).toBe(reads);
    await store.apply([put('a/2', 'x')]);
    expect((await index.list('a/', revision))?.map((k) => k.key)).toEqual(['a/1']); // as of the revision asked
    expect((await index.list('a/'))?.map((k) => k.key)).toEqual(['a/2', 'a/1']); // as of now
  });

  it('steps aside when there are more keys than it keeps', async () => {
    const source = counted(store);
    const index = new KeyIndex(source, { maxKeys: 3 });
    await store.apply([put('k/1', 'x'), put('k/2', 'x')]);
    expect(await index.list('k/')).toHaveLength(2);
    await store.apply([put('k/3', 'x'), put('k/4', 'x')]);
    expect(await index.list('k/')).toBeUndefined();
    const reads = source.lists + source.replays;
    expect(await index.list('k/')).toBeUndefined();
    expect(source.lists + source.replays).toBe(reads); // it no longer reads anything
  });
});

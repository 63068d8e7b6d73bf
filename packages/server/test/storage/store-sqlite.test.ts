import { rmSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { PRUNE_CHUNK } from '../../src/storage/sqlite-history.js';
import type { WriteOp } from '../../src/storage/store.js';
import { SqliteStore } from '../../src/storage/sqlite-store.js';
import { makeTempDir } from '../helpers/test-server.js';
import { describeStoreConformance } from './store-conformance.js';

function openTemp(): { store: SqliteStore; dispose(): Promise<void> } {
  const dir = makeTempDir('stash-store-');
  const store = new SqliteStore({ path: join(dir, 'stash.db') });
  return {
    store,
    dispose: async () => {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

describeStoreConformance('sqlite', () => Promise.resolve(openTemp()));

const put = (key: string, value: string): WriteOp => ({ kind: 'put', key, value: Buffer.from(value), format: 'text' });
const del = (key: string): WriteOp => ({ kind: 'delete', key });

describe('SqliteStore specifics', () => {
  let fixture: ReturnType<typeof openTemp> | undefined;
  afterEach(async () => {
    await fixture?.dispose();
    fixture = undefined;
  });

  it('lists a prefix with an index range search, not a table scan', async () => {
    fixture = openTemp();
    const { store } = fixture;
    await store.apply([{ kind: 'put', key: 'app/x', value: new Uint8Array([1]), format: 'text' }]);
    // the very statement the store runs for a prefix list (private field, read for this check only)
    const statements = Reflect.get(store, 'stmt') as Record<string, { source: string }>;
    const source = statements['listRange']!.source;
    const plan = store.db.prepare(`EXPLAIN QUERY PLAN ${source}`).all('app', 'app\u{10FFFF}') as { detail: string }[];
    const details = plan.map((p) => p.detail).join('\n');
    expect(details).toMatch(/SEARCH kv USING INDEX sqlite_autoindex_kv_1 \(key>\? AND key<\?\)/);
    expect(details).not.toMatch(/SCAN kv/);
    expect((await store.list({ prefix: 'app' })).map((m) => m.key)).toEqual(['app/x']);
  });

  it('keeps writes across a reopen', async () => {
    const dir = makeTempDir('stash-store-');
    const path = join(dir, 'stash.db');
    const first = new SqliteStore({ path });
    await first.apply([{ kind: 'put', key: 'k', value: new Uint8Array([7]), format: 'json' }], 'me');
    await first.close();
    const second = new SqliteStore({ path });
    fixture = { store: second, dispose: async () => { await second.close(); rmSync(dir, { recursive: true, force: true }); } };
    expect(await second.get('k')).toMatchObject({ revision: 1, format: 'json' });
    expect(await second.currentRevision()).toBe(1);
    expect((await second.apply([{ kind: 'delete', key: 'k' }]))[0]?.revision).toBe(2);
  });

  it('appends change-log entries in revision order, each linked to its key\'s previous one', async () => {
    fixture = openTemp();
    const { store } = fixture;
    for (const op of [put('a', '1'), put('b', '1'), put('a', '2'), del('a'), put('c', '1'), del('c'), put('c', '2')]) {
      await store.apply([op]);
    }
    const indexes = store.db.prepare(`SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'kv_history'`);
    expect(indexes.pluck().all()).toEqual(['idx_kv_history_ts']);
    expect(store.db.prepare('SELECT revision, key, prev FROM kv_history ORDER BY revision').raw().all()).toEqual([
      [1, 'a', null],
      [2, 'b', null],
      [3, 'a', 1],
      [4, 'a', 3],
      [5, 'c', null],
      [6, 'c', 5],
      [7, 'c', 6],
    ]);
    // only a deleted key needs a head of its own; a live key's kv row names its newest entry
    expect(store.db.prepare('SELECT key, revision FROM kv_history_heads').raw().all()).toEqual([['a', 4]]);
  });

  it('links the change log of a database written before the links, and drops its key index', async () => {
    const dir = makeTempDir('stash-store-');
    const path = join(dir, 'stash.db');
    const first = new SqliteStore({ path });
    const ops = [put('k1', 'a'), put('k2', 'b'), put('k1', 'c'), del('k2'), put('k3', 'd'), del('k3'), put('k3', 'e'), put('k1', 'f')];
    for (const op of ops) await first.apply([op], 'old');
    const keys = ['k1', 'k2', 'k3'];
    const histories = await Promise.all(keys.map((k) => first.history(k, 10)));
    await first.close();
    // the earlier layout: no links, no heads, an index on (key, revision)
    const raw = new Database(path);
    raw.exec(`DROP TABLE kv_history_heads; ALTER TABLE kv_history DROP COLUMN prev;
      CREATE INDEX idx_kv_history_key ON kv_history(key, revision);`);
    raw.close();

    const second = new SqliteStore({ path });
    fixture = { store: second, dispose: async () => { await second.close(); rmSync(dir, { recursive: true, force: true }); } };
    expect(await Promise.all(keys.map((k) => second.history(k, 10)))).toEqual(histories);
    expect(histories.map((h) => h.length)).toEqual([3, 2, 3]);
    expect(await second.getAt('k3', 6)).toBeUndefined(); // deleted at 6
    expect(Buffer.from((await second.getAt('k1', 7))?.value ?? []).toString()).toBe('c');
    const index = second.db.prepare(`SELECT name FROM sqlite_master WHERE name = 'idx_kv_history_key'`).get();
    expect(index).toBeUndefined();
    // new entries continue the old chains
    await second.apply([del('k1')]);
    await second.apply([put('k2', 'again')]);
    expect((await second.history('k1', 10)).map((e) => e.revision)).toEqual([9, 8, 3, 1]);
    expect((await second.history('k2', 10)).map((e) => e.revision)).toEqual([10, 4, 2]);
  });

  it('reads far back in a busy key\'s history, past the walk of its links', async () => {
    fixture = openTemp();
    const { store } = fixture;
    await store.apply([put('busy', 'first')]); // 1
    await store.apply([put('quiet', 'q')]); // 2
    await store.apply([put('busy', 'second')]); // 3
    for (let i = 0; i < 300; i++) await store.apply([put('busy', `v${i}`)]); // 4..303
    await store.apply([del('quiet')]); // 304
    expect(Buffer.from((await store.getAt('busy', 2))!.value).toString()).toBe('first');
    expect((await store.getAt('busy', 3))?.revision).toBe(3);
    expect(Buffer.from((await store.getAt('busy', 150))!.value).toString()).toBe('v146');
    expect(await store.getAt('busy', 0)).toBeUndefined();
    expect((await store.getAt('quiet', 303))?.revision).toBe(2);
  });

  it('prunes a log of several chunks a chunk per turn of the event loop', async () => {
    fixture = openTemp();
    const { store } = fixture;
    const total = PRUNE_CHUNK * 2 + 500; // revision r is an entry of key p/((r - 1) % 100)
    for (let i = 0; i < total; i += 1000) {
      await store.apply(Array.from({ length: Math.min(1000, total - i) }, (_, j) => put(`p/${(i + j) % 100}`, 'x')));
    }
    let turns = 0;
    let pruning = true;
    const tick = (): void => {
      if (!pruning) return;
      turns++;
      setImmediate(tick);
    };
    setImmediate(tick);
    const pruned = await store.pruneHistory(new Date(Date.now() + 60_000), 10);
    pruning = false;
    expect(pruned).toBe(total - 1000);
    expect(turns).toBeGreaterThanOrEqual(3); // 3 chunks read, then 2 deleted: a turn between each
    expect((await store.history('p/7', 100)).map((e) => e.revision)).toEqual(
      Array.from({ length: 10 }, (_, i) => total - 1000 + 8 + (9 - i) * 100),
    );
    expect(await store.oldestRetainedRevision()).toBe(total - 999);
    expect(await store.pruneHistory(new Date(Date.now() + 60_000), 10)).toBe(0);
  });
});

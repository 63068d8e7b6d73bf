import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
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
});

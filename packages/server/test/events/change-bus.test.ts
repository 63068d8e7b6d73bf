import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ChangeBus } from '../../src/events/change-bus.js';
import { silentLogger } from '../../src/logger.js';
import { SqliteStore } from '../../src/storage/sqlite-store.js';
import type { ChangeEntry } from '../../src/storage/store.js';
import { makeTempDir } from '../helpers/test-server.js';

let dir: string;
let store: SqliteStore;
let bus: ChangeBus;
let delivered: number[];
let invalidated: string[];

beforeEach(async () => {
  dir = makeTempDir('stash-bus-');
  store = new SqliteStore({ path: join(dir, 'stash.db'), sync: 'normal' });
  await store.apply([{ kind: 'put', key: 'before', value: new Uint8Array([1]), format: 'text' }]);
  delivered = [];
  invalidated = [];
  bus = new ChangeBus({ store, log: silentLogger, invalidator: { invalidate: (keys) => invalidated.push(...keys) } });
  bus.subscribe((entries) => delivered.push(...entries.map((e) => e.revision)));
  await bus.start();
});
afterEach(async () => {
  bus.stop();
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

const put = (key: string): Promise<ChangeEntry[]> =>
  store.apply([{ kind: 'put', key, value: new Uint8Array([2]), format: 'text' }]);
const settle = async (): Promise<void> => {
  for (let i = 0; i < 10; i++) await new Promise((r) => setImmediate(r));
};

describe('ChangeBus', () => {
  it('starts after the newest committed revision', () => {
    expect(bus.lastDelivered).toBe(1);
  });

  it('delivers contiguous publishes in order, later, and drops the keys from the cache', async () => {
    const a = await put('a');
    const b = await put('b');
    bus.publish(a);
    bus.publish(b);
    expect(delivered).toEqual([]); // never inside the writer's call
    await settle();
    expect(delivered).toEqual([2, 3]);
    expect(invalidated).toEqual(['a', 'b']);
  });

  it('reorders, de-duplicates and fills gaps from the change log', async () => {
    const a = await put('a');
    const b = await put('b');
    const c = await put('c');
    bus.publish(c); // 2 and 3 are missing: read from the log
    bus.publish(a);
    bus.publish(c);
    await settle();
    bus.publish(b);
    await settle();
    expect(delivered).toEqual([2, 3, 4]);
  });

  it('reads up to a revision announced by another server', async () => {
    await put('a');
    await put('b');
    bus.notify(3);
    await settle();
    expect(delivered).toEqual([2, 3]);
    bus.notify(3); // its own announcement coming back
    await settle();
    expect(delivered).toEqual([2, 3]);
  });

  it('catches up on everything after a lost connection, across log pages', async () => {
    const small = new ChangeBus({ store, log: silentLogger, pageSize: 2 });
    await small.start();
    const got: number[] = [];
    small.subscribe((entries) => got.push(...entries.map((e) => e.revision)));
    for (const k of ['a', 'b', 'c', 'd', 'e']) await put(k);
    small.catchUp();
    await settle();
    expect(got).toEqual([2, 3, 4, 5, 6]);
    small.stop();
  });

  it('ignores publishes after stop', async () => {
    bus.stop();
    bus.publish(await put('a'));
    await settle();
    expect(delivered).toEqual([]);
  });
});

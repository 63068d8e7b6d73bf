import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Format } from '@stash/client';
import { KeyNotFoundError, RevisionConflictError, type Store, type WriteOp } from '../../src/storage/store.js';

/** A fresh, empty store for one test and how to dispose of it. */
export interface StoreFixture {
  store: Store;
  dispose(): Promise<void>;
}

const enc = new TextEncoder();
const dec = new TextDecoder();
const bytes = (s: string): Uint8Array => enc.encode(s);
const text = (v: Uint8Array | null | undefined): string | undefined => (v ? dec.decode(v) : undefined);
const put = (key: string, value: string | Uint8Array, format: Format = 'text', ifRevision?: number): WriteOp => ({
  kind: 'put',
  key,
  value: typeof value === 'string' ? bytes(value) : value,
  format,
  ifRevision,
});
const del = (key: string, ifRevision?: number): WriteOp => ({ kind: 'delete', key, ifRevision });
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function rejection(p: Promise<unknown>): Promise<unknown> {
  try {
    await p;
  } catch (error) {
    return error;
  }
  throw new Error('expected a rejection');
}

/** The storage contract every adapter must fulfil; run once per engine. */
export function describeStoreConformance(name: string, factory: () => Promise<StoreFixture>): void {
  describe(`Store conformance: ${name}`, () => {
    let fixture: StoreFixture;
    let store: Store;
    const write = async (...ops: WriteOp[]) => store.apply(ops, 'tester');
    const keysOf = async (prefix?: string) => (await store.list({ prefix })).map((m) => m.key).sort();

    beforeEach(async () => {
      fixture = await factory();
      store = fixture.store;
    });
    afterEach(async () => {
      await fixture.dispose();
    });

    it('gets, puts and deletes', async () => {
      expect(await store.get('a/b')).toBeUndefined();
      expect(await store.currentRevision()).toBe(0);
      const [created] = await write(put('a/b', 'one', 'json'));
      expect(created).toMatchObject({ revision: 1, key: 'a/b', action: 'create', format: 'json', actor: 'tester' });
      const got = await store.get('a/b');
      expect(got).toMatchObject({ key: 'a/b', format: 'json', revision: 1 });
      expect(text(got?.value)).toBe('one');
      const [deleted] = await write(del('a/b'));
      expect(deleted).toMatchObject({ revision: 2, action: 'delete', value: null });
      expect(await store.get('a/b')).toBeUndefined();
      expect(await store.currentRevision()).toBe(2);
    });

    it('keeps created_at on update and moves updated_at, both as real UTC instants', async () => {
      const before = Date.now();
      await write(put('k', 'v1'));
      const first = await store.get('k');
      await sleep(15); // a later clock reading, so updated_at can move
      const [updated] = await write(put('k', 'v2', 'yaml'));
      expect(updated?.action).toBe('update');
      const second = await store.get('k');
      expect(second?.createdAt.getTime()).toBe(first?.createdAt.getTime());
      expect(second!.updatedAt.getTime()).toBeGreaterThan(first!.updatedAt.getTime());
      // a time-zone slip would be off by whole hours
      expect(Math.abs(first!.createdAt.getTime() - before)).toBeLessThan(5_000);
      expect(second?.format).toBe('yaml');
      expect(text(second?.value)).toBe('v2');
    });

    it('advances the revision by one per write and never reuses one', async () => {
      const revs: number[] = [];
      for (const op of [put('a', '1'), put('b', '1'), del('a'), put('a', '2'), put('b', '2')]) {
        revs.push((await write(op))[0]!.revision);
      }
      expect(revs).toEqual([1, 2, 3, 4, 5]);
      await rejection(write(put('a', 'x', 'text', 1)));
      await rejection(write(del('missing')));
      expect(await store.currentRevision()).toBe(5);
      expect((await write(put('c', '1')))[0]?.revision).toBe(6);
      expect((await store.get('a'))?.revision).toBe(4);
    });

    it('applies conditional writes only on the expected revision', async () => {
      const absentConflict = await rejection(write(put('k', 'x', 'text', 7)));
      expect(absentConflict).toBeInstanceOf(RevisionConflictError);
      expect(absentConflict).toMatchObject({ key: 'k', currentRevision: 0 });
      expect((await write(put('k', 'v1', 'text', 0)))[0]?.revision).toBe(1);
      const exists = await rejection(write(put('k', 'again', 'text', 0)));
      expect(exists).toMatchObject({ name: 'RevisionConflictError', currentRevision: 1 });
      expect((await write(put('k', 'v2', 'text', 1)))[0]?.revision).toBe(2);
      const stale = await rejection(write(put('k', 'v3', 'text', 1)));
      expect(stale).toBeInstanceOf(RevisionConflictError);
      expect(stale).toMatchObject({ currentRevision: 2 });
      expect(text((await store.get('k'))?.value)).toBe('v2');
      expect(await rejection(write(del('k', 1)))).toMatchObject({ currentRevision: 2 });
      expect((await write(del('k', 2)))[0]?.action).toBe('delete');
      expect(await store.get('k')).toBeUndefined();
    });

    it('rejects a delete of a missing key with KeyNotFoundError', async () => {
      const error = await rejection(write(del('nope')));
      expect(error).toBeInstanceOf(KeyNotFoundError);
      expect(error).toMatchObject({ key: 'nope' });
    });

    it('applies a batch all or nothing, one revision per op', async () => {
      await write(put('held', 'h'));
      expect(await rejection(write(put('x', '1'), put('held', 'h2', 'text', 0)))).toBeInstanceOf(RevisionConflictError);
      expect(await rejection(write(put('y', '1'), del('ghost')))).toBeInstanceOf(KeyNotFoundError);
      expect(await store.get('x')).toBeUndefined();
      expect(await store.get('y')).toBeUndefined();
      expect(text((await store.get('held'))?.value)).toBe('h');
      expect(await store.currentRevision()).toBe(1);
      expect(await store.changesSince(1, 10)).toEqual([]);

      const entries = await write(put('x', '1'), put('x', '2'), del('held'), put('z', 'z', 'json', 0));
      expect(entries.map((e) => [e.revision, e.key, e.action])).toEqual([
        [2, 'x', 'create'],
        [3, 'x', 'update'],
        [4, 'held', 'delete'],
        [5, 'z', 'create'],
      ]);
      expect((await store.get('x'))?.revision).toBe(3);
      expect(await store.get('held')).toBeUndefined();
      expect(await store.apply([])).toEqual([]);
    });

    it('lists newest first and filters by a plain string prefix', async () => {
      const keys = ['app', 'app/x', 'apple', 'ap', 'xapp', 'app%1', 'ab', 'abc', 'a%', 'a_c', 'a*', 'aZ', 'bpp',
        'ключ/один', 'ключ/два', 'клю', '日本/東京', '😀/x', '😀😀', 'z\u{10FFFF}', '\u{10FFFF}a',
        '\u{D7FF}x', '\u{E000}'];
      for (const key of keys) await write(put(key, key));
      const listed = await store.list();
      expect(listed.map((m) => m.key)).toEqual([...keys].reverse());
      expect(listed.map((m) => m.revision)).toEqual(keys.map((_, i) => keys.length - i));
      expect(await keysOf('app')).toEqual(['app', 'app%1', 'app/x', 'apple']);
      expect(await keysOf('app/')).toEqual(['app/x']);
      expect(await keysOf('a%')).toEqual(['a%']);
      expect(await keysOf('a_')).toEqual(['a_c']);
      expect(await keysOf('a*')).toEqual(['a*']);
      expect(await keysOf('*')).toEqual([]);
      expect(await keysOf('ключ/')).toEqual(['ключ/два', 'ключ/один']);
      expect(await keysOf('клю')).toEqual(['клю', 'ключ/два', 'ключ/один']);
      expect(await keysOf('日本')).toEqual(['日本/東京']);
      expect(await keysOf('😀')).toEqual(['😀/x', '😀😀']);
      expect(await keysOf('z')).toEqual(['z\u{10FFFF}']);
      expect(await keysOf('\u{10FFFF}')).toEqual(['\u{10FFFF}a']);
      expect(await keysOf('\u{D7FF}')).toEqual(['\u{D7FF}x']); // the next code point is U+E000
      expect(await keysOf('nothing')).toEqual([]);
      expect(await keysOf('')).toEqual([...keys].sort());

      // an update moves the key to the front
      await write(put('ab', 'again'));
      expect((await store.list({ prefix: 'a' }))[0]?.key).toBe('ab');
    });

    it('reports the stored size and the zero-knowledge flag', async () => {
      await write(put('zk', '$ZK$abcdef'), put('bare', '$ZK$'), put('plain', 'héllo'), put('bin', new Uint8Array([0, 255, 1])));
      const meta = new Map((await store.list()).map((m) => [m.key, m]));
      expect(meta.get('zk')).toMatchObject({ size: 10, zkEncrypted: true });
      expect(meta.get('bare')).toMatchObject({ size: 4, zkEncrypted: false });
      expect(meta.get('plain')).toMatchObject({ size: 6, zkEncrypted: false, format: 'text' });
      expect(meta.get('bin')).toMatchObject({ size: 3, zkEncrypted: false });
    });

    it('exports values with the revision they were read at', async () => {
      await write(put('cfg/b', 'B', 'json'), put('cfg/a', 'A'), put('other', 'O'));
      await write(put('cfg/a', 'A2'));
      const all = await store.exportValues();
      expect(all.revision).toBe(4);
      expect(all.items.map((i) => i.key)).toEqual(['cfg/a', 'cfg/b', 'other']);
      const cfg = await store.exportValues('cfg/');
      expect(cfg.revision).toBe(4);
      expect(cfg.items.map((i) => [i.key, text(i.value), i.format, i.revision])).toEqual([
        ['cfg/a', 'A2', 'text', 4],
        ['cfg/b', 'B', 'json', 1],
      ]);
    });

    it('exports one consistent snapshot while writes run', async () => {
      const writes = Promise.all(Array.from({ length: 40 }, (_, i) => store.apply([put(`snap/${i}`, `${i}`)])));
      const exports: { revision: number; items: { revision: number }[] }[] = [];
      for (let i = 0; i < 10; i++) exports.push(await store.exportValues('snap/'));
      await writes;
      exports.push(await store.exportValues('snap/'));
      // every write creates a new key: the snapshot at revision R holds exactly the keys of 1..R
      for (const snapshot of exports) {
        expect(snapshot.items).toHaveLength(snapshot.revision);
        expect(Math.max(0, ...snapshot.items.map((i) => i.revision))).toBe(snapshot.revision);
      }
      expect(exports.at(-1)?.revision).toBe(40);
    });

    it('keeps history newest first with the actor', async () => {
      await store.apply([put('h', 'v1')], 'alice');
      await store.apply([put('other', 'x')], 'carol');
      await store.apply([put('h', 'v2', 'json')], 'bob');
      await store.apply([del('h')], '');
      const history = await store.history('h', 10);
      expect(history.map((e) => [e.revision, e.action, e.actor, text(e.value), e.format])).toEqual([
        [4, 'delete', '', undefined, 'text'],
        [3, 'update', 'bob', 'v2', 'json'],
        [1, 'create', 'alice', 'v1', 'text'],
      ]);
      expect(Math.abs(history[0]!.timestamp.getTime() - Date.now())).toBeLessThan(5_000);
      expect((await store.history('h', 2)).map((e) => e.revision)).toEqual([4, 3]);
      expect(await store.history('never', 10)).toEqual([]);
    });

    it('keeps one history across a delete and a re-create, in a batch too', async () => {
      await write(put('r', 'v1'));
      await write(del('r'));
      await write(put('r', 'v2'), put('s', 's1'));
      await write(del('r'), del('s'));
      await write(put('s', 's2'));
      expect((await store.history('r', 10)).map((e) => [e.revision, e.action, text(e.value)])).toEqual([
        [5, 'delete', undefined],
        [3, 'create', 'v2'],
        [2, 'delete', undefined],
        [1, 'create', 'v1'],
      ]);
      expect((await store.history('s', 10)).map((e) => [e.revision, e.action])).toEqual([
        [7, 'create'],
        [6, 'delete'],
        [4, 'create'],
      ]);
      expect(text((await store.getAt('r', 4))?.value)).toBe('v2');
      expect(await store.getAt('r', 2)).toBeUndefined();
      expect(text((await store.getAt('s', 5))?.value)).toBe('s1');
    });

    it('reads a key as of a revision', async () => {
      await write(put('k', 'v1'));
      await write(put('k', 'v2', 'json'));
      await write(put('other', 'o'));
      await write(del('k'));
      await write(put('k', 'v3'));
      expect(await store.getAt('k', 0)).toBeUndefined();
      expect(text((await store.getAt('k', 1))?.value)).toBe('v1');
      expect(await store.getAt('k', 2)).toMatchObject({ revision: 2, format: 'json' });
      expect(text((await store.getAt('k', 3))?.value)).toBe('v2');
      expect(await store.getAt('k', 4)).toBeUndefined();
      expect(text((await store.getAt('k', 5))?.value)).toBe('v3');
      expect(await store.getAt('unknown', 5)).toBeUndefined();
    });

    it('lists changes since a revision, oldest first', async () => {
      await store.apply([put('a', '1'), put('b', '1')], 'x');
      await store.apply([del('a')], 'y');
      await store.apply([put('c', '1', 'ini')], 'z');
      const changes = await store.changesSince(0, 100);
      expect(changes.map((c) => [c.revision, c.key, c.action, c.actor])).toEqual([
        [1, 'a', 'create', 'x'],
        [2, 'b', 'create', 'x'],
        [3, 'a', 'delete', 'y'],
        [4, 'c', 'create', 'z'],
      ]);
      expect((await store.changesSince(2, 1)).map((c) => c.revision)).toEqual([3]);
      expect(await store.changesSince(4, 10)).toEqual([]);
    });

    it('prunes history but keeps the newest entries of each key', async () => {
      expect(await store.oldestRetainedRevision()).toBe(1);
      for (let i = 1; i <= 15; i++) await write(put('busy', `v${i}`)); // revisions 1..15
      for (let i = 1; i <= 3; i++) await write(put('quiet', `q${i}`)); // 16..18
      expect(await store.pruneHistory(new Date(Date.now() - 60_000), 2)).toBe(0);
      expect(await store.oldestRetainedRevision()).toBe(1);
      expect(await store.pruneHistory(new Date(Date.now() + 60_000), 10)).toBe(5);
      expect((await store.history('busy', 100)).map((e) => e.revision)).toEqual(
        Array.from({ length: 10 }, (_, i) => 15 - i),
      );
      expect((await store.history('quiet', 100)).length).toBe(3);
      expect(await store.oldestRetainedRevision()).toBe(6);
      expect(await store.getAt('busy', 5)).toBeUndefined();
      expect(text((await store.getAt('busy', 6))?.value)).toBe('v6');
      expect(text((await store.get('busy'))?.value)).toBe('v15');
    });

    it('prunes a deleted key down to its newest entries, and its history still starts at the delete', async () => {
      for (let i = 1; i <= 4; i++) await write(put('gone', `g${i}`)); // 1..4
      await write(del('gone')); // 5
      await write(put('stay', 's')); // 6
      expect(await store.pruneHistory(new Date(Date.now() + 60_000), 2)).toBe(3);
      expect((await store.history('gone', 10)).map((e) => [e.revision, e.action])).toEqual([
        [5, 'delete'],
        [4, 'update'],
      ]);
      expect((await store.history('stay', 10)).map((e) => e.revision)).toEqual([6]);
      await write(put('gone', 'back')); // 7
      expect((await store.history('gone', 10)).map((e) => e.revision)).toEqual([7, 5, 4]);
      expect(await store.oldestRetainedRevision()).toBe(4);
    });

    it('round-trips binary values byte for byte', async () => {
      const all = Uint8Array.from({ length: 256 }, (_, i) => i);
      const invalidUtf8 = new Uint8Array([0xc3, 0x28, 0x00, 0xff, 0xfe, 0x80]);
      await write(put('bin/all', all), put('bin/bad', invalidUtf8), put('bin/empty', new Uint8Array(0)));
      expect(Buffer.compare(Buffer.from((await store.get('bin/all'))!.value), Buffer.from(all))).toBe(0);
      expect([...(await store.get('bin/bad'))!.value]).toEqual([...invalidUtf8]);
      expect((await store.get('bin/empty'))!.value.byteLength).toBe(0);
      expect([...(await store.history('bin/bad', 1))[0]!.value!]).toEqual([...invalidUtf8]);
      expect([...(await store.getAt('bin/all', 1))!.value]).toEqual([...all]);
      const exported = await store.exportValues('bin/');
      expect([...exported.items.find((i) => i.key === 'bin/all')!.value]).toEqual([...all]);
      expect((await store.list({ prefix: 'bin/' })).find((m) => m.key === 'bin/all')?.size).toBe(256);
    });

    it('makes revisions visible in order: a reader never sees a gap', async () => {
      let done = false;
      const writes = Promise.all(
        Array.from({ length: 40 }, (_, i) => store.apply([put(`seq/${i % 4}`, `${i}`)])),
      ).finally(() => (done = true));
      let reads = 0;
      while (!done || reads === 0) {
        const seen = (await store.changesSince(0, 1000)).map((c) => c.revision);
        expect(seen).toEqual(Array.from({ length: seen.length }, (_, i) => i + 1));
        reads++;
        await new Promise((r) => setImmediate(r)); // let the writers' I/O (and group commit) run
      }
      await writes;
      expect(await store.currentRevision()).toBe(40);
    });

    it('gives concurrent applies distinct consecutive revisions', async () => {
      const results = await Promise.all(
        Array.from({ length: 50 }, (_, i) => store.apply([put(`c/${i % 10}`, `v${i}`)], `w${i}`)),
      );
      const revisions = results.map((r) => r[0]!.revision).sort((a, b) => a - b);
      expect(revisions).toEqual(Array.from({ length: 50 }, (_, i) => i + 1));
      const log = await store.changesSince(0, 100);
      expect(log.map((c) => c.revision)).toEqual(revisions);
      for (let k = 0; k < 10; k++) {
        const newest = log.filter((c) => c.key === `c/${k}`).at(-1)!;
        expect(await store.get(`c/${k}`)).toMatchObject({ revision: newest.revision });
        expect(text((await store.get(`c/${k}`))?.value)).toBe(text(newest.value));
      }
      expect(await store.currentRevision()).toBe(50);
    });

    it('fails only the conflicting writes among concurrent ones, leaving no revision gap', async () => {
      await write(put('g/base', 'v0'));
      // every 4th write expects a revision the key never has; the others are unconditional
      const attempts = Array.from({ length: 40 }, (_, i) =>
        store.apply(i % 4 === 0 ? [put('g/base', `bad${i}`, 'text', 999), put(`g/side/${i}`, 'x')] : [put(`g/ok/${i}`, `v${i}`)]),
      );
      const settled = await Promise.allSettled(attempts);
      settled.forEach((r, i) => {
        if (i % 4 === 0) {
          expect(r.status).toBe('rejected');
          expect((r as PromiseRejectedResult).reason).toBeInstanceOf(RevisionConflictError);
        } else expect(r.status).toBe('fulfilled');
      });
      const log = await store.changesSince(0, 100);
      expect(log.map((c) => c.revision)).toEqual(Array.from({ length: 31 }, (_, i) => i + 1));
      expect(await keysOf('g/side/')).toEqual([]);
      expect(text((await store.get('g/base'))?.value)).toBe('v0');
      expect(await store.currentRevision()).toBe(31);
    });
  });
}

import { join } from 'node:path';
import { rmSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { SqliteStore } from '../../src/storage/sqlite-store.js';
import { makeTempDir } from '../helpers/test-server.js';

const enc = (s: string): Uint8Array => new TextEncoder().encode(s);
const text = (v: Uint8Array | undefined): string | undefined => (v ? new TextDecoder().decode(v) : undefined);
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe('SQLite row cache', () => {
  const dirs: string[] = [];
  const stores: SqliteStore[] = [];
  const open = (path: string, rowCache?: number): SqliteStore => {
    const s = new SqliteStore({ path, rowCache });
    stores.push(s);
    return s;
  };
  const file = (): string => {
    const dir = makeTempDir();
    dirs.push(dir);
    return join(dir, 'stash.db');
  };

  afterEach(async () => {
    for (const s of stores.splice(0)) await s.close();
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });

  it('serves our own writes at once after they commit', async () => {
    const store = open(file());
    await store.apply([{ kind: 'put', key: 'k', value: enc('one'), format: 'text' }]);
    expect(text((await store.get('k'))?.value)).toBe('one');
    await store.apply([{ kind: 'put', key: 'k', value: enc('two'), format: 'json' }]);
    const after = await store.get('k');
    expect(text(after?.value)).toBe('two');
    expect(after?.format).toBe('json');
    await store.apply([{ kind: 'delete', key: 'k' }]);
    expect(await store.get('k')).toBeUndefined();
  });

  it('sees commits of another connection to the same file', async () => {
    const path = file();
    const server = open(path);
    const other = open(path, 0);
    await server.apply([{ kind: 'put', key: 'k', value: enc('one'), format: 'text' }]);
    expect(text((await server.get('k'))?.value)).toBe('one'); // now cached
    await other.apply([{ kind: 'put', key: 'k', value: enc('from elsewhere'), format: 'text' }]);
    await sleep(5); // past the data_version re-check window
    expect(text((await server.get('k'))?.value)).toBe('from elsewhere');
    await other.apply([{ kind: 'delete', key: 'k' }]);
    await sleep(5);
    expect(await server.get('k')).toBeUndefined();
  });

  it('serves large values correctly without keeping them', async () => {
    const store = open(file());
    const big = 'x'.repeat(100_000);
    await store.apply([{ kind: 'put', key: 'big', value: enc(big), format: 'text' }]);
    expect(text((await store.get('big'))?.value)).toBe(big);
    await store.apply([{ kind: 'put', key: 'big', value: enc(`${big}!`), format: 'text' }]);
    expect(text((await store.get('big'))?.value)).toBe(`${big}!`);
  });

  it('keeps at most the configured number of rows and can be turned off', async () => {
    const path = file();
    const small = open(path, 2);
    await small.apply(['a', 'b', 'c'].map((key) => ({ kind: 'put' as const, key, value: enc(key), format: 'text' as const })));
    for (const key of ['a', 'b', 'c', 'a']) expect(text((await small.get(key))?.value)).toBe(key);
    const uncached = open(path, 0);
    expect(text((await uncached.get('b'))?.value)).toBe('b');
  });
});

import { describe, expect, it } from 'vitest';
import type { ListedKey } from '../../src/domain/kv-service.js';
import { ListCache } from '../../src/http/list-cache.js';

const item = (key: string): ListedKey => ({
  key,
  size: 1,
  format: 'text',
  secret: false,
  zkEncrypted: false,
  createdAt: new Date(0),
  updatedAt: new Date(0),
  revision: 1,
});

/** A cache over a fixed revision, counting how often each prefix is read from the "store". */
function harness(): { cache: ListCache; reads: Map<string, number>; list(prefix: string, canRead?: (k: string) => boolean): Promise<string> } {
  const cache = new ListCache();
  const reads = new Map<string, number>();
  return {
    cache,
    reads,
    list: (prefix, canRead = () => true) =>
      cache.body(
        prefix,
        'all',
        () => Promise.resolve(7),
        () => {
          reads.set(prefix, (reads.get(prefix) ?? 0) + 1);
          return Promise.resolve([item(`${prefix}a`), item(`${prefix}b`)]);
        },
        canRead,
      ),
  };
}

describe('list cache admission', () => {
  it('keeps a list from its second request and answers the same bytes cached or not', async () => {
    const h = harness();
    const first = await h.list('app/');
    const second = await h.list('app/');
    const third = await h.list('app/');
    expect(h.reads.get('app/')).toBe(2); // the third came from the cache
    expect(new Set([first, second, third]).size).toBe(1);
    expect(JSON.parse(first)).toHaveLength(2);
    // permissions still filter a cached list per caller
    expect(JSON.parse(await h.list('app/', (k) => k.endsWith('b')))).toHaveLength(1);
    expect(h.reads.get('app/')).toBe(2);
  });

  it('does not store a scan over more prefixes than it keeps, and keeps a hot one through it', async () => {
    const h = harness();
    await h.list('hot/');
    await h.list('hot/');
    for (let round = 0; round < 3; round++) {
      for (let i = 0; i < 100; i++) {
        await h.list(`scan/${i}/`);
        if (i % 10 === 0) await h.list('hot/');
      }
    }
    expect(h.reads.get('hot/')).toBe(2); // never evicted by the scan
    for (let i = 0; i < 100; i++) expect(h.reads.get(`scan/${i}/`)).toBe(3); // read each time, never stored
  });
});

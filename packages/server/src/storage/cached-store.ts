import { LRUCache } from 'lru-cache';
import type { Metrics } from '../metrics/metrics.js';
import type { ChangeEntry, ExportResult, KeyMeta, KeyRecord, ListOptions, Store, WriteOp } from './store.js';

export interface CachedStoreOptions {
  /** most keys held at once (`--cache.max-keys`), least recently read evicted first */
  maxKeys: number;
  /** counts lookups as `stash_cache_requests_total{result="hit"|"miss"}` */
  metrics?: Metrics | undefined;
}

/**
 * Read cache in front of a Store (`--cache.enabled`): single-key reads of existing keys are
 * served from memory; every key a write names is dropped once the write settles. Lists, exports,
 * history and point-in-time reads always go to the store. Writes made by other servers on a
 * shared database must be reported through `invalidate()`.
 */
export class CachedStore implements Store {
  readonly engine: Store['engine'];
  private readonly cache: LRUCache<string, KeyRecord>;
  // bumped by every invalidation: a read that overlapped one may hold an old value, so it is not kept
  private generation = 0;

  constructor(
    readonly inner: Store,
    private readonly options: CachedStoreOptions,
  ) {
    if (!Number.isInteger(options.maxKeys) || options.maxKeys < 1) {
      throw new Error(`--cache.max-keys must be a positive integer, got ${options.maxKeys}`);
    }
    this.engine = inner.engine;
    this.cache = new LRUCache({ max: options.maxKeys });
  }

  peek(key: string): KeyRecord | undefined {
    const cached = this.cache.get(key);
    if (cached) {
      this.options.metrics?.cacheRequests.inc({ result: 'hit' });
      return cached;
    }
    return this.inner.peek?.(key); // a miss is counted by the get() that follows
  }

  async get(key: string): Promise<KeyRecord | undefined> {
    const cached = this.cache.get(key);
    this.options.metrics?.cacheRequests.inc({ result: cached ? 'hit' : 'miss' });
    if (cached) return cached;
    const generation = this.generation;
    const record = await this.inner.get(key);
    if (record && generation === this.generation) this.cache.set(key, record);
    return record;
  }

  async apply(ops: readonly WriteOp[], actor?: string): Promise<ChangeEntry[]> {
    try {
      return await this.inner.apply(ops, actor);
    } finally {
      // also after a failure: the outcome of a write that failed late (e.g. at commit) is unknown
      this.invalidate(ops.map((op) => op.key));
    }
  }

  /** Forget these keys, e.g. when another server changed them. */
  invalidate(keys: readonly string[]): void {
    this.generation++;
    for (const key of keys) this.cache.delete(key);
  }

  list(options?: ListOptions): Promise<KeyMeta[]> {
    return this.inner.list(options);
  }
  exportValues(prefix?: string): Promise<ExportResult> {
    return this.inner.exportValues(prefix);
  }
  history(key: string, limit: number): Promise<ChangeEntry[]> {
    return this.inner.history(key, limit);
  }
  getAt(key: string, revision: number): Promise<KeyRecord | undefined> {
    return this.inner.getAt(key, revision);
  }
  changesSince(after: number, limit: number): Promise<ChangeEntry[]> {
    return this.inner.changesSince(after, limit);
  }
  currentRevision(): Promise<number> {
    return this.inner.currentRevision();
  }
  oldestRetainedRevision(): Promise<number> {
    return this.inner.oldestRetainedRevision();
  }
  pruneHistory(before: Date, keepPerKey: number): Promise<number> {
    return this.inner.pruneHistory(before, keepPerKey);
  }
  close(): Promise<void> {
    this.cache.clear();
    return this.inner.close();
  }
}

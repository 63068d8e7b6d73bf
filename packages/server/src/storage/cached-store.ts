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
 * history and point-in-time reads always go to the store.
 *
 * When other processes write to the same database (a store with `fence()`: PostgreSQL), the
 * cache only answers linearizably: a read first waits for a fence (the database revision, read
 * by a query that started after the read began, shared by concurrent reads) and is served from
 * memory only when every change up to that revision has been applied here (`applied()`, fed by
 * the change bus); otherwise it reads through. `peekStale()` skips the fence for callers that
 * accept bounded staleness (`?consistency=serializable`).
 */
export class CachedStore implements Store {
  readonly engine: Store['engine'];
  private readonly cache: LRUCache<string, KeyRecord>;
  // bumped by every invalidation: a read that overlapped one may hold an old value, so it is not kept
  private generation = 0;
  /** every change up to this revision has been invalidated here (-1: not known yet) */
  private appliedRevision = -1;
  /** when this cache last knew it had applied everything the database held (ms since epoch) */
  private confirmedAt = 0;
  private readonly fenced: boolean;
  // label slots bound once: a hit is the hot path
  private readonly hits: { inc(): void } | undefined;
  private readonly misses: { inc(): void } | undefined;
  readonly fence: Store['fence'];

  constructor(
    readonly inner: Store,
    private readonly options: CachedStoreOptions,
  ) {
    if (!Number.isInteger(options.maxKeys) || options.maxKeys < 1) {
      throw new Error(`--cache.max-keys must be a positive integer, got ${options.maxKeys}`);
    }
    this.engine = inner.engine;
    this.fence = inner.fence?.bind(inner);
    this.fenced = this.fence !== undefined;
    this.cache = new LRUCache({ max: options.maxKeys });
    this.hits = options.metrics?.cacheRequests.labels('hit');
    this.misses = options.metrics?.cacheRequests.labels('miss');
  }

  /** Synchronous hit; on a shared database never (a hit needs a fence first): ask get(). */
  peek(key: string): KeyRecord | undefined {
    if (this.fenced) return undefined;
    const cached = this.cache.get(key);
    if (cached) {
      this.hits?.inc();
      return cached;
    }
    return this.inner.peek?.(key); // a miss is counted by the get() that follows
  }

  /** A held copy without a fence: behind other servers' writes by at most `stalenessSeconds()`. */
  peekStale(key: string): KeyRecord | undefined {
    const cached = this.cache.get(key);
    if (cached) this.hits?.inc();
    return cached ?? this.inner.peek?.(key);
  }

  async get(key: string): Promise<KeyRecord | undefined> {
    if (this.fenced && this.cache.has(key)) {
      const startedAt = Date.now();
      const revision = await (this.fence as () => Promise<number>)();
      if (this.appliedRevision >= revision) {
        this.confirmedAt = Math.max(this.confirmedAt, startedAt);
        const cached = this.cache.get(key);
        if (cached) {
          this.hits?.inc();
          return cached;
        }
      }
    } else if (!this.fenced) {
      const cached = this.cache.get(key);
      if (cached) {
        this.hits?.inc();
        return cached;
      }
    }
    this.misses?.inc();
    // a read through that overlapped no invalidation holds every change applied so far, so it
    // may be kept: later changes to its key are still to be applied, and will drop it
    const generation = this.generation;
    const record = await this.inner.get(key);
    if (record && generation === this.generation && (!this.fenced || this.appliedRevision >= 0)) this.cache.set(key, record);
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

  /** Forget everything (changes were skipped, e.g. pruned before they were read). */
  invalidateAll(): void {
    this.generation++;
    this.cache.clear();
  }

  /** The change bus has invalidated every change up to `revision`. */
  applied(revision: number): void {
    if (revision > this.appliedRevision) this.appliedRevision = revision;
  }

  /** A read of the change log that started at `at` found nothing beyond what is applied. */
  caughtUp(at: number): void {
    this.confirmedAt = Math.max(this.confirmedAt, at);
  }

  /** How far behind a `peekStale()` answer may be: 0 where only this process writes. */
  stalenessSeconds(now = Date.now()): number {
    if (!this.fenced) return 0;
    return this.confirmedAt === 0 ? Infinity : Math.max(0, now - this.confirmedAt) / 1000;
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

import type { Metrics } from '../metrics/metrics.js';
import {
  KeyNotFoundError,
  RevisionConflictError,
  type ChangeEntry,
  type ExportResult,
  type KeyMeta,
  type KeyRecord,
  type ListOptions,
  type Store,
  type WriteOp,
} from './store.js';

type KvOp = 'get' | 'put' | 'delete' | 'list' | 'batch' | 'history' | 'export';
type KvResult = 'ok' | 'not_found' | 'conflict' | 'error';

function resultOf(error: unknown): KvResult {
  if (error instanceof RevisionConflictError) return 'conflict';
  if (error instanceof KeyNotFoundError) return 'not_found';
  return 'error';
}

/** A single write is `put` or `delete`; several in one transaction are a `batch`. */
function writeKind(ops: readonly WriteOp[]): KvOp {
  return ops.length === 1 && ops[0] ? ops[0].kind : 'batch';
}

/**
 * Store decorator feeding the metrics: storage latency per method (`stash_db_operation_duration_seconds`),
 * KV operations by kind and result (`stash_kv_operations_total`) and the newest revision (`stash_revision`).
 * It sits between the KV service and the adapter, so conflicts and misses are counted where they happen.
 */
export class MeteredStore implements Store {
  private lastRevision = 0;
  readonly fence: Store['fence'];

  constructor(
    private readonly inner: Store,
    private readonly metrics: Metrics,
  ) {
    this.getTiming = metrics.dbDuration.bind({ op: 'get' });
    this.getFound = metrics.kvOperations.bind({ op: 'get', result: 'ok' });
    this.getMissing = metrics.kvOperations.bind({ op: 'get', result: 'not_found' });
    // one fence query serves a whole batch of reads: timing each waiter would measure the batch, not the database
    this.fence = inner.fence?.bind(inner);
  }

  get engine(): Store['engine'] {
    return this.inner.engine;
  }

  private async kv<T>(op: KvOp, dbOp: string, work: () => Promise<T>, found?: (value: T) => boolean): Promise<T> {
    const end = this.metrics.dbDuration.startTimer({ op: dbOp });
    try {
      const value = await work();
      this.metrics.kvOperations.inc({ op, result: found && !found(value) ? 'not_found' : 'ok' });
      return value;
    } catch (error) {
      this.metrics.kvOperations.inc({ op, result: resultOf(error) });
      throw error;
    } finally {
      end();
    }
  }

  // the GET hot path: no async wrapper, no closures, label slots bound once
  private readonly getTiming: { observe(value: number): void };
  private readonly getFound: { inc(): void };
  private readonly getMissing: { inc(): void };

  /** A memory hit counts as a found get; it has no storage latency to record. */
  peek(key: string): KeyRecord | undefined {
    const record = this.inner.peek?.(key);
    if (record) this.getFound.inc();
    return record;
  }

  get(key: string): Promise<KeyRecord | undefined> {
    const start = performance.now();
    return this.inner.get(key).then(
      (record) => {
        this.getTiming.observe((performance.now() - start) / 1000);
        (record ? this.getFound : this.getMissing).inc();
        return record;
      },
      (error: unknown) => {
        this.getTiming.observe((performance.now() - start) / 1000);
        this.metrics.kvOperations.inc({ op: 'get', result: resultOf(error) });
        throw error;
      },
    );
  }

  getAt(key: string, revision: number): Promise<KeyRecord | undefined> {
    return this.kv('get', 'get_at', () => this.inner.getAt(key, revision), (r) => r !== undefined);
  }

  list(options?: ListOptions): Promise<KeyMeta[]> {
    return this.kv('list', 'list', () => this.inner.list(options));
  }

  exportValues(prefix?: string): Promise<ExportResult> {
    return this.kv('export', 'export', () => this.inner.exportValues(prefix));
  }

  async apply(ops: readonly WriteOp[], actor?: string): Promise<ChangeEntry[]> {
    const entries = await this.kv(writeKind(ops), 'apply', () => this.inner.apply(ops, actor));
    this.noteRevision(entries[entries.length - 1]?.revision ?? 0);
    return entries;
  }

  history(key: string, limit: number): Promise<ChangeEntry[]> {
    return this.kv('history', 'history', () => this.inner.history(key, limit));
  }

  changesSince(after: number, limit: number): Promise<ChangeEntry[]> {
    return this.metrics.timeDb('changes_since', () => this.inner.changesSince(after, limit));
  }

  async currentRevision(): Promise<number> {
    const revision = await this.metrics.timeDb('current_revision', () => this.inner.currentRevision());
    this.noteRevision(revision);
    return revision;
  }

  oldestRetainedRevision(): Promise<number> {
    return this.metrics.timeDb('oldest_retained_revision', () => this.inner.oldestRetainedRevision());
  }

  pruneHistory(before: Date, keepPerKey: number): Promise<number> {
    return this.metrics.timeDb('prune_history', () => this.inner.pruneHistory(before, keepPerKey));
  }

  close(): Promise<void> {
    return this.inner.close();
  }

  /** Concurrent groups may resolve out of order, and the gauge only moves forward. */
  private noteRevision(revision: number): void {
    if (revision <= this.lastRevision) return;
    this.lastRevision = revision;
    this.metrics.revision.set(revision);
  }
}

import type { Logger } from '../logger.js';
import type { AuditFilter, AuditPage, AuditRecord, AuditStore } from './audit-store.js';

export interface AuditLogOptions {
  /** rows older than this are deleted at start and hourly; 0 keeps everything */
  retentionMs: number;
  /** the most entries one query returns (`--audit.query-limit`) */
  queryLimit: number;
  /** how long rows wait in memory before they are written together; default 50 ms */
  flushDelayMs?: number | undefined;
}

const FLUSH_AT = 256;
// rows accepted but not yet stored; past this (a database far slower than the traffic) new
// rows are dropped and counted rather than growing memory without bound
const MAX_BACKLOG = 10_000;
const HOUR_MS = 3_600_000;

/**
 * The audit log: requests hand over their row and go on; rows are written in batches (one
 * transaction, one fsync per batch) so auditing never puts a disk flush on every read.
 * Queries write what is pending first, so an answer includes every finished request.
 */
export class AuditLog {
  readonly queryLimit: number;
  private pending: AuditRecord[] = [];
  private backlog = 0;
  private dropped = 0;
  private timer: NodeJS.Timeout | undefined;
  private writing: Promise<void> = Promise.resolve();
  private readonly inFlight = new Set<Promise<unknown>>();
  private retentionTimer: NodeJS.Timeout | undefined;
  private closed = false;
  private readonly flushDelayMs: number;

  constructor(
    private readonly store: AuditStore,
    private readonly log: Logger,
    private readonly options: AuditLogOptions,
  ) {
    this.queryLimit = options.queryLimit > 0 ? options.queryLimit : 10_000;
    this.flushDelayMs = options.flushDelayMs ?? 50;
  }

  /** Delete expired rows now and every hour after (when retention is on). */
  async startRetention(): Promise<void> {
    if (this.options.retentionMs <= 0) return;
    await this.prune();
    this.retentionTimer = setInterval(() => void this.prune(), HOUR_MS);
    this.retentionTimer.unref();
  }

  /** Delete rows older than the retention period; failures are logged, never thrown. */
  async prune(now = new Date()): Promise<number> {
    try {
      const removed = await this.store.deleteBefore(new Date(now.getTime() - this.options.retentionMs));
      if (removed > 0) this.log.info(`audit: removed ${removed} entries past retention`);
      return removed;
    } catch (error) {
      this.log.error(`audit: retention cleanup failed: ${String(error)}`);
      return 0;
    }
  }

  record(entry: AuditRecord): void {
    if (this.closed) return;
    if (this.backlog >= MAX_BACKLOG) {
      this.dropped++;
      return;
    }
    this.backlog++;
    this.pending.push(entry);
    if (this.pending.length >= FLUSH_AT) void this.flush();
    else this.timer ??= setTimeout(() => void this.flush(), this.flushDelayMs);
  }

  /** Keep close() waiting for a row that is still being put together (e.g. a session lookup). */
  track(work: Promise<unknown>): void {
    this.inFlight.add(work);
    void work.finally(() => this.inFlight.delete(work));
  }

  /** Write every pending row; resolves when they are stored (or the failure is logged). */
  flush(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    const batch = this.pending;
    this.pending = [];
    if (batch.length > 0) {
      this.writing = this.writing
        .then(() => this.store.insert(batch))
        .catch((error: unknown) => {
          this.log.error(`audit: could not write ${batch.length} entries: ${String(error)}`);
        })
        .finally(() => {
          this.backlog -= batch.length;
          if (this.dropped > 0) {
            this.log.error(`audit: dropped ${this.dropped} entries while the database was behind`);
            this.dropped = 0;
          }
        });
    }
    return this.writing;
  }

  /** Entries matching `filter`, newest first; `limit` <= 0 or above the query limit means the query limit. */
  async query(filter: AuditFilter, limit: number, offset = 0): Promise<{ page: AuditPage; limit: number }> {
    const effective = limit <= 0 || limit > this.queryLimit ? this.queryLimit : limit;
    await this.flush();
    return { page: await this.store.query(filter, effective, Math.max(0, offset)), limit: effective };
  }

  /** Stop the timers and write what the last requests left; call before the store closes. */
  async close(): Promise<void> {
    if (this.retentionTimer) clearInterval(this.retentionTimer);
    await Promise.allSettled([...this.inFlight]);
    this.closed = true;
    await this.flush();
  }
}

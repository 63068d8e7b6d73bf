import type { ChangePublisher } from '../domain/ports.js';
import type { Logger } from '../logger.js';
import type { ChangeEntry, Store } from '../storage/store.js';

/** Something that keeps copies of values and must forget changed keys (the read cache). */
export interface KeyInvalidator {
  invalidate(keys: readonly string[]): void;
  /** forget everything: changes were skipped (the log was pruned before they were read) */
  invalidateAll?(): void;
  /** every change up to `revision` has been passed to invalidate() */
  applied?(revision: number): void;
  /** a read of the change log that started at `at` (ms) found nothing more to deliver */
  caughtUp?(at: number): void;
}

/** Receives committed changes, always in revision order, each revision exactly once. */
export type ChangeListener = (entries: readonly ChangeEntry[]) => void;

export interface ChangeBusOptions {
  store: Pick<Store, 'changesSince' | 'currentRevision'>;
  log: Logger;
  invalidator?: KeyInvalidator | undefined;
  /** change-log page size when catching up */
  pageSize?: number;
  /** delay before retrying a failed change-log read */
  retryMs?: number;
}

const CATCH_UP_ALL = Number.MAX_SAFE_INTEGER;

/**
 * In-process fan-out of committed changes. It is a sequencer: whatever arrives (local publishes,
 * out of order or with gaps, or a "revision N exists" hint from another server) is delivered to
 * listeners strictly in revision order with no gap and no repeat, filling gaps from the change
 * log. Contiguous local publishes take the fast path without touching the store. Delivery runs
 * on a later tick, so a writer never waits for listeners.
 */
export class ChangeBus implements ChangePublisher {
  private readonly listeners = new Set<ChangeListener>();
  private readonly store: ChangeBusOptions['store'];
  private readonly log: Logger;
  private readonly invalidator: KeyInvalidator | undefined;
  private readonly pageSize: number;
  private readonly retryMs: number;
  private pending: ChangeEntry[] = [];
  /** highest revision known to exist that may not be delivered yet */
  private wanted = 0;
  private last = 0;
  private scheduled = false;
  private running = false;
  private stopped = false;
  private retryTimer: NodeJS.Timeout | undefined;

  constructor(options: ChangeBusOptions) {
    this.store = options.store;
    this.log = options.log;
    this.invalidator = options.invalidator;
    this.pageSize = options.pageSize ?? 500;
    this.retryMs = options.retryMs ?? 1000;
  }

  /** Start after the newest committed revision; earlier changes are history, not news. */
  async start(): Promise<void> {
    this.last = await this.store.currentRevision();
    this.wanted = Math.max(this.wanted, this.last);
    this.invalidator?.applied?.(this.last);
  }

  /** The newest revision handed to listeners. */
  get lastDelivered(): number {
    return this.last;
  }

  /** Add a listener; returns its removal. */
  subscribe(listener: ChangeListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** ChangePublisher: called by the KV service after every committed write on this server. */
  publish(changes: readonly ChangeEntry[]): void {
    if (this.stopped || changes.length === 0) return;
    for (const c of changes) this.pending.push(c);
    this.schedule();
  }

  /** Revision `revision` was committed somewhere (another server): read the log up to it. */
  notify(revision: number): void {
    if (this.stopped || !Number.isSafeInteger(revision)) return;
    this.wanted = Math.max(this.wanted, revision);
    this.schedule();
  }

  /** Read whatever the log holds after the last delivered revision (after a lost connection). */
  catchUp(): void {
    this.notify(CATCH_UP_ALL);
  }

  /**
   * Resolves once everything published or notified so far has been handed to the listeners, or
   * after `maxMs` (a change-log read that hangs must not hold a shutdown).
   */
  async settle(maxMs = 1000): Promise<void> {
    const deadline = Date.now() + maxMs;
    while ((this.scheduled || this.running) && !this.stopped && Date.now() < deadline) {
      // a scheduled run goes on the next turn; a running one may wait for the database
      await new Promise((resolve) => (this.running ? setTimeout(resolve, 1) : setImmediate(resolve)));
    }
  }

  stop(): void {
    this.stopped = true;
    this.pending = [];
    clearTimeout(this.retryTimer);
    this.listeners.clear();
  }

  private schedule(): void {
    if (this.scheduled || this.running || this.stopped) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      void this.run();
    });
  }

  private async run(): Promise<void> {
    this.running = true;
    try {
      while (!this.stopped && (this.pending.length > 0 || this.wanted > this.last)) {
        const batch = this.takePending();
        if (batch.length > 0 && batch[0]?.revision === this.last + 1 && this.isContiguous(batch)) {
          this.deliver(batch);
          continue;
        }
        const top = batch.at(-1)?.revision ?? 0;
        this.wanted = Math.max(this.wanted, top);
        await this.readLog();
      }
    } catch (error) {
      this.log.warn(`change stream: reading the change log failed, retrying: ${String(error)}`);
      this.retryTimer = setTimeout(() => this.schedule(), this.retryMs);
      this.retryTimer.unref();
    } finally {
      this.running = false;
    }
  }

  /** Queued publishes above the delivered revision, sorted, duplicates dropped. */
  private takePending(): ChangeEntry[] {
    const batch = this.pending.filter((c) => c.revision > this.last);
    this.pending = [];
    batch.sort((a, b) => a.revision - b.revision);
    return batch.filter((c, i) => i === 0 || c.revision !== batch[i - 1]?.revision);
  }

  private isContiguous(batch: readonly ChangeEntry[]): boolean {
    return batch.every((c, i) => i === 0 || c.revision === (batch[i - 1]?.revision ?? 0) + 1);
  }

  private async readLog(): Promise<void> {
    while (!this.stopped && this.last < this.wanted) {
      const startedAt = Date.now();
      const page = await this.store.changesSince(this.last, this.pageSize);
      if (this.stopped) return;
      if (page.length > 0) this.deliver(page);
      if (page.length < this.pageSize) {
        // everything visible is delivered; a larger hint was a catch-up request or not yet visible
        this.wanted = this.last;
        this.invalidator?.caughtUp?.(startedAt);
        return;
      }
    }
  }

  private deliver(entries: readonly ChangeEntry[]): void {
    const gap = (entries[0]?.revision ?? this.last + 1) !== this.last + 1;
    this.last = entries.at(-1)?.revision ?? this.last;
    if (gap && this.invalidator?.invalidateAll) this.invalidator.invalidateAll();
    else this.invalidator?.invalidate(entries.map((e) => e.key));
    this.invalidator?.applied?.(this.last);
    for (const listener of this.listeners) {
      try {
        listener(entries);
      } catch (error) {
        this.log.error(`change listener failed: ${String(error)}`);
      }
    }
  }
}

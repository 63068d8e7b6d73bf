import type { Socket } from 'node:net';
import type { Metrics } from '../metrics/metrics.js';
import type { ChangeEntry } from '../storage/store.js';
import { eventBytes, formatChangeEvent, type EventBytes } from './sse-wire.js';
import type { SseSubscriber, SubscriberCounters } from './sse-subscriber.js';

/** How long committed changes are gathered before fan-out, and how many at most. */
const COALESCE_MS = 2;
const MAX_PENDING = 512;

export interface SseHubOptions {
  /** interval of `: ping` comments; 0 disables them */
  heartbeatMs: number;
  metrics?: Metrics | undefined;
}

/**
 * Every open change stream of this server: fans each committed change out to the matching
 * subscribers (formatting each event once), sends the heartbeat on one shared timer, and ends
 * all streams on shutdown.
 */
export class SseHub {
  private readonly subscribers = new Set<SseSubscriber>();
  private readonly metrics: Metrics | undefined;
  private readonly timer: NodeJS.Timeout | undefined;
  private closing = false;
  readonly counters: SubscriberCounters;

  constructor(options: SseHubOptions) {
    this.metrics = options.metrics;
    this.counters = {
      sent: () => this.metrics?.sseEventsSent.inc(),
      dropped: () => this.metrics?.sseEventsDropped.inc(),
    };
    if (options.heartbeatMs > 0) {
      this.timer = setInterval(() => {
        for (const sub of this.subscribers) sub.heartbeat();
      }, options.heartbeatMs);
      this.timer.unref();
    }
  }

  /** Number of open streams. */
  get size(): number {
    return this.subscribers.size;
  }

  /** True once shutdown began; new subscriptions are refused. */
  get isClosing(): boolean {
    return this.closing;
  }

  add(sub: SseSubscriber): void {
    if (!sub.isOpen) return;
    this.subscribers.add(sub);
    this.metrics?.sseSubscribers.set(this.subscribers.size);
    sub.onClose(() => {
      this.subscribers.delete(sub);
      this.metrics?.sseSubscribers.set(this.subscribers.size);
    });
  }

  /** Changes received and not yet written: fan-out runs at most every COALESCE_MS. */
  private pending: ChangeEntry[] = [];
  private flushTimer: NodeJS.Timeout | undefined;

  /**
   * Bus listener: committed changes in revision order. They are gathered for up to COALESCE_MS
   * (or MAX_PENDING changes) and written together: each subscriber then gets one socket write
   * for all of them instead of one per group commit, which is what fan-out costs (bench/README.md).
   */
  readonly deliver = (entries: readonly ChangeEntry[]): void => {
    if (this.subscribers.size === 0) return;
    for (const entry of entries) this.pending.push(entry);
    if (this.pending.length >= MAX_PENDING) this.flush();
    else this.flushTimer ??= setTimeout(this.flush, COALESCE_MS);
  };

  private readonly flush = (): void => {
    clearTimeout(this.flushTimer);
    this.flushTimer = undefined;
    const entries = this.pending;
    this.pending = [];
    if (entries.length > 0) this.fanOut(entries);
  };

  private fanOut(entries: readonly ChangeEntry[]): void {
    // several changes at once: each subscriber's are written together, in one socket write
    const corked = entries.length > 1 ? new Set<Socket>() : undefined;
    try {
      for (const entry of entries) {
        let bytes: EventBytes | undefined;
        const format = (): EventBytes => (bytes ??= eventBytes(formatChangeEvent(entry)));
        for (const sub of this.subscribers) sub.offer(entry, format, corked);
      }
    } finally {
      if (corked) for (const socket of corked) socket.uncork();
    }
  }

  /**
   * End every stream so clients reconnect (to another server, or this one after a restart).
   * Streams whose client does not take the end within `graceMs` (stalled sockets) are destroyed.
   */
  async close(graceMs = 1000): Promise<void> {
    this.closing = true;
    clearInterval(this.timer);
    this.flush(); // what was committed before the end reaches the streams first
    if (this.subscribers.size === 0) return;
    const all = [...this.subscribers];
    const gone = Promise.all(all.map((sub) => new Promise<void>((resolve) => sub.onClose(resolve))));
    for (const sub of all) sub.end();
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, graceMs);
    });
    await Promise.race([gone, timeout]);
    clearTimeout(timer);
    for (const sub of this.subscribers) sub.destroy();
  }
}

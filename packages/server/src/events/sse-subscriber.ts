import type { ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { Principal } from '../shared/access.js';
import type { ChangeEntry } from '../storage/store.js';
import {
  HEARTBEAT_BYTES,
  eventBytes,
  formatChangeEvent,
  formatResetEvent,
  matchesFilter,
  type EventBytes,
  type StreamFilter,
} from './sse-wire.js';

/** Counters a subscriber reports to (the server's Metrics, or nothing). */
export interface SubscriberCounters {
  sent(): void;
  dropped(): void;
}

export interface SseSubscriberOptions {
  filter: StreamFilter;
  principal: Principal;
  /** events held or queued before the subscriber is disconnected (--sse.buffer) */
  buffer: number;
  counters: SubscriberCounters;
}

/** Why a subscriber that stopped reading is cut (one shared error: it is never thrown). */
const FELL_BEHIND = Object.assign(new Error('change stream subscriber fell behind and was cut'), { code: 'ESTASHBEHIND' });

/**
 * One open change stream. It starts in `replay` state, holding live events (bounded) while the
 * handler replays the change log, then goes live. Every write is one complete event. When the
 * socket stops draining, events queue up to `buffer`; one more and the subscriber is cut off,
 * so writers never wait for a slow reader (it resumes by revision).
 */
export class SseSubscriber {
  private state: 'replay' | 'live' | 'closed' = 'replay';
  /** revision up to which this stream is complete (sent or deliberately skipped) */
  private position = 0;
  private held: ChangeEntry[] = [];
  private queue: EventBytes[] = [];
  private blocked = false;
  private readonly closeListeners: Array<() => void> = [];

  constructor(
    private readonly res: ServerResponse,
    private readonly options: SseSubscriberOptions,
  ) {
    res.once('close', () => this.closed());
    res.on('error', () => this.closed());
  }

  /** False once the stream is gone or being ended (nothing more may be written). */
  get isOpen(): boolean {
    return this.state !== 'closed' && !this.res.writableEnded;
  }

  /** Run `fn` once the stream is gone, for whatever reason. */
  onClose(fn: () => void): void {
    if (this.state === 'closed') fn();
    else this.closeListeners.push(fn);
  }

  /**
   * A committed change from the bus; `chunk` encodes it (once, shared by every subscriber). With
   * `corked`, the socket is corked on its first write and added there, for the caller to uncork
   * once the whole batch of changes is offered: one write per subscriber per batch.
   */
  offer(entry: ChangeEntry, chunk: () => EventBytes, corked?: Set<Socket>): void {
    if (!this.isOpen || !matchesFilter(this.options.filter, entry.key)) return;
    if (this.state === 'replay') {
      if (this.held.length >= this.options.buffer) this.overflow();
      else this.held.push(entry);
      return;
    }
    this.deliver(entry, chunk, corked);
  }

  /** Replay one change-log entry, waiting for the socket when it is full (no queue limit applies). */
  async replay(entry: ChangeEntry): Promise<void> {
    if (this.state !== 'replay' || !this.isOpen || entry.revision <= this.position) return;
    this.position = entry.revision;
    if (!matchesFilter(this.options.filter, entry.key) || !this.options.principal.canRead(entry.key)) return;
    this.options.counters.sent();
    if (!this.res.write(formatChangeEvent(entry))) await this.waitForDrain();
  }

  /** Nothing before `revision` is news to this client (live start, or a future resume point). */
  skipTo(revision: number): void {
    this.position = Math.max(this.position, revision);
  }

  /** The requested revision is no longer in the log: tell the client to re-list from `revision`. */
  reset(revision: number): void {
    if (!this.isOpen) return;
    this.position = revision;
    this.res.write(formatResetEvent(revision));
  }

  /** Switch from replay to live: send the held events the replay did not already cover. */
  goLive(): void {
    if (this.state !== 'replay') return;
    this.state = 'live';
    const held = this.held.sort((a, b) => a.revision - b.revision);
    this.held = [];
    for (const entry of held) this.deliver(entry, () => eventBytes(formatChangeEvent(entry)));
  }

  heartbeat(): void {
    if (!this.isOpen || this.blocked || !this.res.headersSent || this.res.writableNeedDrain) return;
    if (this.res.socket?.writableNeedDrain) return;
    this.send(HEARTBEAT_BYTES);
  }

  /** Graceful end (shutdown): the client sees a clean end of stream and resumes elsewhere. */
  end(): void {
    if (this.isOpen) this.res.end();
  }

  /** Hard stop: the socket goes away now. */
  destroy(reason?: Error): void {
    this.res.destroy(reason);
    this.closed();
  }

  private deliver(entry: ChangeEntry, chunk: () => EventBytes, corked?: Set<Socket>): void {
    if (entry.revision <= this.position) return;
    this.position = entry.revision;
    // checked per event, so a principal whose access changes stops receiving (compat 5.6)
    if (!this.options.principal.canRead(entry.key)) return;
    this.write(chunk(), corked);
  }

  private write(chunk: EventBytes, corked?: Set<Socket>): void {
    if (!this.isOpen) return;
    if (this.blocked) {
      if (this.queue.length >= this.options.buffer) this.overflow();
      else this.queue.push(chunk);
      return;
    }
    this.options.counters.sent();
    if (!this.send(chunk, corked)) this.blockUntilDrained();
  }

  /**
   * Once the headers are out, straight to the socket as one complete chunk (or bare, when the
   * body is not chunked: an HTTP/1.0 client). The socket keeps the order of everything written
   * through the response before (a replayed event, the headers).
   */
  private send(bytes: EventBytes, corked?: Set<Socket>): boolean {
    const socket = this.res.socket;
    if (!socket || !this.res.headersSent) return this.res.write(bytes.bare);
    if (socket.destroyed) return true; // its close is on the way and ends this stream
    if (corked && !corked.has(socket)) {
      socket.cork();
      corked.add(socket);
    }
    return socket.write(this.res.chunkedEncoding ? bytes.chunk : bytes.bare);
  }

  private blockUntilDrained(): void {
    this.blocked = true;
    // the socket drains for writes made through the response too
    (this.res.socket ?? this.res).once('drain', this.flush);
  }

  private readonly flush = (): void => {
    this.blocked = false;
    const socket = this.res.socket;
    socket?.cork(); // the queued events go out in one write
    try {
      while (this.queue.length > 0 && this.isOpen) {
        const chunk = this.queue.shift() as EventBytes;
        this.options.counters.sent();
        if (!this.send(chunk)) return this.blockUntilDrained();
      }
    } finally {
      socket?.uncork();
    }
  };

  private waitForDrain(): Promise<void> {
    return new Promise((resolve) => {
      const done = (): void => {
        this.res.off('drain', done);
        this.res.off('close', done);
        resolve();
      };
      this.res.once('drain', done);
      this.res.once('close', done);
    });
  }

  private overflow(): void {
    this.options.counters.dropped();
    // with a reason, the socket hands it to every write it still buffers, instead of building
    // one error (stack trace and all) per buffered event
    this.destroy(FELL_BEHIND);
  }

  private closed(): void {
    if (this.state === 'closed') return;
    this.state = 'closed';
    // a peer that went away can leave the socket half-open; never keep it for a dead stream
    if (!this.res.writableFinished) this.res.destroy();
    this.held = [];
    this.queue = [];
    for (const fn of this.closeListeners.splice(0)) fn();
  }
}

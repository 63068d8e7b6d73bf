import { ConnectionError, ResponseError, StashError, errorFromStatus } from './errors.js';
import { abortableSleep } from './abortable-sleep.js';
import { SseParser, type SseMessage } from './sse-parser.js';
import { toEvent, type SubscriptionEvent } from './subscription-events.js';
import { REVISION_HEADER } from './wire.js';

export type { ChangeEvent, ResetEvent, SubscriptionEvent } from './subscription-events.js';

// Node 20 lacks Symbol.asyncDispose; the registered symbol is what TS/esbuild helpers fall back to
(Symbol as { asyncDispose?: symbol }).asyncDispose ??= Symbol.for('Symbol.asyncDispose');

export interface SubscriptionOptions {
  /** start after this revision (replayed from the server's change log) instead of from now */
  since?: number | undefined;
  /** first reconnect delay in ms (default 1000); doubles per failed attempt */
  initialDelayMs?: number | undefined;
  /** reconnect delay cap in ms (default 30 000) */
  maxDelayMs?: number | undefined;
  /** reconnect when nothing, not even a heartbeat, arrived for this long (ms); 0 = never (default) */
  idleTimeoutMs?: number | undefined;
  /** called with each failed connection attempt before the next retry */
  onError?: ((error: StashError) => void) | undefined;
  /** events buffered for a slow consumer before reading pauses (default 256) */
  highWaterMark?: number | undefined;
}

/** What a subscription needs from the client: base URL, credentials, fetch, and its close signal. */
export interface StreamSource {
  url(path: string): string;
  authHeaders(): Record<string, string>;
  readonly fetch: typeof fetch;
  readonly closeSignal?: AbortSignal | undefined;
}

/** Answers that retrying cannot fix: they end the subscription with their error. */
const FATAL_STATUS = new Set([400, 401, 403, 404, 405]);

/**
 * A live change stream: an async iterable of {@link SubscriptionEvent}s that reconnects by itself
 * (backoff 1 s, 2 s, 4 s ... capped at 30 s, back to 1 s after a successful connect) and resumes
 * with `Last-Event-ID`, so with this project's server no change is lost or repeated across
 * reconnects. Reading pauses while the consumer lags (the server then cuts the stream and it
 * resumes later, losslessly). Leaving a `for await` loop, `close()` or `await using` ends it.
 */
export class Subscription implements AsyncIterable<SubscriptionEvent>, AsyncDisposable {
  readonly #source: StreamSource;
  readonly #path: string;
  readonly #initialDelay: number;
  readonly #maxDelay: number;
  readonly #idleTimeout: number;
  readonly #highWater: number;
  readonly #onError: ((error: StashError) => void) | undefined;
  readonly #closed = new AbortController();
  #since: number | undefined;
  #lastEventId: string | undefined;
  #retryDelay: number;
  #queue: SubscriptionEvent[] = [];
  #failure: StashError | undefined;
  #finished = false;
  #waitingConsumers: Array<() => void> = [];
  readonly #onClientClose = (): void => this.close();
  #wakeProducer: (() => void) | undefined;
  #connected!: () => void;
  /** Resolves once the first connection is established (or the subscription ended). */
  readonly ready: Promise<void>;

  /** @param path the subscribe path below the base URL, already percent-encoded (`/kv/subscribe/app/*`) */
  constructor(source: StreamSource, path: string, options: SubscriptionOptions = {}) {
    this.#source = source;
    this.#path = path;
    this.#since = options.since;
    this.#initialDelay = options.initialDelayMs ?? 1000;
    this.#retryDelay = this.#initialDelay;
    this.#maxDelay = options.maxDelayMs ?? 30_000;
    this.#idleTimeout = options.idleTimeoutMs ?? 0;
    this.#highWater = options.highWaterMark ?? 256;
    this.#onError = options.onError;
    this.ready = new Promise<void>((resolve) => (this.#connected = resolve));
    if (source.closeSignal?.aborted) this.#fail(new StashError('client is closed'));
    else source.closeSignal?.addEventListener('abort', this.#onClientClose, { once: true });
    void this.#run();
  }

  /** ID of the last event received: where a reconnect resumes. */
  get lastEventId(): string | undefined {
    return this.#lastEventId;
  }

  get closed(): boolean {
    return this.#closed.signal.aborted;
  }

  /** Stop: abort the connection, end iteration (buffered events are dropped). Idempotent. */
  close(): void {
    if (this.closed) return;
    this.#closed.abort();
    this.#queue = [];
    this.#finish();
  }

  [Symbol.asyncDispose](): Promise<void> {
    this.close();
    return Promise.resolve();
  }

  [Symbol.asyncIterator](): AsyncIterator<SubscriptionEvent> {
    return {
      next: () => this.#next(),
      return: () => {
        this.close();
        return Promise.resolve({ done: true, value: undefined });
      },
    };
  }

  async #next(): Promise<IteratorResult<SubscriptionEvent>> {
    for (;;) {
      const event = this.#queue.shift();
      if (event) {
        if (this.#queue.length < this.#highWater / 2) this.#wake('producer');
        return { done: false, value: event };
      }
      if (this.#failure) throw this.#failure;
      if (this.#finished) return { done: true, value: undefined };
      await new Promise<void>((resolve) => this.#waitingConsumers.push(resolve));
    }
  }

  async #run(): Promise<void> {
    while (!this.closed) {
      try {
        await this.#connect();
      } catch (error) {
        if (this.closed) break;
        const failure = error instanceof StashError ? error : new ConnectionError(describe(error), { cause: error });
        this.#onError?.(failure);
      }
      if (this.closed) break;
      await this.#sleep(this.#retryDelay);
      this.#retryDelay = Math.min(this.#retryDelay * 2, this.#maxDelay);
    }
    this.#finish();
  }

  /** One connection: resolves when the server ends the stream, throws when it fails. */
  async #connect(): Promise<void> {
    const attempt = new AbortController();
    const stop = (): void => attempt.abort();
    this.#closed.signal.addEventListener('abort', stop, { once: true });
    let idle: ReturnType<typeof setTimeout> | undefined;
    const touch = (): void => {
      if (this.#idleTimeout <= 0) return;
      clearTimeout(idle);
      idle = setTimeout(stop, this.#idleTimeout);
    };
    try {
      const headers: Record<string, string> = { ...this.#source.authHeaders(), accept: 'text/event-stream' };
      let path = this.#path;
      if (this.#lastEventId !== undefined) headers['last-event-id'] = this.#lastEventId;
      else if (this.#since !== undefined) path += `${path.includes('?') ? '&' : '?'}since=${this.#since}`;
      touch();
      const res = await this.#source.fetch(this.#source.url(path), { headers, signal: attempt.signal });
      if (res.status !== 200) {
        const error = errorFromStatus(res.status, await res.text().catch(() => ''));
        if (FATAL_STATUS.has(res.status)) return this.#fail(error);
        throw error;
      }
      const type = res.headers.get('content-type') ?? '';
      if (!type.toLowerCase().startsWith('text/event-stream') || !res.body) {
        await res.body?.cancel().catch(() => undefined);
        throw new ResponseError(`not an event stream (content-type "${type}")`, res.status);
      }
      this.#retryDelay = this.#initialDelay; // connected: the next reconnect starts from scratch
      this.#connected();
      // this project's server says where the stream starts: resume there if we drop before any event
      const start = res.headers.get(REVISION_HEADER);
      if (this.#lastEventId === undefined && this.#since === undefined && start !== null && /^\d{1,15}$/.test(start)) {
        this.#since = Number(start);
      }
      const parser = new SseParser(
        {
          onMessage: (message) => this.#onMessage(message),
          onRetry: (ms) => {
            this.#retryDelay = Math.min(ms, this.#maxDelay);
          },
        },
        this.#lastEventId ?? '',
      );
      const reader = res.body.getReader();
      // an abort (idle timeout, close) must also end a read that a custom fetch does not tie to the signal
      const cancel = (): void => void reader.cancel().catch(() => undefined);
      attempt.signal.addEventListener('abort', cancel, { once: true });
      try {
        for (;;) {
          touch();
          const { done, value } = await reader.read();
          if (done) break;
          parser.feed(value);
          while (this.#queue.length >= this.#highWater && !this.closed) {
            clearTimeout(idle);
            await new Promise<void>((resolve) => (this.#wakeProducer = resolve));
            touch();
          }
        }
        parser.end();
      } finally {
        attempt.signal.removeEventListener('abort', cancel);
        reader.releaseLock();
      }
      if (attempt.signal.aborted && !this.closed) throw idleError(this.#idleTimeout);
    } catch (error) {
      if (attempt.signal.aborted && !this.closed) throw idleError(this.#idleTimeout, error);
      throw error;
    } finally {
      clearTimeout(idle);
      this.#closed.signal.removeEventListener('abort', stop);
      attempt.abort();
    }
  }

  #onMessage(message: SseMessage): void {
    if (this.closed) return;
    const event = toEvent(message);
    if (!event) return;
    if (message.lastEventId !== '') this.#lastEventId = message.lastEventId;
    this.#since = undefined;
    this.#queue.push(event);
    this.#wake('consumer');
  }

  #wake(who: 'consumer' | 'producer'): void {
    if (who === 'consumer') {
      for (const resolve of this.#waitingConsumers.splice(0)) resolve();
      return;
    }
    const resolve = this.#wakeProducer;
    this.#wakeProducer = undefined;
    resolve?.();
  }

  #fail(error: StashError): void {
    this.#failure = error;
    this.#closed.abort();
    this.#finish();
  }

  #finish(): void {
    this.#finished = true;
    this.#source.closeSignal?.removeEventListener('abort', this.#onClientClose);
    this.#connected();
    this.#wake('consumer');
    this.#wake('producer');
  }

  #sleep(ms: number): Promise<void> {
    return abortableSleep(ms, this.#closed.signal);
  }
}

/** The current value of one key as `watch()` reads it: `undefined` when absent; revision 0 when unknown. */
export interface WatchedValue<T> {
  value: T | undefined;
  revision: number;
}

/**
 * Live value of a key: the current value first, then the value after each change (and after a
 * reset). The subscription must be opened before the first read so nothing falls in between;
 * changes already reflected by a read are not reported twice. Ends (closing the subscription)
 * when the consumer stops.
 */
export async function* watchValues<T>(
  subscription: Subscription,
  read: () => Promise<WatchedValue<T>>,
): AsyncGenerator<T | undefined, void, undefined> {
  try {
    await subscription.ready; // registered on the server before the first read: no change falls between
    const first = await read();
    let seen = first.revision;
    yield first.value;
    for await (const event of subscription) {
      if (event.type === 'change' && event.revision > 0 && event.revision <= seen) continue;
      const next = await read();
      seen = Math.max(seen, next.revision, event.revision);
      yield next.value;
    }
  } finally {
    subscription.close();
  }
}

function idleError(ms: number, cause?: unknown): ConnectionError {
  return new ConnectionError(`no data for ${ms} ms, reconnecting`, { cause });
}

function describe(error: unknown): string {
  if (error instanceof Error) return error.cause instanceof Error ? error.cause.message : error.message;
  return String(error);
}

import { fromUtf8 } from './bytes.js';
import { abortableSleep } from './abortable-sleep.js';
import { ConnectionError, StashError, errorFromStatus } from './errors.js';
import { normalizeBaseUrl } from './url.js';

export type HttpMethod = 'GET' | 'HEAD' | 'PUT' | 'DELETE' | 'POST';

export interface TransportOptions {
  token?: string | undefined;
  /** per-attempt timeout in ms, covering the answer body too */
  timeout: number;
  /** extra attempts after the first, for retryable failures only */
  retries: number;
  fetch?: typeof fetch | undefined;
}

export interface TransportRequest {
  method: HttpMethod;
  /** path below the base URL, starting with `/`, already percent-encoded */
  path: string;
  headers?: Record<string, string>;
  body?: Uint8Array<ArrayBuffer> | string;
  /** the key the call is about, carried into errors */
  key?: string | undefined;
  /** may the request be sent again after a failure? (default: GET, HEAD, PUT, DELETE) */
  idempotent?: boolean;
}

export interface TransportResponse {
  status: number;
  headers: Headers;
  body: Uint8Array<ArrayBuffer>;
}

const SUCCESS = new Set([200, 201, 204]);
const RETRY_STATUS = new Set([502, 503, 504]);
const BASE_DELAY_MS = 100;
const MAX_DELAY_MS = 5_000;

type Attempt = { ok: true; response: TransportResponse } | { ok: false; retryable: boolean; error: StashError };

/**
 * The one HTTP helper of the client: base URL, auth header, fetch, per-attempt timeouts,
 * retries with exponential backoff, and status -> typed error mapping. Streaming callers
 * (subscriptions) use `url()`, `authHeaders()`, `fetch` and `closeSignal` directly.
 */
export class HttpTransport {
  readonly baseUrl: string;
  readonly timeout: number;
  readonly retries: number;
  readonly #token: string | undefined;
  readonly #fetch: typeof fetch;
  readonly #closed = new AbortController();

  constructor(baseUrl: string, options: TransportOptions) {
    this.baseUrl = normalizeBaseUrl(baseUrl);
    this.timeout = options.timeout;
    this.retries = options.retries;
    this.#token = options.token === '' ? undefined : options.token;
    // looked up per call, so a fetch replaced after construction (polyfills, test servers) is used
    this.#fetch = options.fetch ?? ((input, init) => globalThis.fetch(input, init));
  }

  /** Absolute URL of a path below the base URL. */
  url(path: string): string {
    return this.baseUrl + path;
  }

  /** Headers every request carries (the bearer token when one is configured). */
  authHeaders(): Record<string, string> {
    return this.#token === undefined ? {} : { authorization: `Bearer ${this.#token}` };
  }

  /** The fetch implementation in use. */
  get fetch(): typeof fetch {
    return this.#fetch;
  }

  /** Aborted by close(): long-lived requests should listen to it. */
  get closeSignal(): AbortSignal {
    return this.#closed.signal;
  }

  get closed(): boolean {
    return this.#closed.signal.aborted;
  }

  /** Abort everything in flight and refuse new requests. */
  close(): void {
    if (!this.closed) this.#closed.abort(new StashError('client is closed'));
  }

  /**
   * Send a request and read the whole answer. Network errors, timeouts and 502/503/504 are
   * retried for idempotent requests with backoff 100 ms, 200 ms, 400 ms... (capped at 5 s, ±10% jitter).
   * @throws the typed StashError of a non-success status, ConnectionError when unreachable
   */
  async send(request: TransportRequest): Promise<TransportResponse> {
    const idempotent = request.idempotent ?? request.method !== 'POST';
    const attempts = idempotent ? this.retries + 1 : 1;
    let last: StashError | undefined;
    for (let attempt = 0; attempt < attempts; attempt++) {
      if (attempt > 0) await this.#sleep(backoff(attempt - 1));
      const result = await this.#attempt(request);
      if (result.ok) return result.response;
      last = result.error;
      if (!result.retryable) break;
    }
    throw last ?? new ConnectionError('request failed', { key: request.key });
  }

  async #attempt(request: TransportRequest): Promise<Attempt> {
    if (this.closed) return { ok: false, retryable: false, error: new StashError('client is closed', { key: request.key }) };
    // one controller per attempt, aborted by its own timer or by close(); cleaned up right after,
    // so a busy client keeps no 30 s timers or listeners around (AbortSignal.timeout/any would)
    const abort = new AbortController();
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      abort.abort(new DOMException(`timed out after ${this.timeout} ms`, 'TimeoutError'));
    }, this.timeout);
    const onClose = (): void => abort.abort(this.#closed.signal.reason);
    this.#closed.signal.addEventListener('abort', onClose, { once: true });
    const init: RequestInit = {
      method: request.method,
      headers: { ...this.authHeaders(), ...request.headers },
      signal: abort.signal,
    };
    if (request.body !== undefined) init.body = request.body;
    let status: number;
    let headers: Headers;
    let body: Uint8Array<ArrayBuffer>;
    try {
      const res = await this.#fetch(this.url(request.path), init);
      status = res.status;
      headers = res.headers;
      body = new Uint8Array(await res.arrayBuffer());
    } catch (error) {
      return { ok: false, retryable: !this.closed, error: this.#transportError(error, timedOut, request) };
    } finally {
      clearTimeout(timer);
      this.#closed.signal.removeEventListener('abort', onClose);
    }
    if (SUCCESS.has(status)) return { ok: true, response: { status, headers, body } };
    const error = errorFromStatus(status, fromUtf8(body), request.key, headers.get('x-stash-revision'));
    return { ok: false, retryable: RETRY_STATUS.has(status), error };
  }

  #transportError(error: unknown, timedOut: boolean, request: TransportRequest): StashError {
    const { key } = request;
    if (this.closed) return new StashError('client is closed', { key, cause: error });
    const target = `${request.method} ${this.url(request.path)}`;
    if (timedOut) return new ConnectionError(`${target}: timed out after ${this.timeout} ms`, { key, cause: error });
    const reason = error instanceof Error ? (error.cause instanceof Error ? error.cause.message : error.message) : String(error);
    return new ConnectionError(`${target}: ${reason}`, { key, cause: error });
  }

  #sleep(ms: number): Promise<void> {
    return abortableSleep(ms, this.#closed.signal);
  }
}

function backoff(retry: number): number {
  const delay = Math.min(BASE_DELAY_MS * 2 ** retry, MAX_DELAY_MS);
  return delay * (0.9 + Math.random() * 0.2);
}

import { fromUtf8, toBase64, toOwnedBytes } from './bytes.js';
import { InvalidArgumentError, NotFoundError, ResponseError, isNotFoundError } from './errors.js';
import { isFormat, type Format } from './formats.js';
import { normalizeKey } from './keys.js';
import { HttpTransport, type TransportResponse } from './http-transport.js';
import { parseExportItem, parseHistoryEntry, parseKeyInfo, type ExportItem, type HistoryEntry, type KeyInfo } from './key-info.js';
import { encodeKeyPath, queryString, requireKey } from './url.js';
import { Subscription, watchValues, type SubscriptionOptions } from './subscription.js';
import { FORMAT_HEADER, REVISION_HEADER, type BatchItemRequest } from './wire.js';
import { ZkCrypto } from './zk.js';
import { isZkValue } from './zk-envelope.js';

// Node 20 and older browsers lack Symbol.asyncDispose; TS and esbuild `await using` helpers
// fall back to this registered symbol, so defining it makes `await using client` work there
(Symbol as { asyncDispose?: symbol }).asyncDispose ??= Symbol.for('Symbol.asyncDispose');

/** Options of `new Client()`; every field is optional. */
export interface ClientOptions {
  /** API token, sent as `Authorization: Bearer <token>` */
  token?: string | undefined;
  /** per-request timeout in milliseconds (default 30 000) */
  timeout?: number | undefined;
  /** retry attempts after a network error, timeout or 502/503/504 of an idempotent request (default 3) */
  retries?: number | undefined;
  /** passphrase (>= 16 UTF-8 bytes) for zero-knowledge encryption of every value */
  zkKey?: string | undefined;
  /** fetch implementation (default: the global fetch) */
  fetch?: typeof fetch | undefined;
}

/** Defaults of the optional settings. */
export const DEFAULT_OPTIONS = { timeout: 30_000, retries: 3 } as const;

/** Options of `set()`: format and an optional condition. */
export interface SetOptions {
  format?: Format;
  /** write only if the key's current revision is this one (If-Match) */
  ifRevision?: number;
  /** write only if the key does not exist (If-None-Match: *) */
  ifAbsent?: boolean;
}

export interface SetResult {
  /** revision of this write (0 when the server does not report revisions, like the original Go server) */
  revision: number;
  /** true when the key did not exist before (HTTP 201) */
  created: boolean;
}

export interface DeleteOptions {
  /** delete only if the key's current revision is this one */
  ifRevision?: number;
}

export interface HistoryOptions {
  /** most entries to return (server default 50) */
  limit?: number;
  /** decrypt `$ZK$` values (default true); false skips one Argon2id per version when only metadata is needed */
  decrypt?: boolean;
}

/** One item of `setMany()`: a write or a delete. */
export type BatchItem = { key: string; value: string | Uint8Array; format?: Format } | { key: string; delete: true };

export interface ExportOptions {
  /** called after each item is ready (done, total) */
  onProgress?: (done: number, total: number) => void;
}

export interface ExportResult {
  /** the revision all values were read at */
  revision: number;
  items: ExportItem[];
}

/**
 * Client of a Stash server (this one or the original Go server). Runs unchanged in Node >= 20,
 * browsers, Deno and Bun: it only needs fetch, WebCrypto and TextEncoder.
 *
 * @example
 * await using client = new Client('http://localhost:8080', { token: 'secret-token' });
 * await client.set('app/config', '{"debug": true}', 'json');
 * const value = await client.get('app/config');
 */
export class Client implements AsyncDisposable {
  /** the request helper (base URL, auth, fetch, retries) shared with subscriptions */
  protected readonly http: HttpTransport;
  readonly #zk: ZkCrypto | undefined;

  /** @throws InvalidArgumentError for an invalid base URL, timeout, retries or a too-short ZK passphrase */
  constructor(baseUrl: string, options: ClientOptions = {}) {
    const timeout = options.timeout ?? DEFAULT_OPTIONS.timeout;
    const retries = options.retries ?? DEFAULT_OPTIONS.retries;
    if (!Number.isFinite(timeout) || timeout <= 0) throw new InvalidArgumentError(`invalid timeout ${timeout}: must be > 0 ms`);
    if (!Number.isInteger(retries) || retries < 0) throw new InvalidArgumentError(`invalid retries ${retries}: must be an integer >= 0`);
    this.http = new HttpTransport(baseUrl, { token: options.token, timeout, retries, fetch: options.fetch });
    this.#zk = options.zkKey === undefined ? undefined : new ZkCrypto(options.zkKey);
  }

  /** The base URL without trailing slashes. */
  get baseUrl(): string {
    return this.http.baseUrl;
  }

  /**
   * Value of a key as UTF-8 text (decrypted when it is `$ZK$` and a ZK key is set).
   * @throws NotFoundError, UnauthorizedError, ForbiddenError, DecryptionError, ConnectionError
   */
  async get(key: string): Promise<string> {
    return fromUtf8(await this.getBytes(key));
  }

  /** Value of a key as bytes (decrypted when it is `$ZK$` and a ZK key is set). */
  async getBytes(key: string): Promise<Uint8Array> {
    const k = requireKey(key);
    const res = await this.http.send({ method: 'GET', path: `/kv/${encodeKeyPath(k)}`, key: k });
    return this.#open(res.body, k);
  }

  /** Value of a key, or `fallback` when the key does not exist. */
  async getOrDefault(key: string, fallback: string): Promise<string> {
    try {
      return await this.get(key);
    } catch (error) {
      if (isNotFoundError(error)) return fallback;
      throw error;
    }
  }

  /**
   * Create or update a key. With a ZK key the value is encrypted first.
   * @param formatOrOptions a format (default `text`) or `{ format, ifRevision, ifAbsent }`
   * @throws ConflictError when a condition fails (carries the current revision)
   * @example
   * const { revision } = await client.set('app/config', 'v1');
   * await client.set('app/config', 'v2', { ifRevision: revision });
   */
  async set(key: string, value: string | Uint8Array, formatOrOptions: Format | SetOptions = {}): Promise<SetResult> {
    const k = requireKey(key);
    const options = typeof formatOrOptions === 'string' ? { format: formatOrOptions } : formatOrOptions;
    const format = options.format ?? 'text';
    if (!isFormat(format)) throw new InvalidArgumentError(`unknown format "${String(format)}"`, { key: k });
    const headers: Record<string, string> = { [FORMAT_HEADER]: format, 'content-type': 'text/plain' };
    const condition = writeCondition(options.ifRevision, options.ifAbsent === true, k);
    Object.assign(headers, condition);
    const body = await this.#seal(value);
    const res = await this.http.send({
      method: 'PUT',
      path: `/kv/${encodeKeyPath(k)}`,
      headers,
      body,
      key: k,
      idempotent: condition === undefined,
    });
    return { revision: revisionOf(res), created: res.status === 201 };
  }

  /**
   * Delete a key.
   * @throws NotFoundError when it does not exist, ConflictError when `ifRevision` does not match
   */
  async delete(key: string, options: DeleteOptions = {}): Promise<void> {
    const k = requireKey(key);
    const condition = writeCondition(options.ifRevision, false, k);
    const request = { method: 'DELETE', path: `/kv/${encodeKeyPath(k)}`, key: k, idempotent: condition === undefined } as const;
    await this.http.send(condition === undefined ? request : { ...request, headers: condition });
  }

  /** Keys (metadata only) whose name starts with `prefix`, most recently updated first. */
  async list(prefix = ''): Promise<KeyInfo[]> {
    const res = await this.http.send({ method: 'GET', path: `/kv/${queryString({ prefix: prefix || undefined })}` });
    return jsonArray(res, 'list').map((raw) => parse(res, 'list', () => parseKeyInfo(raw)));
  }

  /** Metadata of one key. @throws NotFoundError */
  async info(key: string): Promise<KeyInfo> {
    const k = requireKey(key);
    const found = (await this.list(k)).find((item) => item.key === k);
    if (!found) throw new NotFoundError(`key not found (key "${k}")`, { key: k });
    return found;
  }

  /** Does the key exist (and is it visible to this token)? */
  async has(key: string): Promise<boolean> {
    try {
      await this.info(key);
      return true;
    } catch (error) {
      if (isNotFoundError(error)) return false;
      throw error;
    }
  }

  /** Versions of a key, newest first (values decrypted when `$ZK$` and a ZK key is set). */
  async history(key: string, options: HistoryOptions = {}): Promise<HistoryEntry[]> {
    const k = requireKey(key);
    if (options.limit !== undefined) nonNegativeInt(options.limit, 'limit', k);
    const path = `/kv/history/${encodeKeyPath(k)}${queryString({ limit: options.limit })}`;
    const res = await this.http.send({ method: 'GET', path, key: k });
    const entries = jsonArray(res, 'history', k).map((raw) => parse(res, 'history', () => parseHistoryEntry(raw), k));
    if (options.decrypt !== false) for (const entry of entries) entry.value = await this.#open(entry.value, k);
    return entries;
  }

  /** Value of a key as of a revision (decrypted when `$ZK$`). @throws NotFoundError when unknown or pruned */
  async getAt(key: string, revision: number): Promise<Uint8Array> {
    const k = requireKey(key);
    nonNegativeInt(revision, 'revision', k);
    const res = await this.http.send({ method: 'GET', path: `/kv/${encodeKeyPath(k)}${queryString({ revision })}`, key: k });
    return this.#open(res.body, k);
  }

  /**
   * Every key under `prefix` with its value, all read at one revision (values decrypted when
   * `$ZK$`). `onProgress` follows the per-item decryption, which is slow for ZK values of many salts.
   */
  async exportValues(prefix = '', options: ExportOptions = {}): Promise<ExportResult> {
    const res = await this.http.send({ method: 'GET', path: `/kv/${queryString({ prefix: prefix || undefined, values: 'true' })}` });
    const items = jsonArray(res, 'export').map((raw) => parse(res, 'export', () => parseExportItem(raw)));
    for (const [i, item] of items.entries()) {
      item.value = await this.#open(item.value, item.key);
      options.onProgress?.(i + 1, items.length);
    }
    return { revision: revisionOf(res), items };
  }

  /**
   * Apply several writes and deletes in one transaction (all or nothing). Never retried.
   * With a ZK key every value is encrypted first (one Argon2id for the whole batch).
   */
  async setMany(items: readonly BatchItem[]): Promise<{ revision: number }> {
    if (!Array.isArray(items) || items.length === 0) throw new InvalidArgumentError('setMany needs at least one item');
    const wire = await this.#batchItems(items);
    const res = await this.http.send({
      method: 'POST',
      path: '/kv/',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(wire),
    });
    const parsed = parse(res, 'batch', () => JSON.parse(fromUtf8(res.body)) as unknown);
    const revision = (parsed as { revision?: unknown } | null)?.revision;
    return { revision: typeof revision === 'number' ? revision : revisionOf(res) };
  }

  /**
   * Changes of one key, as an async iterable that reconnects and resumes by itself.
   * @example
   * for await (const event of client.subscribe('app/config')) console.log(event.action, event.revision);
   */
  subscribe(key: string, options: SubscriptionOptions = {}): Subscription {
    return new Subscription(this.http, `/kv/subscribe/${encodeKeyPath(requireKey(key))}`, options);
  }

  /** Changes of every key under `prefix/` (not the key `prefix` itself); an empty prefix means all keys. */
  subscribePrefix(prefix: string, options: SubscriptionOptions = {}): Subscription {
    const p = encodeKeyPath(normalizeKey(String(prefix)));
    return new Subscription(this.http, p === '' ? '/kv/subscribe/*' : `/kv/subscribe/${p}/*`, options);
  }

  /** Changes of every key. */
  subscribeAll(options: SubscriptionOptions = {}): Subscription {
    return new Subscription(this.http, '/kv/subscribe/*', options);
  }

  /**
   * Live value of a key for "live config": the current value first (`undefined` while the key
   * does not exist), then the value after each change. Leave the loop to stop watching.
   * @example
   * for await (const value of client.watch('app/config')) applyConfig(value);
   */
  watch(key: string, options: SubscriptionOptions = {}): AsyncGenerator<string | undefined, void, undefined> {
    const k = requireKey(key);
    return watchValues(this.subscribe(k, options), async () => {
      try {
        const res = await this.http.send({ method: 'GET', path: `/kv/${encodeKeyPath(k)}`, key: k });
        return { value: fromUtf8(await this.#open(res.body, k)), revision: revisionOf(res) };
      } catch (error) {
        if (isNotFoundError(error)) return { value: undefined, revision: 0 };
        throw error;
      }
    });
  }

  /** Check that the server answers `pong`. @throws ConnectionError, ResponseError */
  async ping(): Promise<void> {
    const res = await this.http.send({ method: 'GET', path: '/ping' });
    const body = fromUtf8(res.body).trim();
    if (body !== 'pong') throw new ResponseError(`unexpected ping answer ${JSON.stringify(body.slice(0, 50))}`, res.status);
  }

  /** Zero the ZK passphrase, abort requests in flight; later calls reject. Idempotent. */
  close(): void {
    this.#zk?.wipe();
    this.http.close();
  }

  /** `await using client = new Client(...)` closes it at the end of the scope. */
  [Symbol.asyncDispose](): Promise<void> {
    this.close();
    return Promise.resolve();
  }

  async #seal(value: string | Uint8Array): Promise<Uint8Array<ArrayBuffer> | string> {
    if (typeof value !== 'string' && !(value instanceof Uint8Array)) throw new InvalidArgumentError('value must be a string or Uint8Array');
    if (this.#zk) return this.#zk.encrypt(value);
    return typeof value === 'string' ? value : toOwnedBytes(value);
  }

  async #open(bytes: Uint8Array, key: string): Promise<Uint8Array> {
    if (!this.#zk || !isZkValue(bytes)) return bytes;
    return this.#zk.decrypt(fromUtf8(bytes), key);
  }

  async #batchItems(items: readonly BatchItem[]): Promise<BatchItemRequest[]> {
    const wire: BatchItemRequest[] = [];
    const values: (string | Uint8Array)[] = [];
    const slots: BatchItemRequest[] = [];
    for (const item of items) {
      const key = requireKey(item?.key);
      if ('delete' in item && item.delete === true) {
        wire.push({ key, delete: true });
        continue;
      }
      if (!('value' in item) || (typeof item.value !== 'string' && !(item.value instanceof Uint8Array))) {
        throw new InvalidArgumentError('batch item needs a string or Uint8Array value, or delete: true', { key });
      }
      const format = item.format ?? 'text';
      if (!isFormat(format)) throw new InvalidArgumentError(`unknown format "${String(format)}"`, { key });
      const slot: BatchItemRequest = { key, format };
      wire.push(slot);
      slots.push(slot);
      values.push(item.value);
    }
    const sealed = this.#zk ? await this.#zk.encryptMany(values) : values;
    sealed.forEach((value, i) => {
      const slot = slots[i];
      if (!slot) return;
      if (typeof value === 'string') Object.assign(slot, { value, encoding: 'text' });
      else Object.assign(slot, { value: toBase64(value), encoding: 'base64' });
    });
    return wire;
  }
}

function writeCondition(ifRevision: number | undefined, ifAbsent: boolean, key: string): Record<string, string> | undefined {
  if (ifRevision !== undefined && ifAbsent) throw new InvalidArgumentError('use ifRevision or ifAbsent, not both', { key });
  if (ifAbsent) return { 'if-none-match': '*' };
  if (ifRevision === undefined) return undefined;
  nonNegativeInt(ifRevision, 'ifRevision', key);
  return ifRevision === 0 ? { 'if-none-match': '*' } : { 'if-match': `"${ifRevision}"` };
}

function nonNegativeInt(value: number, what: string, key: string): void {
  if (!Number.isSafeInteger(value) || value < 0) throw new InvalidArgumentError(`${what} must be an integer >= 0`, { key });
}

function revisionOf(res: TransportResponse): number {
  const revision = Number(res.headers.get(REVISION_HEADER) ?? '');
  return Number.isSafeInteger(revision) && revision > 0 ? revision : 0;
}

function parse<T>(res: TransportResponse, what: string, fn: () => T, key?: string): T {
  try {
    return fn();
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new ResponseError(`invalid ${what} answer: ${reason}`, res.status, { key, cause: error });
  }
}

function jsonArray(res: TransportResponse, what: string, key?: string): unknown[] {
  const parsed = parse(res, what, () => JSON.parse(fromUtf8(res.body)) as unknown, key);
  // the original server answers `null` for an empty prefix match
  if (parsed === null) return [];
  if (!Array.isArray(parsed)) throw new ResponseError(`invalid ${what} answer: not a JSON array`, res.status, { key });
  return parsed;
}

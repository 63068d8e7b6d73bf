import { isSecretKey, isValidZkEnvelope, isZkValue, normalizeKey, type Format } from '@stash/client/core';
import {
  KeyNotFoundError,
  RevisionConflictError,
  type ChangeEntry,
  type KeyMeta,
  type KeyRecord,
  type Store,
  type WriteOp,
} from '../storage/store.js';
import { ConflictError, InternalError, NotFoundError, ValidationError } from './errors.js';
import { KeyIndex, type KeyIndexOptions } from './key-index.js';
import type { ChangePublisher, ValueVault } from './ports.js';

export type SecretsFilter = 'all' | 'secrets' | 'keys';

export interface KvServiceOptions {
  store: Store;
  /** the in-memory key index lists answer from (default on; false reads the store every time) */
  keyIndex?: KeyIndexOptions | false | undefined;
  /** absent when no --secrets.key was given */
  vault?: ValueVault | undefined;
  publisher?: ChangePublisher | undefined;
}

export interface WriteOptions {
  /** expected current revision; 0 = the key must not exist */
  ifRevision?: number | undefined;
  actor?: string | undefined;
}

export interface KeyValue extends KeyRecord {
  secret: boolean;
}

export interface ListedKey extends KeyMeta {
  secret: boolean;
}

/** One write of a batch, already validated and normalised. */
export type BatchWrite =
  | { key: string; delete: true }
  | { key: string; delete?: false; value: Uint8Array; format: Format };

const textDecoder = new TextDecoder();

/** Validate and normalise a key; an empty result is the original's 400 `key is required`. */
export function requireKey(raw: string): string {
  return assertValidKey(normalizeKey(raw));
}

/** What is wrong with an already normalised key, or undefined when nothing is. */
function keyProblem(key: string): string | undefined {
  if (key === '') return 'key is required';
  // PostgreSQL text cannot hold NUL (the original answers 500 there); refuse it on every engine
  if (key.includes('\u0000')) return 'key must not contain NUL characters';
  return undefined;
}

/** The rules for an already normalised key; returns it unchanged. */
export function assertValidKey(key: string): string {
  const problem = keyProblem(key);
  if (problem !== undefined) throw new ValidationError(problem);
  return key;
}

/** assertValidKey as a test, for paths that must not throw. */
export function isValidKey(key: string): boolean {
  return keyProblem(key) === undefined;
}

/** The KV use cases: key rules, secrets, conditional writes, history; storage stays behind `Store`. */
export class KvService {
  private readonly store: Store;
  private readonly vault: ValueVault | undefined;
  private readonly publisher: ChangePublisher | undefined;
  private readonly index: KeyIndex | undefined;

  constructor(options: KvServiceOptions) {
    this.store = options.store;
    this.index = options.keyIndex === false ? undefined : new KeyIndex(options.store, options.keyIndex);
    this.vault = options.vault;
    this.publisher = options.publisher;
  }

  /** Reads wait for the database (other servers write to it too): no value is held without a fence. */
  get readsWait(): boolean {
    return this.store.fence !== undefined;
  }

  get secretsEnabled(): boolean {
    return this.vault !== undefined;
  }

  /**
   * The current value when the store holds it in memory, without waiting; undefined means
   * "ask get()" (secrets always do: they need decrypting), never "absent". Never a secret.
   */
  peek(key: string): KeyRecord | undefined {
    return isSecretKey(key) ? undefined : this.store.peek?.(key);
  }

  /**
   * A held copy for a serializable read: it may trail other servers' writes by the staleness
   * bound the metrics report (`stash_read_staleness_seconds`); undefined means "ask get()".
   */
  peekStale(key: string): KeyRecord | undefined {
    return isSecretKey(key) ? undefined : (this.store.peekStale?.(key) ?? this.store.peek?.(key));
  }

  /** The stored record of a non-secret key (undefined when absent); the fast path's read on a shared database. */
  getRecord(key: string): Promise<KeyRecord | undefined> {
    return isSecretKey(key) ? Promise.resolve(undefined) : this.store.get(key);
  }

  /** Current value (decrypted for secrets), or the value as of `revision`. */
  async get(key: string, revision?: number): Promise<KeyValue> {
    const secret = isSecretKey(key);
    if (secret) this.requireVault();
    // a revision not written yet has no value "as of" it: answering the current one would change later
    if (revision !== undefined && revision > (await this.store.currentRevision())) throw new NotFoundError();
    const record = revision === undefined ? await this.store.get(key) : await this.store.getAt(key, revision);
    if (!record) throw new NotFoundError();
    if (!secret) return { ...record, secret }; // the hot path: nothing to decrypt
    return { ...record, value: await this.reveal(key, record.value), secret };
  }

  async put(key: string, value: Uint8Array, format: Format, options: WriteOptions = {}): Promise<ChangeEntry> {
    const stored = await this.conceal(key, value);
    const [entry] = await this.write([{ kind: 'put', key, value: stored, format, ifRevision: options.ifRevision }], options.actor);
    return entry as ChangeEntry;
  }

  async delete(key: string, options: WriteOptions = {}): Promise<ChangeEntry> {
    const [entry] = await this.write([{ kind: 'delete', key, ifRevision: options.ifRevision }], options.actor);
    return entry as ChangeEntry;
  }

  /** All items in one transaction, one revision each; any failure writes nothing. */
  async batch(items: readonly BatchWrite[], actor?: string): Promise<ChangeEntry[]> {
    const ops: WriteOp[] = [];
    for (const item of items) {
      ops.push(
        item.delete
          ? { kind: 'delete', key: item.key }
          : { kind: 'put', key: item.key, value: await this.conceal(item.key, item.value), format: item.format },
      );
    }
    return this.write(ops, actor);
  }

  /** The newest committed revision: every write, on any server sharing the database, advances it. */
  revision(): Promise<number> {
    return this.store.currentRevision();
  }

  /** Keys under a prefix, newest first, as of at least revision `atLeast` (default: now). */
  async list(prefix = '', filter: SecretsFilter = 'all', atLeast?: number): Promise<ListedKey[]> {
    const keys = (await this.index?.list(prefix, atLeast)) ?? (await this.store.list({ prefix }));
    const out: ListedKey[] = [];
    for (const meta of keys) {
      const secret = isSecretKey(meta.key);
      if ((filter === 'secrets' && !secret) || (filter === 'keys' && secret)) continue;
      // fields spelled out: a spread per key costs several times more on 10,000 keys
      const { key, size, format, zkEncrypted, createdAt, updatedAt, revision } = meta;
      out.push({ key, size, format, zkEncrypted, createdAt, updatedAt, revision, secret });
    }
    return out;
  }

  /** Values under a prefix at one revision; secrets are skipped when no vault is configured. */
  async exportValues(prefix = ''): Promise<{ revision: number; items: KeyValue[] }> {
    const { revision, items } = await this.store.exportValues(prefix);
    const out: KeyValue[] = [];
    for (const item of items) {
      const secret = isSecretKey(item.key);
      if (secret && !this.vault) continue;
      out.push({ ...item, value: await this.reveal(item.key, item.value), secret });
    }
    return { revision, items: out };
  }

  /** Change-log entries of a key, newest first, values decrypted. */
  async history(key: string, limit: number): Promise<ChangeEntry[]> {
    const secret = isSecretKey(key);
    if (secret) this.requireVault();
    const entries = await this.store.history(key, limit);
    if (!secret) return entries;
    return Promise.all(
      entries.map(async (e) => ({ ...e, value: e.value && (await this.reveal(key, e.value)) })),
    );
  }

  private async write(ops: WriteOp[], actor = ''): Promise<ChangeEntry[]> {
    let entries: ChangeEntry[];
    try {
      entries = await this.store.apply(ops, actor);
    } catch (error) {
      if (error instanceof RevisionConflictError) throw new ConflictError(error.key, error.currentRevision);
      if (error instanceof KeyNotFoundError) throw new NotFoundError();
      throw error;
    }
    this.publisher?.publish(entries);
    return entries;
  }

  private requireVault(): ValueVault {
    if (!this.vault) throw new ValidationError('secrets not configured');
    return this.vault;
  }

  /** What gets stored: secrets sealed, valid `$ZK$` envelopes kept as they are. */
  private async conceal(key: string, value: Uint8Array): Promise<Uint8Array> {
    if (!isSecretKey(key)) return value;
    const vault = this.requireVault();
    if (isZkValue(value)) {
      if (!isValidZkEnvelope(textDecoder.decode(value))) throw new ValidationError('invalid ZK payload');
      return value;
    }
    return vault.seal(value);
  }

  private async reveal(key: string, stored: Uint8Array): Promise<Uint8Array> {
    if (!isSecretKey(key) || isZkValue(stored)) return stored;
    try {
      return await this.requireVault().open(stored);
    } catch (error) {
      if (error instanceof ValidationError) throw error;
      throw new InternalError('failed to get key', error);
    }
  }
}

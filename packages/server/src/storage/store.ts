import type { Format } from '@stash/client/core';

export type ChangeAction = 'create' | 'update' | 'delete';

/** A key with its stored value (secrets still encrypted, `$ZK$` untouched). */
export interface KeyRecord {
  key: string;
  value: Uint8Array;
  format: Format;
  createdAt: Date;
  updatedAt: Date;
  revision: number;
}

/** Metadata of one key as listed; `size` is the stored byte length. */
export interface KeyMeta {
  key: string;
  size: number;
  format: Format;
  zkEncrypted: boolean;
  createdAt: Date;
  updatedAt: Date;
  revision: number;
}

/**
 * One write. `ifRevision` makes it conditional: the key's current revision must equal it,
 * and 0 means the key must not exist.
 */
export type WriteOp =
  | { kind: 'put'; key: string; value: Uint8Array; format: Format; ifRevision?: number | undefined }
  | { kind: 'delete'; key: string; ifRevision?: number | undefined };

/** One committed change, as kept in the change log. */
export interface ChangeEntry {
  revision: number;
  key: string;
  action: ChangeAction;
  format: Format;
  /** stored value after the write; null for deletes */
  value: Uint8Array | null;
  timestamp: Date;
  actor: string;
}

export interface ListOptions {
  /** plain string prefix; empty means every key */
  prefix?: string | undefined;
}

export interface ExportResult {
  revision: number;
  items: KeyRecord[];
}

/** The storage contract both adapters fulfil; the conformance suite in test/ pins it. */
export interface Store {
  readonly engine: 'sqlite' | 'postgres';
  get(key: string): Promise<KeyRecord | undefined>;
  /**
   * The key's current record when the adapter holds it in memory, synchronously; undefined
   * means "ask get()", not "absent". Optional: adapters without an in-memory copy omit it.
   */
  peek?(key: string): KeyRecord | undefined;
  /**
   * The database's current revision, read by a query that started after this call. Only for
   * engines that other processes write to (PostgreSQL): a copy of a row may be served when every
   * change up to this revision has been applied to it. Engines written by this process alone omit it.
   */
  fence?(): Promise<number>;
  /**
   * A held copy of the key without waiting for a fence, for reads that accept bounded staleness
   * (`?consistency=serializable`); undefined means "ask get()". Optional, as peek().
   */
  peekStale?(key: string): KeyRecord | undefined;
  /** keys ordered by updated_at descending */
  list(options?: ListOptions): Promise<KeyMeta[]>;
  /** values under a prefix, all read at one revision */
  exportValues(prefix?: string): Promise<ExportResult>;
  /**
   * Apply writes atomically (all or nothing), one revision each, in order.
   * Throws ConflictError on a failed condition and NotFoundError on a delete of a missing key.
   * Resolves only once the writes are durable.
   */
  apply(ops: readonly WriteOp[], actor?: string): Promise<ChangeEntry[]>;
  /** change-log entries of one key, newest first */
  history(key: string, limit: number): Promise<ChangeEntry[]>;
  /** the key as it was at `revision` (undefined if unknown, deleted or pruned) */
  getAt(key: string, revision: number): Promise<KeyRecord | undefined>;
  /** change-log entries with revision > `after`, oldest first */
  changesSince(after: number, limit: number): Promise<ChangeEntry[]>;
  /** the newest committed revision (0 on an empty database) */
  currentRevision(): Promise<number>;
  /** the oldest revision still in the change log (current + 1 when the log is empty) */
  oldestRetainedRevision(): Promise<number>;
  /** drop change-log entries older than `before`, keeping the newest `keepPerKey` of each key */
  pruneHistory(before: Date, keepPerKey: number): Promise<number>;
  close(): Promise<void>;
}

export class StoreError extends Error {
  override readonly name: string = 'StoreError';
}

/** The key named by a read or delete does not exist. */
export class KeyNotFoundError extends StoreError {
  override readonly name = 'KeyNotFoundError';
  constructor(readonly key: string) {
    super(`key not found: ${key}`);
  }
}

/** A conditional write found another revision (0 = the key is absent). */
export class RevisionConflictError extends StoreError {
  override readonly name = 'RevisionConflictError';
  constructor(
    readonly key: string,
    readonly currentRevision: number,
  ) {
    super(`revision mismatch on ${key}: current ${currentRevision}`);
  }
}

/** The database did not answer in time or cannot be reached: the request may be retried (503). */
export class StoreUnavailableError extends StoreError {
  override readonly name = 'StoreUnavailableError';
}

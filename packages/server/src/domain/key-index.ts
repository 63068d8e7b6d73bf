import { isZkValue } from '@stash/client/core';
import type { ChangeEntry, KeyMeta, Store } from '../storage/store.js';

/** What the index reads: every key once, then the change log after the revision it holds. */
export type KeyIndexSource = Pick<Store, 'list' | 'changesSince' | 'currentRevision'>;

export interface KeyIndexOptions {
  /** above this many keys the index is dropped and lists read the store (memory over speed) */
  maxKeys?: number;
  /** further behind than this many revisions, every key is read again instead of replaying */
  maxReplay?: number;
}

const DEFAULT_MAX_KEYS = 100_000;
const DEFAULT_MAX_REPLAY = 1_000;

/** The list order of the Store contract: updated_at descending, the later revision first on a tie. */
function newestFirst(a: KeyMeta, b: KeyMeta): number {
  return b.updatedAt.getTime() - a.updatedAt.getTime() || b.revision - a.revision;
}

/** First index in the ascending array whose key is >= `prefix`. */
function lowerBound(sorted: readonly string[], prefix: string): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((sorted[mid] as string) < prefix) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * Every key's metadata in memory at one global revision, so a prefix list is a range of a sorted
 * array instead of a store query. Before it answers it is brought to at least the revision the
 * caller read (or the current one): from the change log when a few writes behind (cheap), by
 * reading every key when far behind or when the log does not reach back (pruned). Every write,
 * on any server sharing the database, advances the revision and logs its change in the same
 * transaction, so an answer is never older than the revision read before asking.
 */
export class KeyIndex {
  private revision = -1;
  private byKey = new Map<string, KeyMeta>();
  /** keys ascending; undefined after creates or deletes until the next list sorts them */
  private sorted: string[] | undefined;
  private pending: Promise<void> | undefined;
  private tooBig = false;
  private readonly maxKeys: number;
  private readonly maxReplay: number;

  constructor(
    private readonly source: KeyIndexSource,
    options: KeyIndexOptions = {},
  ) {
    this.maxKeys = options.maxKeys ?? DEFAULT_MAX_KEYS;
    this.maxReplay = options.maxReplay ?? DEFAULT_MAX_REPLAY;
  }

  /**
   * Keys starting with `prefix`, newest first, as of a revision >= `atLeast` (read now when not
   * given); undefined when the store holds more keys than the index keeps: ask the store.
   */
  async list(prefix: string, atLeast?: number): Promise<KeyMeta[] | undefined> {
    if (this.tooBig) return undefined;
    const wanted = atLeast ?? (await this.source.currentRevision());
    // one catch-up at a time; a second pass when the one joined had read an older revision
    for (let pass = 0; this.revision < wanted && pass < 2; pass++) {
      this.pending ??= this.catchUp().finally(() => (this.pending = undefined));
      await this.pending;
      if (this.tooBig) return undefined;
    }
    const sorted = (this.sorted ??= [...this.byKey.keys()].sort());
    const out: KeyMeta[] = [];
    for (let i = prefix === '' ? 0 : lowerBound(sorted, prefix); i < sorted.length; i++) {
      const key = sorted[i] as string;
      if (!key.startsWith(prefix)) break;
      out.push(this.byKey.get(key) as KeyMeta);
    }
    return out.sort(newestFirst);
  }

  private async catchUp(): Promise<void> {
    const current = await this.source.currentRevision();
    const behind = current - this.revision;
    if (this.revision >= 0 && !this.tooBig && behind <= this.maxReplay) {
      const changes = await this.source.changesSince(this.revision, behind);
      if (changes.length > 64) this.sorted = undefined; // many at once: sort once, not splice each
      // revisions have no gaps: fewer entries than revisions means the log was pruned under us
      // (an update of a key never seen is not a state to build on: read everything then)
      if (changes.length === behind && changes[changes.length - 1]?.revision === current && changes.every((c) => this.apply(c))) {
        this.revision = current;
        this.tooBig = this.byKey.size > this.maxKeys;
        if (this.tooBig) this.drop();
        return;
      }
    }
    // read every key: the revision goes first, so a write racing the read only makes it look older
    const keys = await this.source.list();
    this.tooBig = keys.length > this.maxKeys;
    if (this.tooBig) return this.drop();
    this.byKey = new Map(keys.map((k) => [k.key, k]));
    this.sorted = undefined;
    this.revision = current;
  }

  /** Keep the key order after one create or delete: a splice (a memmove) beats sorting every key again. */
  private resort(key: string, added: boolean): void {
    const sorted = this.sorted;
    if (!sorted) return;
    const at = lowerBound(sorted, key);
    if (added) sorted.splice(at, 0, key);
    else if (sorted[at] === key) sorted.splice(at, 1);
  }

  /** Too many keys: hold nothing from now on; lists read the store (kept until restart). */
  private drop(): void {
    this.byKey = new Map();
    this.sorted = undefined;
  }

  /** One change applied; false (and the index to be read again) for an update of a key it lacks. */
  private apply(change: ChangeEntry): boolean {
    const before = this.byKey.get(change.key);
    if (change.action === 'delete' || change.value === null) {
      if (before && this.byKey.delete(change.key)) this.resort(change.key, false);
      return true;
    }
    if (change.action === 'update' && !before) return false;
    if (!before) this.resort(change.key, true);
    this.byKey.set(change.key, {
      key: change.key,
      size: change.value.byteLength,
      format: change.format,
      zkEncrypted: isZkValue(change.value),
      createdAt: change.action === 'update' && before ? before.createdAt : change.timestamp,
      updatedAt: change.timestamp,
      revision: change.revision,
    });
    return true;
  }
}

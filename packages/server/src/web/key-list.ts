import { isSecretKey, isZkValue } from '@stash/client/core';
import type { ListedKey, SecretsFilter } from '../domain/kv-service.js';
import type { ChangeEntry } from '../storage/store.js';
import type { Principal } from '../shared/access.js';
import type { SortMode } from './preferences.js';

/** A listed key as a row of the UI: what the viewer may do with it. */
export interface KeyRow extends ListedKey {
  writable: boolean;
}

export interface KeyListPage {
  rows: KeyRow[];
  /** keys matching the search, over all pages */
  total: number;
  /** 1-based, clamped to the pages there are */
  page: number;
  pages: number;
}

/** Keys in one order, with their lower-cased names for the search. */
export interface SortedKeys {
  keys: readonly ListedKey[];
  lower: readonly string[];
}

const COMPARE: Record<SortMode, (a: ListedKey, b: ListedKey) => number> = {
  updated: (a, b) => b.updatedAt.getTime() - a.updatedAt.getTime(),
  key: (a, b) => {
    const x = a.key.toLowerCase();
    const y = b.key.toLowerCase();
    return x < y ? -1 : x > y ? 1 : 0;
  },
  size: (a, b) => b.size - a.size,
  created: (a, b) => b.createdAt.getTime() - a.createdAt.getTime(),
};

/** Newest first for updated and created, largest first for size, A to Z (any case) for key. */
export function sortKeys(keys: readonly ListedKey[], mode: SortMode): SortedKeys {
  const sorted = [...keys].sort(COMPARE[mode]); // stable: equal values keep the store's order
  return { keys: sorted, lower: sorted.map((k) => k.key.toLowerCase()) };
}

/**
 * What the key table shows: readable keys only, filtered by a case-insensitive substring of the
 * key, cut to one page (`pageSize` 0 = everything on one page).
 */
export function pageOfKeys(
  sorted: SortedKeys,
  principal: Principal,
  options: { search: string; page: number; pageSize: number },
): KeyListPage {
  const needle = options.search.toLowerCase();
  const { keys, lower } = sorted;
  const matching: ListedKey[] = [];
  for (let i = 0; i < keys.length; i++) {
    const k = keys[i] as ListedKey;
    if ((needle === '' || (lower[i] as string).includes(needle)) && principal.canRead(k.key)) matching.push(k);
  }
  const total = matching.length;
  const size = options.pageSize > 0 ? options.pageSize : Math.max(total, 1);
  const pages = Math.max(1, Math.ceil(total / size));
  const page = Math.min(Math.max(1, options.page), pages);
  const rows = matching.slice((page - 1) * size, page * size).map((k) => ({ ...k, writable: principal.canWrite(k.key) }));
  return { rows, total, page, pages };
}

interface CachedList {
  revision: number;
  /** by key; Map order is irrelevant, every view is sorted */
  keys: Map<string, ListedKey>;
  sorted: Map<SortMode, SortedKeys>;
}

/** Where the cache reads: the newest revision, every key, and the changes after a revision. */
export interface KeyListSource {
  revision(): Promise<number>;
  list(filter: SecretsFilter): Promise<ListedKey[]>;
  changesSince(after: number, limit: number): Promise<ChangeEntry[]>;
}

/** Above this many keys a list is not kept between requests (memory over speed). */
const MAX_CACHED_KEYS = 200_000;
/** Further behind than this, read every key again: the replay carries values, so it stays short. */
const MAX_REPLAY = 200;

/**
 * Every key of one secrets filter, sorted per mode, valid at one global revision. Every write on
 * any server sharing the database advances the revision, so a list is never served stale. A list
 * a few revisions behind catches up from the change log (cheap) instead of reading every key;
 * the revision is read before the list or the changes, so a racing write only makes the entry
 * look older than it is.
 */
export class KeyListCache {
  private readonly lists = new Map<SecretsFilter, CachedList>();

  constructor(private readonly source: KeyListSource) {}

  async sorted(filter: SecretsFilter, mode: SortMode): Promise<SortedKeys> {
    const revision = await this.source.revision();
    let entry = this.lists.get(filter);
    if (entry && entry.revision !== revision) entry = await this.catchUp(entry, filter, revision);
    if (!entry) {
      const keys = await this.source.list(filter);
      entry = { revision, keys: new Map(keys.map((k) => [k.key, k])), sorted: new Map() };
      if (keys.length <= MAX_CACHED_KEYS) this.lists.set(filter, entry);
      else this.lists.delete(filter);
    }
    let view = entry.sorted.get(mode);
    if (!view) entry.sorted.set(mode, (view = sortKeys([...entry.keys.values()], mode)));
    return view;
  }

  /** The entry moved to `revision` by the changes in between, or undefined when it must be read again. */
  private async catchUp(entry: CachedList, filter: SecretsFilter, revision: number): Promise<CachedList | undefined> {
    const behind = revision - entry.revision;
    if (behind < 0 || behind > MAX_REPLAY) return undefined;
    const changes = await this.source.changesSince(entry.revision, behind);
    // revisions have no gaps: fewer changes than that means the log was pruned under us
    if (changes.length !== behind || changes[changes.length - 1]?.revision !== revision) return undefined;
    const keys = new Map(entry.keys);
    for (const change of changes) {
      const secret = isSecretKey(change.key);
      if ((filter === 'secrets' && !secret) || (filter === 'keys' && secret)) continue;
      if (change.action === 'delete' || !change.value) {
        keys.delete(change.key);
        continue;
      }
      const before = keys.get(change.key);
      if (change.action === 'update' && !before) return undefined; // not a state this list has seen
      keys.set(change.key, {
        key: change.key,
        size: change.value.byteLength,
        format: change.format,
        zkEncrypted: isZkValue(change.value),
        createdAt: change.action === 'create' || !before ? change.timestamp : before.createdAt,
        updatedAt: change.timestamp,
        revision: change.revision,
        secret,
      });
    }
    const next = { revision, keys, sorted: new Map<SortMode, SortedKeys>() };
    this.lists.set(filter, next);
    return next;
  }
}

import type { ListedKey, SecretsFilter } from '../domain/kv-service.js';
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

/** One folder of the tree: its subfolders with how many readable keys each holds, and its own keys. */
export interface FolderPage {
  /** '' for the top, else ending in `/` */
  folder: string;
  folders: { name: string; path: string; count: number }[];
  keys: KeyListPage;
}

/**
 * The folder `folder` of the key tree (keys split at `/`): the readable keys directly in it, a
 * page of them, and its subfolders with their key counts. One pass over the sorted keys.
 */
export function folderOfKeys(
  sorted: SortedKeys,
  principal: Principal,
  options: { folder: string; page: number; pageSize: number },
): FolderPage {
  const { folder } = options;
  const counts = new Map<string, number>();
  const own: ListedKey[] = [];
  for (const k of sorted.keys) {
    if (!k.key.startsWith(folder) || !principal.canRead(k.key)) continue;
    const rest = k.key.slice(folder.length);
    const slash = rest.indexOf('/');
    if (slash === -1) own.push(k);
    else {
      const name = rest.slice(0, slash);
      counts.set(name, (counts.get(name) ?? 0) + 1);
    }
  }
  const folders = [...counts]
    .sort(([a], [b]) => (a.toLowerCase() < b.toLowerCase() ? -1 : a.toLowerCase() > b.toLowerCase() ? 1 : 0))
    .map(([name, count]) => ({ name, path: `${folder}${name}/`, count }));
  const keys = pageOfKeys({ keys: own, lower: own.map((k) => k.key.toLowerCase()) }, principal, { search: '', page: options.page, pageSize: options.pageSize });
  return { folder, folders, keys };
}

interface CachedList {
  revision: number;
  keys: readonly ListedKey[];
  sorted: Map<SortMode, SortedKeys>;
}

/** Where the cache reads: the newest revision, and every key as of at least a revision. */
export interface KeyListSource {
  revision(): Promise<number>;
  list(filter: SecretsFilter, atLeast: number): Promise<ListedKey[]>;
}

/**
 * Every key of one secrets filter, sorted per mode, valid at one global revision. Every write on
 * any server sharing the database advances the revision, so a list is never served stale; after a
 * write it is read again, which the domain's key index answers from memory.
 */
export class KeyListCache {
  private readonly lists = new Map<SecretsFilter, CachedList>();

  constructor(private readonly source: KeyListSource) {}

  async sorted(filter: SecretsFilter, mode: SortMode): Promise<SortedKeys> {
    const revision = await this.source.revision();
    let entry = this.lists.get(filter);
    if (!entry || entry.revision !== revision) {
      entry = { revision, keys: await this.source.list(filter, revision), sorted: new Map() };
      this.lists.set(filter, entry);
    }
    let view = entry.sorted.get(mode);
    if (!view) entry.sorted.set(mode, (view = sortKeys(entry.keys, mode)));
    return view;
  }
}

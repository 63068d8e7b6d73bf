import type { ListedKey } from '../domain/kv-service.js';
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

/**
 * What the key table shows: readable keys only, filtered by a case-insensitive substring of the
 * key, sorted, and cut to one page (`pageSize` 0 = everything on one page).
 */
export function buildKeyList(
  keys: readonly ListedKey[],
  principal: Principal,
  options: { search: string; sort: SortMode; page: number; pageSize: number },
): KeyListPage {
  const needle = options.search.toLowerCase();
  const matching = keys.filter((k) => (needle === '' || k.key.toLowerCase().includes(needle)) && principal.canRead(k.key));
  matching.sort(COMPARE[options.sort]); // stable: equal values keep the store's order
  const total = matching.length;
  const size = options.pageSize > 0 ? options.pageSize : Math.max(total, 1);
  const pages = Math.max(1, Math.ceil(total / size));
  const page = Math.min(Math.max(1, options.page), pages);
  const rows = matching.slice((page - 1) * size, page * size).map((k) => ({ ...k, writable: principal.canWrite(k.key) }));
  return { rows, total, page, pages };
}

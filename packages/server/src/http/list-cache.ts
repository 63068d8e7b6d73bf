import type { ListedKey } from '../domain/kv-service.js';
import { keyInfoJson } from '../shared/wire-format.js';

interface CachedList {
  revision: number;
  keys: string[];
  /** each item's JSON, so a caller's readable subset is a join, not a re-serialisation */
  parts: string[];
  /** the whole answer, for callers who may read every key (made on first use) */
  full?: string;
}

const MAX_LISTS = 64;
/** items kept over all lists (about 250 bytes each): a bound on memory, not on list size */
const MAX_TOTAL_ITEMS = 50_000;

/**
 * Serialised list answers per (prefix, filter), valid while the global revision is unchanged.
 * Every write advances the revision in the same transaction, on any server sharing the
 * database, so a list is never served stale; the revision is read before the list, so a write
 * racing the read only makes the entry look older than it is and it is rebuilt next time.
 *
 * A list is kept only when it was asked for again within the last MAX_LISTS misses: lists asked
 * once (a scan over many prefixes) are answered without being stored, so they neither push the
 * hot ones out nor leave old-generation garbage behind (GC was a third of a miss's cost).
 */
export class ListCache {
  private readonly lists = new Map<string, CachedList>();
  private items = 0;
  /** recent misses: list id -> the revision it was read at */
  private readonly seen = new Map<string, number>();

  async body(
    prefix: string,
    filter: string,
    revisionNow: () => Promise<number>,
    load: (revision: number) => Promise<ListedKey[]>,
    canRead: (key: string) => boolean,
  ): Promise<string> {
    const id = `${filter}\u0000${prefix}`;
    const revision = await revisionNow();
    let entry = this.lists.get(id);
    if (!entry || entry.revision !== revision) {
      const keys = await load(revision);
      if (!entry && this.seen.get(id) !== revision) {
        this.remember(id, revision);
        return answer(keys, canRead);
      }
      this.seen.delete(id);
      entry = { revision, keys: keys.map((k) => k.key), parts: keys.map(keyInfoJson) };
      this.drop(id);
      if (keys.length <= MAX_TOTAL_ITEMS) {
        while (this.lists.size >= MAX_LISTS || this.items + keys.length > MAX_TOTAL_ITEMS) {
          this.drop(this.lists.keys().next().value as string);
        }
        this.lists.set(id, entry);
        this.items += keys.length;
      }
    }
    const { keys, parts } = entry;
    let readable: string[] | undefined;
    for (let i = 0; i < parts.length; i++) {
      if (canRead(keys[i] as string)) readable?.push(parts[i] as string);
      else readable ??= parts.slice(0, i);
    }
    // Array.join makes one flat string; `+=` over the parts would hand the socket a rope to flatten
    if (!readable) return (entry.full ??= `[${parts.join(',')}]\n`);
    return `[${readable.join(',')}]\n`;
  }

  private remember(id: string, revision: number): void {
    this.seen.delete(id);
    if (this.seen.size >= MAX_LISTS) this.seen.delete(this.seen.keys().next().value as string);
    this.seen.set(id, revision);
  }

  private drop(id: string): void {
    const old = this.lists.get(id);
    if (!old) return;
    this.lists.delete(id);
    this.items -= old.keys.length;
  }
}

/** A list answer built straight from the keys, for lists not worth keeping. */
function answer(keys: readonly ListedKey[], canRead: (key: string) => boolean): string {
  const parts: string[] = [];
  for (const k of keys) if (canRead(k.key)) parts.push(keyInfoJson(k));
  return `[${parts.join(',')}]\n`;
}

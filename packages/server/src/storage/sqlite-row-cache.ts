import type { KeyRecord } from './store.js';

/** Values above this size are read from SQLite every time (16 KiB: config values are small). */
export const MAX_CACHED_VALUE = 16 * 1024;

/**
 * Recently read rows of one SQLite connection. A SQLite read costs more than the rest of a GET
 * (and a Buffer straight from the driver is slow to write to a socket), so hot keys are served
 * from memory. Our own commits invalidate their keys synchronously; commits by any other
 * connection to the same file change `PRAGMA data_version`, which is re-checked at most every
 * `recheckMs`, so another process's writes are seen within that window.
 */
export class SqliteRowCache {
  private readonly rows = new Map<string, KeyRecord>();
  private version: number;
  private checkedAt = 0;

  constructor(
    private readonly readVersion: () => number,
    private readonly maxRows: number,
    private readonly recheckMs = 1,
  ) {
    this.version = readVersion();
  }

  /** The cached row, or undefined (always, with maxRows 0: no data_version check is paid then). */
  get(key: string): KeyRecord | undefined {
    if (this.maxRows === 0) return undefined;
    const now = performance.now();
    if (now - this.checkedAt >= this.recheckMs) {
      this.checkedAt = now;
      const version = this.readVersion();
      if (version !== this.version) {
        this.version = version;
        this.rows.clear();
        return undefined;
      }
    }
    return this.rows.get(key);
  }

  /**
   * Keep a row just read; its value is copied into a pooled buffer, which sockets write faster.
   * Large values are not kept, so the cache stays within maxRows * MAX_CACHED_VALUE bytes.
   */
  remember(record: KeyRecord): KeyRecord {
    if (this.maxRows === 0 || record.value.byteLength > MAX_CACHED_VALUE) return record;
    const kept = { ...record, value: Buffer.from(record.value) };
    if (this.rows.size >= this.maxRows) {
      const oldest = this.rows.keys().next();
      if (!oldest.done) this.rows.delete(oldest.value);
    }
    this.rows.set(record.key, kept);
    return kept;
  }

  invalidate(key: string): void {
    this.rows.delete(key);
  }

  clear(): void {
    this.rows.clear();
  }
}

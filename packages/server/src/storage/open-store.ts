import type { Store } from './store.js';

/** `postgres://` or `postgresql://` (any case) selects PostgreSQL; anything else is a SQLite path or DSN. */
export function isPostgresUrl(db: string): boolean {
  return /^postgres(ql)?:\/\//i.test(db);
}

export interface OpenStoreOptions {
  sync: 'full' | 'normal';
  /** SQLite rows kept in memory for reads (see SqliteRowCache) */
  rowCache?: number;
}

/** Open the store the `--db` value names; adapters load lazily so SQLite users never load the PG driver. */
export async function openStore(db: string, options: OpenStoreOptions): Promise<Store> {
  if (isPostgresUrl(db)) {
    const { PostgresStore } = await import('./postgres-store.js');
    return PostgresStore.connect(db);
  }
  const { SqliteStore } = await import('./sqlite-store.js');
  return new SqliteStore({ path: db, sync: options.sync, rowCache: options.rowCache });
}

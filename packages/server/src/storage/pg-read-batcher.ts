import type { Sql } from 'postgres';
import { StoreUnavailableError } from './store.js';

type Row = Record<string, unknown>;

const REVISION_ONLY = `SELECT value AS db_revision FROM stash_meta WHERE name = 'revision'`;

/** What one batched query returns: the database revision and the rows of the keys asked, at one snapshot. */
export interface ReadSnapshot {
  revision: number;
  rows: Map<string, Row>;
}

interface Waiter {
  /** Date.now() when the read arrived: its deadline counts from then, not from its batch */
  at: number;
  resolve: (snapshot: ReadSnapshot) => void;
  reject: (error: unknown) => void;
}

export interface ReadBatcherOptions {
  /** the row columns to select from `kv` (aliased as the adapter maps them) */
  columns: string;
  /** a batch whose answer takes longer fails its readers with 503 (a black-holed connection) */
  timeoutMs: number;
}

/**
 * Linearizable reads that share round trips, as etcd's ReadIndex does. Every read waits for a
 * query that *starts after the read began*, so it sees every write acknowledged before that;
 * reads arriving while a query is in flight wait for the next one, which asks for all their keys
 * at once together with the current revision (one statement, one snapshot). Under load the
 * batch grows with the number of waiting readers, so the database sees one query per round trip
 * instead of one per read.
 */
export class ReadBatcher {
  private keys = new Set<string>();
  private waiters: Waiter[] = [];
  private inFlight = false;

  constructor(
    private readonly sql: Sql,
    private readonly options: ReadBatcherOptions,
  ) {}

  /** The revision and (when `key` is given) that key's row, read by a query that started after this call. */
  read(key?: string): Promise<ReadSnapshot> {
    return new Promise((resolve, reject) => {
      if (key !== undefined) this.keys.add(key);
      this.waiters.push({ at: Date.now(), resolve, reject });
      this.maybeStart();
    });
  }

  /**
   * One query at a time: a second one in flight while the first answers (tried) only adds
   * round trips and makes reads slower on a busy machine.
   */
  private maybeStart(): void {
    if (!this.inFlight && this.waiters.length > 0) this.start();
  }

  private start(): void {
    const keys = [...this.keys];
    const waiters = this.waiters;
    this.keys = new Set();
    this.waiters = [];
    this.inFlight = true;
    let settled = false;
    const done = (): void => {
      settled = true;
      this.inFlight = false;
      this.maybeStart();
    };
    const deadline = (waiters[0] as Waiter).at + this.options.timeoutMs;
    const timer = setTimeout(() => {
      const error = new StoreUnavailableError(`database did not answer a read within ${this.options.timeoutMs} ms`);
      for (const w of waiters) w.reject(error);
      done(); // the stuck query may still answer; the next batch does not wait for it
    }, Math.max(0, deadline - Date.now()));
    this.query(keys).then(
      (snapshot) => {
        if (settled) return;
        for (const w of waiters) w.resolve(snapshot);
      },
      (error: unknown) => {
        if (settled) return;
        for (const w of waiters) w.reject(error);
      },
    ).finally(() => {
      if (settled) return;
      clearTimeout(timer);
      done();
    });
  }

  private async query(keys: string[]): Promise<ReadSnapshot> {
    // the meta row always yields one row, so the revision comes back even when no key matches;
    // one key (the common batch at low load) skips the array parameter's encoding and decoding
    const rows: Row[] =
      keys.length === 0
        ? await this.sql.unsafe(REVISION_ONLY, [], { prepare: true })
        : await this.sql.unsafe(
            `SELECT m.value AS db_revision, ${this.options.columns}
             FROM stash_meta m LEFT JOIN kv ON ${keys.length === 1 ? 'kv.key = $1' : 'kv.key = ANY($1::text[])'}
             WHERE m.name = 'revision'`,
            [keys.length === 1 ? (keys[0] as string) : keys],
            { prepare: true },
          );
    const found = new Map<string, Row>();
    for (const row of rows) if (typeof row['key'] === 'string') found.set(row['key'], row);
    return { revision: Number(rows[0]?.['db_revision'] ?? 0), rows: found };
  }
}

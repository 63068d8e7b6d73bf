import postgres, { type Sql, type TransactionSql } from 'postgres';
import { migratePostgres } from './postgres-schema.js';
import { boundedConnectionOptions, PG_IDLE_IN_TRANSACTION_MS } from './pg-connection-options.js';
import { prefixUpperBound } from './prefix-range.js';
import { KV_COLUMNS, META_COLUMNS, num, RANGE, toChange, toMeta, toRecord, type Row } from './pg-rows.js';
import { ReadBatcher } from './pg-read-batcher.js';
import { plan } from './pg-write-plan.js';
import { endStalledLockHolders, PG_APPLICATION_NAME } from './pg-stalled-sessions.js';
import {
  type ChangeEntry,
  type ExportResult,
  type KeyMeta,
  type KeyRecord,
  type ListOptions,
  type Store,
  type WriteOp,
} from './store.js';

export interface PostgresStoreOptions {
  /** pool size; the original used 25, a modest pool is plenty for one Node process */
  max?: number;
  /** a read batch unanswered for this long fails with 503 (default 5 s) */
  readTimeoutMs?: number;
  /** sees every query sent (tests use it to EXPLAIN the store's own statements) */
  debug?: (connection: number, query: string, parameters: unknown[]) => void;
}

interface PendingWrite {
  ops: readonly WriteOp[];
  actor: string;
  resolve: (entries: ChangeEntry[]) => void;
  reject: (error: unknown) => void;
}
type UnitOutcome = { ok: true; entries: ChangeEntry[] } | { ok: false; error: unknown };
const MAX_GROUP = 256;
/** PostgreSQL's type oid of bytea: the driver cannot infer an array's type from a null first element */
const BYTEA = 17;
/** decoded records of rows from the read batcher: the readers of one key in a batch share one */
const recordsByRow = new WeakMap<Row, KeyRecord>();

/**
 * PostgreSQL adapter. Several servers may share one database: each write transaction takes its
 * revisions from the `stash_meta` counter row, whose row lock serialises writers until commit,
 * so revisions become visible strictly in order and a rolled-back write leaves no gap.
 */
export class PostgresStore implements Store {
  readonly engine = 'postgres' as const;

  /** the connection pool; the auth and audit adapters build their tables on it */
  readonly sql: Sql;

  private readonly reads: ReadBatcher;

  private constructor(sql: Sql, readTimeoutMs: number) {
    this.sql = sql;
    this.reads = new ReadBatcher(sql, { columns: KV_COLUMNS, timeoutMs: readTimeoutMs });
  }

  /** Connect, migrate the schema and return the store; the pool is closed again if that fails. */
  static async connect(url: string, options: PostgresStoreOptions = {}): Promise<PostgresStore> {
    const sql = postgres(url, {
      max: options.max ?? 10,
      idle_timeout: 300,
      // an unreachable database fails start-up soon, with the driver's reason; a silent one cuts
      // the waiting connection, reconnects retry within 0.2 s (pg-connection-options.ts)
      ...boundedConnectionOptions(),
      onnotice: () => undefined,
      connection: {
        TimeZone: 'UTC',
        application_name: PG_APPLICATION_NAME,
        idle_in_transaction_session_timeout: PG_IDLE_IN_TRANSACTION_MS,
      },
      ...(options.debug ? { debug: options.debug } : {}),
    });
    try {
      await migratePostgres(sql);
    } catch (error) {
      await sql.end({ timeout: 1 });
      throw error;
    }
    return new PostgresStore(sql, options.readTimeoutMs ?? 5000);
  }

  /** Linearizable: batched with concurrent reads into one query that starts after this call. */
  async get(key: string): Promise<KeyRecord | undefined> {
    const row = (await this.reads.read(key)).rows.get(key);
    if (!row) return undefined;
    let record = recordsByRow.get(row);
    if (!record) recordsByRow.set(row, (record = toRecord(row)));
    return record;
  }

  /** The database's revision, read by a query that started after this call (shared with concurrent reads). */
  async fence(): Promise<number> {
    return (await this.reads.read()).revision;
  }

  async list(options: ListOptions = {}): Promise<KeyMeta[]> {
    const prefix = options.prefix ?? '';
    const upper = prefixUpperBound(prefix);
    const order = 'ORDER BY updated_at DESC NULLS LAST, revision DESC';
    // no bound only for '' and all-U+10FFFF prefixes; the filter makes the latter exact
    const rows =
      upper === undefined
        ? await this.sql.unsafe(`SELECT ${META_COLUMNS} FROM kv ${order}`)
        : await this.sql.unsafe(`SELECT ${META_COLUMNS} FROM kv WHERE ${RANGE} ${order}`, [prefix, upper]);
    return rows.filter((r) => (r['key'] as string).startsWith(prefix)).map(toMeta);
  }

  async exportValues(prefix = ''): Promise<ExportResult> {
    // one snapshot for the rows and the counter: the revision names exactly this state
    return this.sql.begin('ISOLATION LEVEL REPEATABLE READ READ ONLY', async (tx) => {
      const upper = prefixUpperBound(prefix);
      const order = 'ORDER BY key COLLATE "C"';
      const rows =
        upper === undefined
          ? await tx.unsafe(`SELECT ${KV_COLUMNS} FROM kv ${order}`)
          : await tx.unsafe(`SELECT ${KV_COLUMNS} FROM kv WHERE ${RANGE} ${order}`, [prefix, upper]);
      const [meta] = await tx`SELECT value FROM stash_meta WHERE name = 'revision'`;
      const items = rows.filter((r) => (r['key'] as string).startsWith(prefix)).map(toRecord);
      return { revision: num(meta?.['value']), items };
    });
  }

  apply(ops: readonly WriteOp[], actor = ''): Promise<ChangeEntry[]> {
    if (ops.length === 0) return Promise.resolve([]);
    return new Promise((resolve, reject) => {
      this.pending.push({ ops, actor, resolve, reject });
      if (!this.draining) this.drained = this.drain();
    });
  }

  // group commit: writes arriving while a transaction runs go together into the next one,
  // one commit (and one WAL flush) for all of them; each unit still succeeds or fails alone
  private readonly pending: PendingWrite[] = [];
  private draining = false;
  private drained: Promise<void> = Promise.resolve();

  private async drain(): Promise<void> {
    this.draining = true;
    try {
      while (this.pending.length > 0) {
        const group = this.pending.splice(0, MAX_GROUP);
        let outcomes: UnitOutcome[];
        try {
          outcomes = await this.whileEndingStalledHolders(this.sql.begin((tx) => this.applyGroup(tx, group)));
        } catch (error) {
          for (const unit of group) unit.reject(error);
          continue;
        }
        group.forEach((unit, i) => {
          const o = outcomes[i] as UnitOutcome;
          if (o.ok) unit.resolve(o.entries);
          else unit.reject(o.error);
        });
      }
    } finally {
      this.draining = false;
    }
  }

  /**
   * While a write transaction runs longer than any healthy one, end the sessions that hold its
   * locks from a client that stopped mid-statement (pg-stalled-sessions.ts), once a second.
   */
  private async whileEndingStalledHolders<T>(transaction: Promise<T>): Promise<T> {
    const started = Date.now();
    let ending = false;
    const timer = setInterval(() => {
      if (ending || Date.now() - started < PG_IDLE_IN_TRANSACTION_MS) return;
      ending = true;
      void endStalledLockHolders(this.sql, PG_IDLE_IN_TRANSACTION_MS).finally(() => (ending = false));
    }, 1000);
    timer.unref();
    try {
      return await transaction;
    } finally {
      clearInterval(timer);
    }
  }

  private async applyGroup(tx: TransactionSql, group: readonly PendingWrite[]): Promise<UnitOutcome[]> {
    // the counter row lock is held until commit: the next writer (in any process) waits here.
    // Both statements are pipelined in this order, so every writer locks the counter first.
    const keys = [...new Set(group.flatMap((unit) => unit.ops.map((op) => op.key)))];
    const [[counter], locked] = await Promise.all([
      tx`SELECT value FROM stash_meta WHERE name = 'revision' FOR UPDATE`,
      tx`SELECT key, revision FROM kv WHERE key = ANY(${keys}) FOR UPDATE`,
    ]);
    let current = new Map<string, number>(locked.map((r) => [r['key'] as string, num(r['revision'])]));
    let revision = num(counter?.['value']);
    const now = new Date();
    const outcomes: UnitOutcome[] = [];
    const entries: ChangeEntry[] = [];
    for (const unit of group) {
      // checks run in memory against the locked rows plus the group's earlier units
      const trial = new Map(current);
      try {
        const planned = plan(unit.ops, trial, revision, now, unit.actor);
        revision += planned.length;
        current = trial;
        entries.push(...planned);
        outcomes.push({ ok: true, entries: planned });
      } catch (error) {
        outcomes.push({ ok: false, error });
      }
    }
    if (entries.length === 0) return outcomes;

    // every write of the group at once (one round trip while the locks are held), in order
    const at = now;
    const writes = entries.map((e) => {
      if (e.action === 'delete') return tx`DELETE FROM kv WHERE key = ${e.key}`;
      if (e.action === 'create') {
        return tx`
          INSERT INTO kv (key, value, format, created_at, updated_at, revision)
          VALUES (${e.key}, ${e.value}, ${e.format}, ${at}::timestamptz AT TIME ZONE 'UTC',
                  ${at}::timestamptz AT TIME ZONE 'UTC', ${e.revision})`;
      }
      return tx`
        UPDATE kv SET value = ${e.value}, format = ${e.format},
          updated_at = ${at}::timestamptz AT TIME ZONE 'UTC', revision = ${e.revision}
        WHERE key = ${e.key}`;
    });
    // one statement text for any group size: prepared once per connection, so no Describe round
    // trip while the locks are held (postgres.js describes every new statement first)
    const column = <T,>(pick: (e: ChangeEntry) => T): T[] => entries.map(pick);
    const ts = at.getTime();
    await Promise.all([
      ...writes,
      tx`
        INSERT INTO kv_history (revision, key, action, format, value, ts, actor)
        SELECT * FROM unnest(${tx.array(column((e) => e.revision))}::bigint[], ${tx.array(column((e) => e.key))}::text[],
          ${tx.array(column((e) => e.action))}::text[], ${tx.array(column((e) => e.format))}::text[],
          ${tx.array(column((e) => e.value), BYTEA)}::bytea[], ${tx.array(column(() => ts))}::bigint[],
          ${tx.array(column((e) => e.actor))}::text[])`,
      tx`UPDATE stash_meta SET value = ${revision} WHERE name = 'revision'`,
    ]);
    return outcomes;
  }

  async history(key: string, limit: number): Promise<ChangeEntry[]> {
    const rows = await this.sql`SELECT * FROM kv_history WHERE key = ${key} ORDER BY revision DESC LIMIT ${limit}`;
    return rows.map(toChange);
  }

  async getAt(key: string, revision: number): Promise<KeyRecord | undefined> {
    const [row] = await this.sql`
      SELECT * FROM kv_history WHERE key = ${key} AND revision <= ${revision} ORDER BY revision DESC LIMIT 1`;
    if (row) {
      const entry = toChange(row);
      if (entry.action === 'delete' || entry.value === null) return undefined;
      const ts = entry.timestamp;
      return { key, value: entry.value, format: entry.format, createdAt: ts, updatedAt: ts, revision: entry.revision };
    }
    // keys written before the change log existed: only their current value is known
    const current = await this.get(key);
    return current && current.revision <= revision && revision <= (await this.currentRevision()) ? current : undefined;
  }

  async changesSince(after: number, limit: number): Promise<ChangeEntry[]> {
    const rows = await this.sql`SELECT * FROM kv_history WHERE revision > ${after} ORDER BY revision LIMIT ${limit}`;
    return rows.map(toChange);
  }

  currentRevision(): Promise<number> {
    return this.fence();
  }

  async oldestRetainedRevision(): Promise<number> {
    return (await this.meta('pruned_through')) + 1;
  }

  private async meta(name: string): Promise<number> {
    const [row] = await this.sql`SELECT value FROM stash_meta WHERE name = ${name}`;
    return num(row?.['value']);
  }

  async pruneHistory(before: Date, keepPerKey: number): Promise<number> {
    return this.sql.begin(async (tx) => {
      const [pruned] = await tx`
        WITH doomed AS (
          DELETE FROM kv_history WHERE revision IN (
            SELECT revision FROM (
              SELECT revision, ts, row_number() OVER (PARTITION BY key ORDER BY revision DESC) AS rn FROM kv_history
            ) ranked WHERE ts < ${before.getTime()} AND rn > ${keepPerKey}
          ) RETURNING revision
        )
        SELECT count(*)::int AS count, max(revision) AS top FROM doomed`;
      const count = num(pruned?.['count']);
      if (count > 0) {
        await tx`
          UPDATE stash_meta SET value = GREATEST(value, ${num(pruned?.['top'])}) WHERE name = 'pruned_through'`;
      }
      return count;
    });
  }

  async close(): Promise<void> {
    await this.drained; // writes already accepted commit before the pool ends
    await this.sql.end({ timeout: 5 });
  }
}

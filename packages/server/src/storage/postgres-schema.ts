import type { Sql, TransactionSql } from 'postgres';

/** The original's audit table (compat 9.1); the audit log creates it too when it is missing. */
export const AUDIT_LOG_TABLE = `CREATE TABLE IF NOT EXISTS audit_log (
  id SERIAL PRIMARY KEY,
  timestamp TIMESTAMPTZ NOT NULL,
  action TEXT NOT NULL,
  key TEXT NOT NULL,
  actor TEXT NOT NULL,
  actor_type TEXT NOT NULL,
  result TEXT NOT NULL,
  ip TEXT,
  user_agent TEXT,
  value_size INTEGER,
  request_id TEXT
)`;

// arbitrary but fixed: every Stash server migrating this database takes the same advisory lock
const MIGRATION_LOCK_ID = 0x57a5_4001;

// the original's tables and indexes (compat 9.1) first, so a database moves both ways; our
// additions are a column with a default, a "C"-collated key index for prefix range scans, and
// tables the original never reads. Each step names the catalog check that makes it unnecessary:
// on an up-to-date database no DDL runs at all, so a server starting next to busy ones takes no
// table lock (ALTER/CREATE INDEX would queue behind writers and deadlock with the counter lock).
const table = (name: string): string => `to_regclass('${name}') IS NOT NULL`;
const column = (tableName: string, name: string): string =>
  `EXISTS (SELECT 1 FROM information_schema.columns
    WHERE table_schema = current_schema() AND table_name = '${tableName}' AND column_name = '${name}')`;

const STEPS: ReadonlyArray<{ present: string; ddl: string }> = [
  {
    present: table('kv'),
    ddl: `CREATE TABLE IF NOT EXISTS kv (
      key TEXT PRIMARY KEY,
      value BYTEA NOT NULL,
      format TEXT NOT NULL DEFAULT 'text',
      created_at TIMESTAMP DEFAULT NOW(),
      updated_at TIMESTAMP DEFAULT NOW()
    )`,
  },
  {
    present: table('sessions'),
    ddl: `CREATE TABLE IF NOT EXISTS sessions (
      token TEXT PRIMARY KEY,
      username TEXT NOT NULL,
      expires_at TIMESTAMPTZ NOT NULL
    )`,
  },
  { present: table('idx_sessions_expires'), ddl: 'CREATE INDEX IF NOT EXISTS idx_sessions_expires ON sessions(expires_at)' },
  { present: table('idx_sessions_username'), ddl: 'CREATE INDEX IF NOT EXISTS idx_sessions_username ON sessions(username)' },
  {
    present: table('audit_log'),
    ddl: AUDIT_LOG_TABLE,
  },
  { present: table('idx_audit_timestamp'), ddl: 'CREATE INDEX IF NOT EXISTS idx_audit_timestamp ON audit_log(timestamp)' },
  { present: table('idx_audit_key'), ddl: 'CREATE INDEX IF NOT EXISTS idx_audit_key ON audit_log(key)' },
  { present: table('idx_audit_actor'), ddl: 'CREATE INDEX IF NOT EXISTS idx_audit_actor ON audit_log(actor)' },
  { present: table('idx_audit_ts_key'), ddl: 'CREATE INDEX IF NOT EXISTS idx_audit_ts_key ON audit_log(timestamp, key)' },
  { present: column('kv', 'format'), ddl: `ALTER TABLE kv ADD COLUMN IF NOT EXISTS format TEXT NOT NULL DEFAULT 'text'` },
  { present: column('kv', 'revision'), ddl: 'ALTER TABLE kv ADD COLUMN IF NOT EXISTS revision BIGINT NOT NULL DEFAULT 0' },
  // byte-order index: prefix lists are a range scan whatever the database collation is
  { present: table('idx_kv_key_c'), ddl: 'CREATE INDEX IF NOT EXISTS idx_kv_key_c ON kv (key COLLATE "C")' },
  {
    present: table('stash_meta'),
    ddl: `CREATE TABLE IF NOT EXISTS stash_meta (
      name TEXT PRIMARY KEY,
      value BIGINT NOT NULL
    )`,
  },
  {
    present: table('kv_history'),
    ddl: `CREATE TABLE IF NOT EXISTS kv_history (
      revision BIGINT PRIMARY KEY,
      key TEXT NOT NULL,
      action TEXT NOT NULL,
      format TEXT NOT NULL,
      value BYTEA,
      ts BIGINT NOT NULL,
      actor TEXT NOT NULL DEFAULT ''
    )`,
  },
  { present: table('idx_kv_history_key'), ddl: 'CREATE INDEX IF NOT EXISTS idx_kv_history_key ON kv_history(key, revision)' },
  { present: table('idx_kv_history_ts'), ddl: 'CREATE INDEX IF NOT EXISTS idx_kv_history_ts ON kv_history(ts)' },
];

/**
 * Create or upgrade the schema; idempotent, safe on a database written by the original, and
 * safe when several servers start at once (one transaction under an advisory lock).
 */
export async function migratePostgres(sql: Sql): Promise<void> {
  await sql.begin(async (tx) => {
    await tx`SELECT pg_advisory_xact_lock(${MIGRATION_LOCK_ID})`;
    const [present] = await tx.unsafe(`SELECT ${STEPS.map((step, i) => `${step.present} AS s${i}`).join(', ')}`);
    // a step whose table is created here runs too, harmlessly (IF NOT EXISTS, no one else uses it yet)
    for (const [i, step] of STEPS.entries()) {
      if (present?.[`s${i}`] !== true) await tx.unsafe(step.ddl);
    }
    const [meta] = await tx`SELECT count(*)::int AS count FROM stash_meta WHERE name IN ('revision', 'pruned_through')`;
    if (meta?.['count'] !== 2) {
      await tx`INSERT INTO stash_meta(name, value) VALUES ('revision', 0), ('pruned_through', 0) ON CONFLICT (name) DO NOTHING`;
    }
    const [legacy] = await tx`SELECT EXISTS (SELECT 1 FROM kv WHERE revision = 0) AS found`;
    if (legacy?.['found'] === true) await assignLegacyRevisions(tx);
  });
}

/**
 * Rows written by the original (or before the column existed) get a revision of their own, in
 * the order they were last written. The counter row is locked first, as every writer does.
 */
async function assignLegacyRevisions(tx: TransactionSql): Promise<void> {
  const [counter] = await tx`SELECT value FROM stash_meta WHERE name = 'revision' FOR UPDATE`;
  const base = Number(counter?.['value'] ?? 0);
  const [assigned] = await tx`
    WITH legacy AS (
      SELECT key, row_number() OVER (ORDER BY updated_at, key COLLATE "C") AS n FROM kv WHERE revision = 0
    ), done AS (
      UPDATE kv SET revision = ${base} + legacy.n FROM legacy WHERE kv.key = legacy.key RETURNING kv.revision
    )
    SELECT count(*)::int AS count FROM done`;
  const top = base + Number(assigned?.['count'] ?? 0);
  // their earlier history is unknown: streams cannot replay below this point
  await tx`UPDATE stash_meta SET value = ${top} WHERE name IN ('revision', 'pruned_through')`;
}

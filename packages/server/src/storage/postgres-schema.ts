import type { Sql } from 'postgres';

// arbitrary but fixed: every Stash server migrating this database takes the same advisory lock
const MIGRATION_LOCK_ID = 0x57a5_4001;

// the original's tables and indexes (compat 9.1) first, so a database moves both ways; our
// additions are a column with a default, a "C"-collated key index for prefix range scans, and
// tables the original never reads.
const BASE_SCHEMA = [
  `CREATE TABLE IF NOT EXISTS kv (
    key TEXT PRIMARY KEY,
    value BYTEA NOT NULL,
    format TEXT NOT NULL DEFAULT 'text',
    created_at TIMESTAMP DEFAULT NOW(),
    updated_at TIMESTAMP DEFAULT NOW()
  )`,
  `CREATE TABLE IF NOT EXISTS sessions (
    token TEXT PRIMARY KEY,
    username TEXT NOT NULL,
    expires_at TIMESTAMPTZ NOT NULL
  )`,
  'CREATE INDEX IF NOT EXISTS idx_sessions_expires ON sessions(expires_at)',
  'CREATE INDEX IF NOT EXISTS idx_sessions_username ON sessions(username)',
  `CREATE TABLE IF NOT EXISTS audit_log (
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
  )`,
  'CREATE INDEX IF NOT EXISTS idx_audit_timestamp ON audit_log(timestamp)',
  'CREATE INDEX IF NOT EXISTS idx_audit_key ON audit_log(key)',
  'CREATE INDEX IF NOT EXISTS idx_audit_actor ON audit_log(actor)',
  'CREATE INDEX IF NOT EXISTS idx_audit_ts_key ON audit_log(timestamp, key)',
  `ALTER TABLE kv ADD COLUMN IF NOT EXISTS format TEXT NOT NULL DEFAULT 'text'`,
  'ALTER TABLE kv ADD COLUMN IF NOT EXISTS revision BIGINT NOT NULL DEFAULT 0',
  // byte-order index: prefix lists are a range scan whatever the database collation is
  'CREATE INDEX IF NOT EXISTS idx_kv_key_c ON kv (key COLLATE "C")',
  `CREATE TABLE IF NOT EXISTS stash_meta (
    name TEXT PRIMARY KEY,
    value BIGINT NOT NULL
  )`,
  `CREATE TABLE IF NOT EXISTS kv_history (
    revision BIGINT PRIMARY KEY,
    key TEXT NOT NULL,
    action TEXT NOT NULL,
    format TEXT NOT NULL,
    value BYTEA,
    ts BIGINT NOT NULL,
    actor TEXT NOT NULL DEFAULT ''
  )`,
  'CREATE INDEX IF NOT EXISTS idx_kv_history_key ON kv_history(key, revision)',
  'CREATE INDEX IF NOT EXISTS idx_kv_history_ts ON kv_history(ts)',
  `INSERT INTO stash_meta(name, value) VALUES ('revision', 0), ('pruned_through', 0) ON CONFLICT (name) DO NOTHING`,
];

/**
 * Create or upgrade the schema; idempotent, safe on a database written by the original, and
 * safe when several servers start at once (one transaction under an advisory lock).
 */
export async function migratePostgres(sql: Sql): Promise<void> {
  await sql.begin(async (tx) => {
    await tx`SELECT pg_advisory_xact_lock(${MIGRATION_LOCK_ID})`;
    for (const statement of BASE_SCHEMA) await tx.unsafe(statement);
    // rows written by the original (or before the column existed) get a revision of their own,
    // in the order they were last written
    const [assigned] = await tx`
      WITH meta AS (SELECT value FROM stash_meta WHERE name = 'revision' FOR UPDATE),
      legacy AS (
        SELECT key, row_number() OVER (ORDER BY updated_at, key COLLATE "C") AS n FROM kv WHERE revision = 0
      ),
      done AS (
        UPDATE kv SET revision = meta.value + legacy.n FROM legacy, meta WHERE kv.key = legacy.key RETURNING kv.revision
      )
      SELECT count(*)::int AS count, max(revision) AS top FROM done`;
    if (!assigned || assigned['count'] === 0) return;
    // their earlier history is unknown: streams cannot replay below this point
    await tx`UPDATE stash_meta SET value = ${assigned['top'] as string} WHERE name IN ('revision', 'pruned_through')`;
  });
}

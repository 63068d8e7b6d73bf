import type { Database } from 'better-sqlite3';

// tables and indexes of the original (compat 9.1) first, so a database moves both ways;
// our additions are a column with a default and tables the original never reads.
const BASE_SCHEMA = `
CREATE TABLE IF NOT EXISTS kv (
  key TEXT PRIMARY KEY,
  value BLOB NOT NULL,
  format TEXT NOT NULL DEFAULT 'text',
  created_at DATETIME DEFAULT CURRENT_TIMESTAMP,
  updated_at DATETIME DEFAULT CURRENT_TIMESTAMP
);
CREATE TABLE IF NOT EXISTS sessions (
  token TEXT PRIMARY KEY,
  username TEXT NOT NULL,
  expires_at DATETIME NOT NULL
);
CREATE INDEX IF NOT EXISTS idx_sessions_expires ON sessions(expires_at);
CREATE INDEX IF NOT EXISTS idx_sessions_username ON sessions(username);
CREATE TABLE IF NOT EXISTS audit_log (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  timestamp TEXT NOT NULL,
  action TEXT NOT NULL,
  key TEXT NOT NULL,
  actor TEXT NOT NULL,
  actor_type TEXT NOT NULL,
  result TEXT NOT NULL,
  ip TEXT,
  user_agent TEXT,
  value_size INTEGER,
  request_id TEXT
);
CREATE INDEX IF NOT EXISTS idx_audit_timestamp ON audit_log(timestamp);
CREATE INDEX IF NOT EXISTS idx_audit_key ON audit_log(key);
CREATE INDEX IF NOT EXISTS idx_audit_actor ON audit_log(actor);
CREATE INDEX IF NOT EXISTS idx_audit_ts_key ON audit_log(timestamp, key);
CREATE TABLE IF NOT EXISTS stash_meta (
  name TEXT PRIMARY KEY,
  value INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS kv_history (
  revision INTEGER PRIMARY KEY,
  key TEXT NOT NULL,
  action TEXT NOT NULL,
  format TEXT NOT NULL,
  value BLOB,
  ts INTEGER NOT NULL,
  actor TEXT NOT NULL DEFAULT '',
  prev INTEGER
);
CREATE INDEX IF NOT EXISTS idx_kv_history_ts ON kv_history(ts);
CREATE TABLE IF NOT EXISTS kv_history_heads (
  key TEXT PRIMARY KEY,
  revision INTEGER NOT NULL
);
INSERT OR IGNORE INTO stash_meta(name, value) VALUES ('revision', 0), ('pruned_through', 0);
`;

function columns(db: Database, table: string): Set<string> {
  const rows = db.prepare(`PRAGMA table_info(${table})`).all() as { name: string }[];
  return new Set(rows.map((r) => r.name));
}

/**
 * The change log is a linked list per key: each entry names the key's previous entry (`prev`),
 * and a key's newest entry is the one its kv row's revision names, or, for a deleted key, the one
 * `kv_history_heads` names. An index on (key, revision) would find the same entries, but every
 * write would then dirty a page at a random place of that index, and writing those pages to the
 * WAL cost a third of a durable write's time; entries in revision order fill pages in sequence.
 * Databases of earlier versions carry that index: their entries are linked and it is dropped.
 */
function linkHistoryChains(db: Database): void {
  const indexed = db.prepare(`SELECT 1 FROM sqlite_master WHERE type = 'index' AND name = 'idx_kv_history_key'`).get();
  if (!indexed) return;
  db.exec(`
    UPDATE kv_history SET prev = (
      SELECT max(h.revision) FROM kv_history h WHERE h.key = kv_history.key AND h.revision < kv_history.revision
    ) WHERE prev IS NULL;
    INSERT OR REPLACE INTO kv_history_heads (key, revision) SELECT key, max(revision) FROM kv_history GROUP BY key;
    DELETE FROM kv_history_heads WHERE revision = (SELECT revision FROM kv WHERE kv.key = kv_history_heads.key);
    DROP INDEX idx_kv_history_key;
  `);
}

/** Create or upgrade the schema; idempotent, safe on a database written by the original. */
export function migrateSqlite(db: Database): void {
  db.exec(BASE_SCHEMA);
  const kvColumns = columns(db, 'kv');
  if (!kvColumns.has('format')) db.exec(`ALTER TABLE kv ADD COLUMN format TEXT NOT NULL DEFAULT 'text'`);
  if (!kvColumns.has('revision')) db.exec('ALTER TABLE kv ADD COLUMN revision INTEGER NOT NULL DEFAULT 0');
  if (!columns(db, 'kv_history').has('prev')) db.exec('ALTER TABLE kv_history ADD COLUMN prev INTEGER');
  db.transaction(() => linkHistoryChains(db)).immediate();
  // rows written by the original (or before this column existed) get a revision of their own
  db.transaction(() => {
    const legacy = db.prepare('SELECT key FROM kv WHERE revision = 0 ORDER BY updated_at, key').pluck().all() as string[];
    if (legacy.length === 0) return;
    let rev = db.prepare(`SELECT value FROM stash_meta WHERE name = 'revision'`).pluck().get() as number;
    const assign = db.prepare('UPDATE kv SET revision = ? WHERE key = ?');
    for (const key of legacy) assign.run(++rev, key);
    db.prepare(`UPDATE stash_meta SET value = ? WHERE name = 'revision'`).run(rev);
    // their earlier history is unknown: streams cannot replay below this point
    db.prepare(`UPDATE stash_meta SET value = ? WHERE name = 'pruned_through'`).run(rev);
  }).immediate();
}

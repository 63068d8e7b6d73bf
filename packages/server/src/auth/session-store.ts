import type Database from 'better-sqlite3';
import type { Sql } from 'postgres';
import type { Store } from '../storage/store.js';
import { formatGoTime, parseStoredTime } from '../storage/time-format.js';

/** A web-login session as kept in the `sessions` table (compat 6.7, 9.1). */
export interface Session {
  token: string;
  username: string;
  expiresAt: Date;
}

/** Where sessions live; expired rows read as missing. */
export interface SessionStore {
  create(session: Session): Promise<void>;
  /** the live session for `token`, or undefined when unknown or expired */
  get(token: string): Promise<Session | undefined>;
  delete(token: string): Promise<void>;
  /** drop every session of these users; returns how many went */
  deleteForUsers(usernames: readonly string[]): Promise<number>;
  /** drop expired rows; returns how many went */
  deleteExpired(now?: Date): Promise<number>;
  /** which of these tokens still have a row (expired or not): the rest were logged out */
  existing(tokens: readonly string[]): Promise<Set<string>>;
}

/** Sessions in the SQLite database (table created by the store's schema), times in the original's layout. */
export class SqliteSessionStore implements SessionStore {
  private readonly stmt;

  constructor(private readonly db: Database.Database) {
    this.stmt = {
      insert: db.prepare('INSERT OR REPLACE INTO sessions (token, username, expires_at) VALUES (?, ?, ?)'),
      get: db.prepare<[string], { username: string; expires_at: unknown }>(
        'SELECT username, expires_at FROM sessions WHERE token = ?',
      ),
      delete: db.prepare('DELETE FROM sessions WHERE token = ?'),
      deleteUser: db.prepare('DELETE FROM sessions WHERE username = ?'),
      all: db.prepare<[], { token: string; expires_at: unknown }>('SELECT token, expires_at FROM sessions'),
      exists: db.prepare<[string], number>('SELECT 1 FROM sessions WHERE token = ?').pluck(),
    };
  }

  create(s: Session): Promise<void> {
    this.stmt.insert.run(s.token, s.username, formatGoTime(s.expiresAt));
    return Promise.resolve();
  }

  get(token: string): Promise<Session | undefined> {
    const row = this.stmt.get.get(token);
    if (!row) return Promise.resolve(undefined);
    const expiresAt = parseStoredTime(row.expires_at);
    return Promise.resolve(expiresAt.getTime() > Date.now() ? { token, username: row.username, expiresAt } : undefined);
  }

  delete(token: string): Promise<void> {
    this.stmt.delete.run(token);
    return Promise.resolve();
  }

  deleteForUsers(usernames: readonly string[]): Promise<number> {
    const run = this.db.transaction(() => usernames.reduce((n, u) => n + this.stmt.deleteUser.run(u).changes, 0));
    return Promise.resolve(run());
  }

  deleteExpired(now = new Date()): Promise<number> {
    // rows may hold any of the time layouts Stash databases contain, so compare parsed, not as text
    const run = this.db.transaction(() => {
      let n = 0;
      for (const row of this.stmt.all.all()) {
        if (parseStoredTime(row.expires_at).getTime() <= now.getTime()) n += this.stmt.delete.run(row.token).changes;
      }
      return n;
    });
    return Promise.resolve(run());
  }

  existing(tokens: readonly string[]): Promise<Set<string>> {
    return Promise.resolve(new Set(tokens.filter((t) => this.stmt.exists.get(t) !== undefined)));
  }
}

/** Sessions in PostgreSQL (`expires_at TIMESTAMPTZ`); creates the table when the store has not. */
export class PostgresSessionStore implements SessionStore {
  private constructor(private readonly sql: Sql) {}

  static async open(sql: Sql): Promise<PostgresSessionStore> {
    await sql`CREATE TABLE IF NOT EXISTS sessions (
      token TEXT PRIMARY KEY, username TEXT NOT NULL, expires_at TIMESTAMPTZ NOT NULL)`;
    await sql`CREATE INDEX IF NOT EXISTS idx_sessions_expires ON sessions(expires_at)`;
    await sql`CREATE INDEX IF NOT EXISTS idx_sessions_username ON sessions(username)`;
    return new PostgresSessionStore(sql);
  }

  async create(s: Session): Promise<void> {
    await this.sql`INSERT INTO sessions (token, username, expires_at) VALUES (${s.token}, ${s.username}, ${s.expiresAt})
      ON CONFLICT (token) DO UPDATE SET username = EXCLUDED.username, expires_at = EXCLUDED.expires_at`;
  }

  async get(token: string): Promise<Session | undefined> {
    const rows = await this.sql<Array<{ username: string; expires_at: Date }>>`
      SELECT username, expires_at FROM sessions WHERE token = ${token} AND expires_at > ${new Date()}`;
    const row = rows[0];
    return row ? { token, username: row.username, expiresAt: new Date(row.expires_at) } : undefined;
  }

  async delete(token: string): Promise<void> {
    await this.sql`DELETE FROM sessions WHERE token = ${token}`;
  }

  async deleteForUsers(usernames: readonly string[]): Promise<number> {
    if (usernames.length === 0) return 0;
    const result = await this.sql`DELETE FROM sessions WHERE username IN ${this.sql(usernames as string[])}`;
    return result.count;
  }

  async deleteExpired(now = new Date()): Promise<number> {
    const result = await this.sql`DELETE FROM sessions WHERE expires_at <= ${now}`;
    return result.count;
  }

  async existing(tokens: readonly string[]): Promise<Set<string>> {
    if (tokens.length === 0) return new Set();
    const rows = await this.sql<Array<{ token: string }>>`SELECT token FROM sessions WHERE token IN ${this.sql(tokens as string[])}`;
    return new Set(rows.map((r) => r.token));
  }
}

/**
 * The session store for the raw storage adapter: SQLite via its `db`, PostgreSQL via its `sql`.
 * @throws Error when the store exposes neither
 */
export async function openSessionStore(store: Store): Promise<SessionStore> {
  const raw = store as unknown as { db?: Database.Database; sql?: Sql };
  if (store.engine === 'sqlite' && raw.db) return new SqliteSessionStore(raw.db);
  if (store.engine === 'postgres' && raw.sql) return PostgresSessionStore.open(raw.sql);
  throw new Error(`sessions are not supported on this ${store.engine} store`);
}

import { rmSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { SqliteStore } from '../../src/storage/sqlite-store.js';
import { makeTempDir } from '../helpers/test-server.js';

// EXACTLY the original's SQLite schema (compat 9.1): no revision column, no tables of ours
const ORIGINAL_SCHEMA = `
CREATE TABLE IF NOT EXISTS kv (key TEXT PRIMARY KEY, value BLOB NOT NULL, format TEXT NOT NULL DEFAULT 'text',
  created_at DATETIME DEFAULT CURRENT_TIMESTAMP, updated_at DATETIME DEFAULT CURRENT_TIMESTAMP);
CREATE TABLE IF NOT EXISTS sessions (token TEXT PRIMARY KEY, username TEXT NOT NULL, expires_at DATETIME NOT NULL);
CREATE INDEX IF NOT EXISTS idx_sessions_expires ON sessions(expires_at);
CREATE INDEX IF NOT EXISTS idx_sessions_username ON sessions(username);
CREATE TABLE IF NOT EXISTS audit_log (id INTEGER PRIMARY KEY AUTOINCREMENT, timestamp TEXT NOT NULL,
  action TEXT NOT NULL, key TEXT NOT NULL, actor TEXT NOT NULL, actor_type TEXT NOT NULL, result TEXT NOT NULL,
  ip TEXT, user_agent TEXT, value_size INTEGER, request_id TEXT);
CREATE INDEX IF NOT EXISTS idx_audit_timestamp ON audit_log(timestamp);
CREATE INDEX IF NOT EXISTS idx_audit_key ON audit_log(key);
CREATE INDEX IF NOT EXISTS idx_audit_actor ON audit_log(actor);
CREATE INDEX IF NOT EXISTS idx_audit_ts_key ON audit_log(timestamp, key);
`;
// the original's statements (explicit columns; it never names ours)
const ORIGINAL_INSERT = 'INSERT INTO kv (key, value, format, created_at, updated_at) VALUES (?, ?, ?, ?, ?)';
const ORIGINAL_UPDATE = 'UPDATE kv SET value = ?, format = ?, updated_at = ? WHERE key = ?';
const ORIGINAL_SELECT = 'SELECT key, value, format, created_at, updated_at FROM kv WHERE key = ?';

const GO_TIME = '2025-01-15 10:30:00.123456789 +0000 UTC';
const GO_TIME_LATER = '2025-01-16 08:00:01.5 +0000 UTC';

interface Row {
  key: string;
  value: Buffer | string;
  format: string;
  created_at: string;
  updated_at: string;
}

describe('a SQLite database written by the original', () => {
  let dir: string;
  let store: SqliteStore | undefined;
  afterEach(async () => {
    await store?.close();
    store = undefined;
    rmSync(dir, { recursive: true, force: true });
  });

  function buildOriginalFile(): string {
    dir = makeTempDir('stash-legacy-');
    const path = join(dir, 'stash.db');
    const db = new Database(path);
    db.pragma('journal_mode = WAL');
    db.exec(ORIGINAL_SCHEMA);
    const insert = db.prepare(ORIGINAL_INSERT);
    insert.run('app/config', Buffer.from('{"a":1}'), 'json', GO_TIME, GO_TIME);
    insert.run('app/yaml', Buffer.from('a: 1\n'), 'yaml', GO_TIME, GO_TIME_LATER);
    insert.run('bin/blob', Buffer.from([0, 1, 254, 255]), 'text', GO_TIME, GO_TIME);
    // rows created through the column defaults (CURRENT_TIMESTAMP layout)
    db.prepare(`INSERT INTO kv (key, value) VALUES ('defaults', ?)`).run(Buffer.from('d'));
    db.prepare(`UPDATE kv SET created_at = '2025-01-15 10:30:00', updated_at = '2025-01-15 10:30:00' WHERE key = 'defaults'`).run();
    // a value stored as TEXT rather than BLOB
    db.prepare(`INSERT INTO kv (key, value, format, created_at, updated_at) VALUES ('as/text', 'plain', 'ini', ?, ?)`).run(GO_TIME, GO_TIME);
    db.close();
    return path;
  }

  it('opens, reads every row back and assigns revisions', async () => {
    const path = buildOriginalFile();
    store = new SqliteStore({ path });
    const config = await store.get('app/config');
    expect(config).toMatchObject({ format: 'json' });
    expect(Buffer.from(config!.value).toString()).toBe('{"a":1}');
    expect(config?.createdAt.toISOString()).toBe('2025-01-15T10:30:00.123Z');
    const yaml = await store.get('app/yaml');
    expect(yaml?.format).toBe('yaml');
    expect(yaml?.updatedAt.toISOString()).toBe('2025-01-16T08:00:01.500Z');
    expect([...(await store.get('bin/blob'))!.value]).toEqual([0, 1, 254, 255]);
    const defaults = await store.get('defaults');
    expect(defaults).toMatchObject({ format: 'text' });
    expect(defaults?.createdAt.toISOString()).toBe('2025-01-15T10:30:00.000Z');
    const asText = await store.get('as/text');
    expect(asText?.format).toBe('ini');
    expect(Buffer.from(asText!.value).toString()).toBe('plain');

    // every legacy row got its own revision, in the order it was last written
    const listed = await store.list();
    expect(listed.map((m) => m.revision).sort((a, b) => a - b)).toEqual([1, 2, 3, 4, 5]);
    expect(listed[0]).toMatchObject({ key: 'app/yaml', revision: 5 });
    expect(listed.find((m) => m.key === 'defaults')?.revision).toBe(1);
    expect(listed.find((m) => m.key === 'bin/blob')?.size).toBe(4);
    expect(listed.find((m) => m.key === 'as/text')?.size).toBe(5);
    expect(await store.currentRevision()).toBe(5);
    expect(await store.oldestRetainedRevision()).toBe(6);
    expect((await store.getAt('app/config', 5))?.revision).toBe(config?.revision);

    const [next] = await store.apply([{ kind: 'put', key: 'app/config', value: Buffer.from('{}'), format: 'json' }]);
    expect(next).toMatchObject({ revision: 6, action: 'update' });
    expect((await store.get('app/config'))?.createdAt.toISOString()).toBe('2025-01-15T10:30:00.123Z');
  });

  it('stays readable and writable by the original after the migration', async () => {
    const path = buildOriginalFile();
    store = new SqliteStore({ path });
    await store.apply([{ kind: 'put', key: 'ours', value: Buffer.from('new'), format: 'yaml' }]);
    await store.close();
    store = undefined;

    const db = new Database(path);
    const ours = db.prepare(ORIGINAL_SELECT).get('ours') as Row;
    expect(ours).toMatchObject({ key: 'ours', format: 'yaml' });
    expect(Buffer.from(ours.value).toString()).toBe('new');
    expect(ours.created_at).toMatch(/^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}(\.\d+)? \+0000 UTC$/);
    db.prepare(ORIGINAL_INSERT).run('by/original', Buffer.from('o'), 'text', GO_TIME_LATER, GO_TIME_LATER);
    expect(db.prepare(ORIGINAL_UPDATE).run(Buffer.from('changed'), 'json', GO_TIME_LATER, 'ours').changes).toBe(1);
    db.prepare('DELETE FROM kv WHERE key = ?').run('bin/blob');
    db.close();

    // reopened by us: the original's writes are visible and its new row gets a revision
    store = new SqliteStore({ path });
    expect(Buffer.from((await store.get('ours'))!.value).toString()).toBe('changed');
    expect((await store.get('ours'))?.format).toBe('json');
    expect(await store.get('bin/blob')).toBeUndefined();
    expect((await store.get('by/original'))?.revision).toBe(7);
    expect(await store.currentRevision()).toBe(7);
  });
});

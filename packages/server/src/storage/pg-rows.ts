import { isFormat, type Format } from '@stash/client/core';
import type { ChangeAction, ChangeEntry, KeyMeta, KeyRecord } from './store.js';

/** How the PostgreSQL store's rows become records: column lists and decoders. */

export type Row = Record<string, unknown>;

const asFormat = (f: unknown): Format => (typeof f === 'string' && isFormat(f) ? f : 'text');
// BIGINT arrives as a string; revisions stay far below 2^53
export const num = (v: unknown): number => Number(v ?? 0);

// TIMESTAMP columns hold UTC wall-clock time (as the original writes them): convert explicitly
// both ways so neither the session nor the Node time zone can shift them.
export const KV_COLUMNS = `kv.key, kv.value, kv.format, kv.created_at AT TIME ZONE 'UTC' AS created_at,
  kv.updated_at AT TIME ZONE 'UTC' AS updated_at, kv.revision`;
export const META_COLUMNS = `key, octet_length(value) AS size, format,
  (octet_length(value) > 4 AND substring(value FROM 1 FOR 4) = '\\x245a4b24'::bytea) AS zk,
  created_at AT TIME ZONE 'UTC' AS created_at, updated_at AT TIME ZONE 'UTC' AS updated_at, revision`;
export const RANGE = `key COLLATE "C" >= $1 AND key COLLATE "C" < $2`;
// the timestamp columns are nullable, as in the original: NULL reads as the epoch (SQLite does the same)
const toDate = (v: unknown): Date => (v instanceof Date ? v : new Date(0));

export function toRecord(row: Row): KeyRecord {
  return {
    key: row['key'] as string,
    value: row['value'] as Buffer,
    format: asFormat(row['format']),
    createdAt: toDate(row['created_at']),
    updatedAt: toDate(row['updated_at']),
    revision: num(row['revision']),
  };
}
export function toMeta(row: Row): KeyMeta {
  return {
    key: row['key'] as string,
    size: num(row['size']),
    format: asFormat(row['format']),
    zkEncrypted: row['zk'] === true,
    createdAt: toDate(row['created_at']),
    updatedAt: toDate(row['updated_at']),
    revision: num(row['revision']),
  };
}
export function toChange(row: Row): ChangeEntry {
  return {
    revision: num(row['revision']),
    key: row['key'] as string,
    action: row['action'] as ChangeAction,
    format: asFormat(row['format']),
    value: (row['value'] as Buffer | null) ?? null,
    timestamp: new Date(num(row['ts'])),
    actor: row['actor'] as string,
  };
}

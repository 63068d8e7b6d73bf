import { fromBase64 } from './bytes.js';
import { isFormat, type Format } from './formats.js';
import type { ExportItemResponse, HistoryEntryResponse, KeyInfoResponse } from './wire.js';

/** Metadata of one key, as `list()` and `info()` return it. */
export interface KeyInfo {
  key: string;
  /** bytes of the stored value (ciphertext size for secrets and `$ZK$` values) */
  size: number;
  format: Format;
  /** the key is under a `secrets` path segment (server-side encrypted) */
  secret: boolean;
  /** the stored value is a client-side `$ZK$` envelope */
  zkEncrypted: boolean;
  createdAt: Date;
  updatedAt: Date;
  /** revision of the key's last write (this server; absent on the original Go server) */
  revision?: number;
}

/** One version of a key, newest first in `history()`. */
export interface HistoryEntry {
  /** git commit hash, or the revision as a string when git is off */
  hash: string;
  timestamp: Date;
  author: string;
  /** `create`, `update`, `delete` (or `set` in old git histories) */
  operation: string;
  format: Format;
  /** the value at that version (decrypted when it is `$ZK$` and the client has a ZK key) */
  value: Uint8Array;
  revision?: number;
}

/** One exported key with its value, as `exportValues()` returns it. */
export interface ExportItem extends KeyInfo {
  value: Uint8Array;
}

// RFC 3339: date, T or space, time, optional fraction of any length, Z or a numeric offset
const RFC3339 = /^(\d{4}-\d{2}-\d{2})[Tt ](\d{2}:\d{2}:\d{2})(?:\.(\d+))?([Zz]|[+-]\d{2}:?\d{2})$/;

/**
 * Parse an RFC 3339 timestamp; fractions beyond milliseconds (Go sends nanoseconds) are
 * truncated, offsets other than `Z` are honoured.
 * @throws TypeError when the text is not RFC 3339
 */
export function parseRfc3339(text: string): Date {
  const m = typeof text === 'string' ? RFC3339.exec(text.trim()) : null;
  if (!m) throw new TypeError(`invalid RFC 3339 timestamp: ${JSON.stringify(text)}`);
  const fraction = (m[3] ?? '').slice(0, 3).padEnd(3, '0');
  const zone = m[4] === 'Z' || m[4] === 'z' ? 'Z' : normalizeOffset(m[4] ?? 'Z');
  const date = new Date(`${m[1]}T${m[2]}.${fraction}${zone}`);
  if (Number.isNaN(date.getTime())) throw new TypeError(`invalid RFC 3339 timestamp: ${JSON.stringify(text)}`);
  return date;
}

function normalizeOffset(offset: string): string {
  return offset.includes(':') ? offset : `${offset.slice(0, 3)}:${offset.slice(3)}`;
}

function field<T>(raw: Record<string, unknown>, name: string, check: (v: unknown) => v is T, what: string): T {
  const value = raw[name];
  if (!check(value)) throw new TypeError(`invalid key info: "${name}" must be ${what}`);
  return value;
}

const isString = (v: unknown): v is string => typeof v === 'string';
const isNumber = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);

function asRecord(raw: unknown, what: string): Record<string, unknown> {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new TypeError(`invalid ${what}: not an object`);
  return raw as Record<string, unknown>;
}

/**
 * Wire `KeyInfoResponse` (snake_case) to `KeyInfo` (camelCase, Dates). Unknown formats become
 * `text`, as the server would store them.
 * @throws TypeError when a field is missing or malformed
 */
export function parseKeyInfo(raw: KeyInfoResponse | unknown): KeyInfo {
  const r = asRecord(raw, 'key info');
  const format = r['format'];
  const info: KeyInfo = {
    key: field(r, 'key', isString, 'a string'),
    size: field(r, 'size', isNumber, 'a number'),
    format: isFormat(format) ? format : 'text',
    secret: r['secret'] === true,
    zkEncrypted: r['zk_encrypted'] === true,
    createdAt: parseRfc3339(field(r, 'created_at', isString, 'a string')),
    updatedAt: parseRfc3339(field(r, 'updated_at', isString, 'a string')),
  };
  if (isNumber(r['revision'])) info.revision = r['revision'];
  return info;
}

/** Wire export item (KeyInfo fields + base64 `value`) to `ExportItem`. */
export function parseExportItem(raw: ExportItemResponse | unknown): ExportItem {
  const info = parseKeyInfo(raw);
  const value = fromBase64(field(asRecord(raw, 'export item'), 'value', isString, 'a string'));
  if (value === undefined) throw new TypeError(`invalid export item "${info.key}": value is not base64`);
  return { ...info, value };
}

/** Wire history entry (base64 `value`) to `HistoryEntry`. */
export function parseHistoryEntry(raw: HistoryEntryResponse | unknown): HistoryEntry {
  const r = asRecord(raw, 'history entry');
  const format = r['format'];
  const value = fromBase64(typeof r['value'] === 'string' ? r['value'] : '');
  if (value === undefined) throw new TypeError('invalid history entry: value is not base64');
  const entry: HistoryEntry = {
    hash: field(r, 'hash', isString, 'a string'),
    timestamp: parseRfc3339(field(r, 'timestamp', isString, 'a string')),
    author: typeof r['author'] === 'string' ? r['author'] : '',
    operation: field(r, 'operation', isString, 'a string'),
    format: isFormat(format) ? format : 'text',
    value,
  };
  if (isNumber(r['revision'])) entry.revision = r['revision'];
  return entry;
}

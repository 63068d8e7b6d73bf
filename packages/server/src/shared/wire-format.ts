import type { HistoryEntryResponse, KeyInfoResponse } from '@stash/client/core';
import type { ChangeEntry } from '../storage/store.js';
import type { ListedKey } from '../domain/kv-service.js';

const HTML_UNSAFE = /[<>&\u2028\u2029]/g;
const escapeHtml = (c: string): string => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`;

/** JSON as Go's encoder writes it: HTML-escaped, with a trailing newline. */
export function goJson(value: unknown): string {
  return `${JSON.stringify(value).replace(HTML_UNSAFE, escapeHtml)}\n`;
}

/** RFC 3339 with fractional seconds trimmed of trailing zeros, `Z` suffix (Go's RFC3339Nano). */
export function rfc3339Nano(date: Date): string {
  const iso = date.toISOString(); // YYYY-MM-DDTHH:MM:SS.mmmZ; trim trailing zero digits without a regex (hot in list)
  if (iso.length !== 24) return iso.replace(/\.(\d*?)0*Z$/, (_m, digits: string) => (digits ? `.${digits}Z` : 'Z'));
  if (iso.charCodeAt(22) !== 0x30) return iso;
  if (iso.charCodeAt(21) !== 0x30) return `${iso.slice(0, 22)}Z`;
  if (iso.charCodeAt(20) !== 0x30) return `${iso.slice(0, 21)}Z`;
  return `${iso.slice(0, 19)}Z`;
}

/** RFC 3339 in whole seconds, UTC. */
export function rfc3339(date: Date): string {
  return `${date.toISOString().slice(0, 19)}Z`;
}

export function toKeyInfo(k: ListedKey): KeyInfoResponse {
  return {
    key: k.key,
    size: k.size,
    format: k.format,
    secret: k.secret,
    zk_encrypted: k.zkEncrypted,
    created_at: rfc3339Nano(k.createdAt),
    updated_at: rfc3339Nano(k.updatedAt),
    revision: k.revision,
  };
}

export function toHistoryEntry(e: ChangeEntry): HistoryEntryResponse {
  return {
    hash: String(e.revision),
    timestamp: rfc3339(e.timestamp),
    author: e.actor === '' ? 'stash' : e.actor,
    operation: e.action,
    format: e.format,
    value: e.value ? Buffer.from(e.value.buffer, e.value.byteOffset, e.value.byteLength).toString('base64') : '',
    revision: e.revision,
  };
}

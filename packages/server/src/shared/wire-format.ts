import type { HistoryEntryResponse, KeyInfoResponse } from '@stash/client/core';
import type { ChangeEntry } from '../storage/store.js';
import type { ListedKey } from '../domain/kv-service.js';

const HTML_UNSAFE = /[<>&\u2028\u2029]/g;
const escapeHtml = (c: string): string => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`;

/** JSON as Go's encoder writes it: HTML-escaped, with a trailing newline. */
export function goJson(value: unknown): string {
  return `${JSON.stringify(value).replace(HTML_UNSAFE, escapeHtml)}\n`;
}

const DAY_MS = 86_400_000;
const TWO_DIGITS = Array.from({ length: 100 }, (_, i) => String(i).padStart(2, '0'));
let cachedDay = Number.NaN;
let cachedDayText = '';

/**
 * RFC 3339 with fractional seconds trimmed of trailing zeros, `Z` suffix (Go's RFC3339Nano).
 * Hot in lists (two per key): the date part is cached per day, the time built from a table.
 */
export function rfc3339Nano(date: Date): string {
  const t = date.getTime();
  const day = Math.floor(t / DAY_MS);
  // years outside 0000-9999 (and invalid dates) take the general path
  if (!(t >= 0 && t < 253_402_300_800_000)) return slowRfc3339Nano(date);
  if (day !== cachedDay) {
    cachedDay = day;
    cachedDayText = date.toISOString().slice(0, 11); // YYYY-MM-DDT
  }
  let rest = t - day * DAY_MS;
  const ms = rest % 1000;
  rest = (rest - ms) / 1000;
  const sec = rest % 60;
  rest = (rest - sec) / 60;
  const hms = `${cachedDayText}${TWO_DIGITS[(rest - (rest % 60)) / 60]}:${TWO_DIGITS[rest % 60]}:${TWO_DIGITS[sec]}`;
  if (ms === 0) return `${hms}Z`;
  if (ms % 100 === 0) return `${hms}.${ms / 100}Z`;
  if (ms % 10 === 0) return `${hms}.${TWO_DIGITS[ms / 10]}Z`;
  return `${hms}.${ms < 10 ? '00' : ms < 100 ? '0' : ''}${ms}Z`;
}

function slowRfc3339Nano(date: Date): string {
  return date.toISOString().replace(/\.(\d*?)0*Z$/, (_m, digits: string) => (digits ? `.${digits}Z` : 'Z'));
}

let cachedSecond = Number.NaN;
let cachedSecondText = '';

/** RFC 3339 in whole seconds, UTC (one per change event: the last second's text is reused). */
export function rfc3339(date: Date): string {
  const second = Math.floor(date.getTime() / 1000);
  if (second !== cachedSecond) {
    cachedSecondText = `${date.toISOString().slice(0, 19)}Z`;
    cachedSecond = second;
  }
  return cachedSecondText;
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

/** A JSON string as Go's encoder writes it (HTML-escaped). */
export function goString(text: string): string {
  const json = JSON.stringify(text);
  return HAS_HTML_UNSAFE.test(json) ? json.replace(HTML_UNSAFE, escapeHtml) : json;
}
const HAS_HTML_UNSAFE = /[<>&\u2028\u2029]/;

/**
 * `goJson(toKeyInfo(k))` without its newline, built field by field: lists write one per key,
 * and only the key needs escaping (formats, numbers, booleans and times are plain ASCII).
 */
export function keyInfoJson(k: ListedKey): string {
  return (
    `{"key":${goString(k.key)},"size":${k.size},"format":"${k.format}","secret":${k.secret},` +
    `"zk_encrypted":${k.zkEncrypted},"created_at":"${rfc3339Nano(k.createdAt)}","updated_at":"${rfc3339Nano(k.updatedAt)}",` +
    `"revision":${k.revision}}`
  );
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

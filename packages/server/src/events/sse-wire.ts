import { normalizeKey } from '@stash/client/core';
import { goJson, goString, rfc3339 } from '../shared/wire-format.js';
import type { ChangeEntry } from '../storage/store.js';

/** What a subscriber asked for: every key, every key under a prefix (ending in `/`), or one key. */
export type StreamFilter = { kind: 'all' } | { kind: 'prefix'; prefix: string } | { kind: 'exact'; key: string };

/**
 * Interpret the percent-decoded path after `/kv/subscribe/` as compat 5.6 does: `*` is every
 * key, `p/*` and `p/` a prefix (exactly one trailing `/`), anything else one key. Undefined
 * when nothing is left after normalisation (the caller answers 400 `key path required`).
 */
export function parseStreamFilter(path: string): StreamFilter | undefined {
  if (path === '*') return { kind: 'all' };
  const isPrefix = path.endsWith('/*') || path.endsWith('/');
  const key = normalizeKey(path.endsWith('/*') ? path.slice(0, -1) : path);
  if (key === '') return undefined;
  return isPrefix ? { kind: 'prefix', prefix: `${key}/` } : { kind: 'exact', key };
}

export function matchesFilter(filter: StreamFilter, key: string): boolean {
  if (filter.kind === 'all') return true;
  if (filter.kind === 'prefix') return key.startsWith(filter.prefix);
  return key === filter.key;
}

const DIGITS = /^\d{1,15}$/;

/**
 * A resume position from `Last-Event-ID` or `?since=`: a non-negative decimal revision.
 * Anything else (empty, signs, fractions, hex, overlong) is treated as "no resume": the stream
 * starts live, exactly as a fresh subscription would.
 */
export function parseResumeRevision(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const trimmed = value.trim();
  return DIGITS.test(trimmed) ? Number(trimmed) : undefined;
}

/** `Go's json.Marshal` output on one line (HTML-escaped like the original, no trailing newline). */
function jsonLine(value: unknown): string {
  return goJson(value).slice(0, -1);
}

/**
 * One `change` event, complete, to be written in a single write: `id`, `event`, `data`
 * (single-line JSON: key, action, timestamp, revision, format for create/update, and who wrote
 * it as `actor` when known: a user name or a masked token, as history shows), blank line.
 * LF only, because the official TypeScript SDK splits on `\n` and resets per network chunk.
 */
export function formatChangeEvent(entry: ChangeEntry): string {
  // built field by field (one per committed change, hot under fan-out): only the key and the
  // actor need escaping; action, format, time and revision are plain ASCII
  const format = entry.action === 'delete' ? '' : `,"format":"${entry.format}"`;
  const actor = entry.actor === '' ? '' : `,"actor":${goString(entry.actor)}`;
  const data =
    `{"key":${goString(entry.key)},"action":"${entry.action}","timestamp":"${rfc3339(entry.timestamp)}",` +
    `"revision":${entry.revision}${format}${actor}}`;
  return `id: ${entry.revision}\nevent: change\ndata: ${data}\n\n`;
}

/**
 * The retained log no longer reaches back to the requested revision: the client must re-list.
 * It carries `id:` too, so an EventSource that reconnects later resumes from `revision`.
 */
export function formatResetEvent(revision: number): string {
  return `id: ${revision}\nevent: reset\ndata: ${jsonLine({ revision })}\n\n`;
}

/** Heartbeat comment; every SSE parser ignores comment lines. */
export const HEARTBEAT = ': ping\n\n';

/**
 * An event's bytes, encoded once for all subscribers: bare, and framed as one chunk of a chunked
 * body, so each subscriber costs one socket write of shared bytes (through ServerResponse, each
 * write would be framed, encoded and copied again per socket, and corked over a tick).
 */
export interface EventBytes {
  bare: Buffer;
  chunk: Buffer;
}

export function eventBytes(text: string): EventBytes {
  const bare = Buffer.from(text);
  return { bare, chunk: Buffer.concat([Buffer.from(`${bare.length.toString(16)}\r\n`), bare, CRLF]) };
}
const CRLF = Buffer.from('\r\n');

export const HEARTBEAT_BYTES = eventBytes(HEARTBEAT);

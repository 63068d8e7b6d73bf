import { isFormat, type Format } from './formats.js';
import { parseRfc3339 } from './key-info.js';
import type { SseMessage } from './sse-parser.js';

/** A committed change of a key. */
export interface ChangeEvent {
  type: 'change';
  key: string;
  action: 'create' | 'update' | 'delete';
  /** when the change was committed (whole seconds) */
  timestamp: Date;
  /** revision of the change (0 from servers without revisions, like the original Go server) */
  revision: number;
  /** format of the new value (create/update, when the server sends it) */
  format?: Format;
  /** who wrote it (a user name or a masked token), when the server sends it */
  actor?: string;
}

/**
 * The server no longer has the changes since the resume point (its log was pruned): the
 * application should re-read what it cares about. Events continue after `revision`.
 */
export interface ResetEvent {
  type: 'reset';
  revision: number;
}

export type SubscriptionEvent = ChangeEvent | ResetEvent;

/** A `change` or `reset` event from an SSE message; other names and malformed data are skipped. */
export function toEvent(message: SseMessage): SubscriptionEvent | undefined {
  let data: Record<string, unknown>;
  try {
    const parsed: unknown = JSON.parse(message.data);
    if (typeof parsed !== 'object' || parsed === null) return undefined;
    data = parsed as Record<string, unknown>;
  } catch {
    return undefined;
  }
  const idRevision = /^\d+$/.test(message.lastEventId) ? Number(message.lastEventId) : 0;
  const revision = typeof data['revision'] === 'number' ? data['revision'] : idRevision;
  if (message.event === 'reset') return { type: 'reset', revision };
  if (message.event !== 'change') return undefined;
  const { key, action, timestamp, format, actor } = data;
  if (typeof key !== 'string' || (action !== 'create' && action !== 'update' && action !== 'delete')) return undefined;
  let when: Date;
  try {
    when = parseRfc3339(String(timestamp));
  } catch {
    return undefined;
  }
  const event: ChangeEvent = { type: 'change', key, action, timestamp: when, revision };
  if (typeof format === 'string' && isFormat(format)) event.format = format;
  if (typeof actor === 'string' && actor !== '') event.actor = actor;
  return event;
}

import { describe, expect, it } from 'vitest';
import { formatChangeEvent } from '../../src/events/sse-wire.js';
import type { ChangeEntry } from '../../src/storage/store.js';

/** What Go's encoder writes for the event's data (the original's wire format), built the slow way. */
function goData(entry: ChangeEntry): string {
  const data: Record<string, string | number> = {
    key: entry.key,
    action: entry.action,
    timestamp: `${entry.timestamp.toISOString().slice(0, 19)}Z`,
    revision: entry.revision,
  };
  if (entry.action !== 'delete') data['format'] = entry.format;
  if (entry.actor !== '') data['actor'] = entry.actor;
  return JSON.stringify(data).replace(/[<>&\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

const entry = (over: Partial<ChangeEntry>): ChangeEntry => ({
  revision: 7,
  key: 'app/db',
  action: 'update',
  format: 'json',
  value: null,
  timestamp: new Date('2026-12-03T10:11:12.345Z'),
  actor: '',
  ...over,
});

describe('formatChangeEvent', () => {
  const keys = ['app/db', '<script>alert(1)</script>', 'a"b\\c', 'x&y\u2028z\u2029', 'ключ/значение', 'tab\there', 'emoji/😀'];
  const actors = ['', 'alice', 'token:ab****', '"><img src=x onerror=1>', 'user\u2028'];

  it('writes the same data as Go encoding/json for every key, actor and action', () => {
    for (const key of keys)
      for (const actor of actors)
        for (const action of ['create', 'update', 'delete'] as const) {
          const e = entry({ key, actor, action, format: action === 'delete' ? 'text' : 'yaml' });
          const text = formatChangeEvent(e);
          expect(text).toBe(`id: 7\nevent: change\ndata: ${goData(e)}\n\n`);
          expect(JSON.parse(text.split('\n')[2]?.slice(6) ?? '')).toMatchObject({ key, action, revision: 7 });
        }
  });

  it('gives each event its own second, whatever order the times come in', () => {
    const times = ['2026-12-03T10:11:12.999Z', '2026-12-03T10:11:12.001Z', '2026-12-03T10:11:13.000Z', '2026-12-03T10:11:12.500Z', '1999-12-31T23:59:59.999Z', '2026-12-03T10:11:13.999Z'];
    for (const t of times) {
      const e = entry({ timestamp: new Date(t) });
      expect(formatChangeEvent(e)).toContain(`"timestamp":"${t.slice(0, 19)}Z"`);
    }
  });
});

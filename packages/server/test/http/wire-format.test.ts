import { describe, expect, it } from 'vitest';
import type { ListedKey } from '../../src/domain/kv-service.js';
import { goJson, keyInfoJson, rfc3339Nano, toKeyInfo } from '../../src/shared/wire-format.js';

// the plain definition the fast formatters must equal, byte for byte
const reference = (d: Date): string => d.toISOString().replace(/\.(\d*?)0*Z$/, (_m, digits: string) => (digits ? `.${digits}Z` : 'Z'));

describe('wire formatting', () => {
  it('formats times as Go’s RFC3339Nano for every millisecond layout and across days', () => {
    const dates = [0, 1, 10, 100, 999, 1000, 59_999, 86_399_999, 86_400_000, Date.UTC(2026, 11, 2, 23, 59, 59, 120), Date.UTC(9999, 11, 31, 23, 59, 59, 999)];
    let seed = 42;
    for (let i = 0; i < 5000; i++) {
      seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
      dates.push(seed * 1000 + (seed % 1000));
    }
    for (const t of [...dates, -1, -86_400_001, Date.UTC(-5, 0, 1)]) expect(rfc3339Nano(new Date(t))).toBe(reference(new Date(t)));
  });

  it('writes a list item exactly as goJson(toKeyInfo()) does, escaping only what Go escapes', () => {
    const keys = ['app/config', 'a<b>&c', 'quote"back\\slash', 'line\u2028sep\u2029', 'ünïcødé/🚀', 'tab\tnew\nline', ''];
    for (const [i, key] of keys.entries()) {
      const k: ListedKey = {
        key,
        size: i * 37,
        format: i % 2 ? 'json' : 'text',
        secret: i % 3 === 0,
        zkEncrypted: i % 2 === 0,
        createdAt: new Date(Date.UTC(2026, 0, 1, 0, 0, i, i * 110)),
        updatedAt: new Date(Date.UTC(2026, 5, 1, 12, i, 0, i)),
        revision: 1000 + i,
      };
      expect(keyInfoJson(k)).toBe(goJson(toKeyInfo(k)).slice(0, -1));
    }
  });
});

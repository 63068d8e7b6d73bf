import { describe, expect, it } from 'vitest';
import { formatGoTime, parseStoredTime } from '../../src/storage/time-format.js';
import { rfc3339Nano } from '../../src/shared/wire-format.js';

describe('stored time formats', () => {
  it.each([
    ['2025-01-15 10:30:00.123456789 +0000 UTC', '2025-01-15T10:30:00.123Z'],
    ['2025-01-15 10:30:00 +0000 UTC', '2025-01-15T10:30:00.000Z'],
    ['2025-01-15 10:30:00.5 +0000 UTC', '2025-01-15T10:30:00.500Z'],
    ['2025-01-15 10:30:00', '2025-01-15T10:30:00.000Z'],
    ['2025-01-15T10:30:00.12Z', '2025-01-15T10:30:00.120Z'],
    ['2025-01-15 12:30:00.1+02:00', '2025-01-15T10:30:00.100Z'],
    ['2025-01-15 05:30:00 -0500 EST', '2025-01-15T10:30:00.000Z'],
    ['garbage', '1970-01-01T00:00:00.000Z'],
  ])('parses %s', (stored, iso) => {
    expect(parseStoredTime(stored).toISOString()).toBe(iso);
  });

  it('writes what the original writes and reads it back', () => {
    const d = new Date(Date.UTC(2025, 0, 1, 1, 2, 3, 450));
    expect(formatGoTime(d)).toBe('2025-01-01 01:02:03.45 +0000 UTC');
    expect(formatGoTime(new Date(Date.UTC(2025, 0, 1)))).toBe('2025-01-01 00:00:00 +0000 UTC');
    expect(parseStoredTime(formatGoTime(d)).getTime()).toBe(d.getTime());
  });

  it.each([
    [450, '2025-01-01T01:02:03.45Z'],
    [400, '2025-01-01T01:02:03.4Z'],
    [0, '2025-01-01T01:02:03Z'],
    [123, '2025-01-01T01:02:03.123Z'],
  ])('formats %i ms as RFC 3339 with trailing zeros trimmed', (ms, text) => {
    expect(rfc3339Nano(new Date(Date.UTC(2025, 0, 1, 1, 2, 3, ms)))).toBe(text);
  });
});

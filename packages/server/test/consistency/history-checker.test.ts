import { describe, expect, it } from 'vitest';
import { checkHistory, type Op } from '../helpers/history-checker.js';

// a small clean history: two writes, a CAS on the second, reads that saw the right values
const base: Op[] = [
  { client: 0, kind: 'write', key: 'k', start: 0, end: 10, status: 201, revision: 1, value: 'a' },
  { client: 1, kind: 'read', key: 'k', start: 11, end: 12, status: 200, revision: 1, value: 'a' },
  { client: 1, kind: 'write', key: 'k', start: 13, end: 20, status: 200, revision: 2, value: 'b' },
  { client: 2, kind: 'cas', key: 'k', start: 21, end: 30, status: 200, revision: 3, value: 'c', ifRevision: 2 },
  { client: 0, kind: 'read', key: 'k', start: 31, end: 32, status: 200, revision: 3, value: 'c' },
  { client: 3, kind: 'cas', key: 'k', start: 33, end: 34, status: 412, revision: 0, value: 'd', ifRevision: 1 },
];
const violationsOf = (ops: Op[]): string[] => checkHistory(ops).violations;

describe('history checker', () => {
  it('passes a linearizable history and counts its operations', () => {
    const result = checkHistory(base);
    expect(result.violations).toEqual([]);
    expect(result.counts).toEqual({ read: 2, write: 2, cas: 2, delete: 0, failedCas: 1 });
  });

  it('finds a stale read: an older value after a newer write was acknowledged', () => {
    const stale: Op = { client: 4, kind: 'read', key: 'k', start: 22, end: 23, status: 200, revision: 1, value: 'a' };
    expect(violationsOf([...base, stale]).join('\n')).toMatch(/stale read/);
  });

  it('accepts either value for a read that overlaps a write', () => {
    const overlapping: Op = { client: 4, kind: 'read', key: 'k', start: 14, end: 15, status: 200, revision: 1, value: 'a' };
    const newer: Op = { ...overlapping, revision: 2, value: 'b', client: 5 };
    expect(violationsOf([...base, overlapping])).toEqual([]);
    expect(violationsOf([...base, newer])).toEqual([]);
  });

  it('finds a read from the future and a value nobody wrote', () => {
    const future: Op = { client: 4, kind: 'read', key: 'k', start: 1, end: 2, status: 200, revision: 3, value: 'c' };
    const invented: Op = { client: 4, kind: 'read', key: 'k', start: 40, end: 41, status: 200, revision: 9, value: 'zzz' };
    expect(violationsOf([...base, future]).join('\n')).toMatch(/future/);
    expect(violationsOf([...base, invented]).join('\n')).toMatch(/nobody wrote/);
  });

  it('finds a reused revision and writes out of real-time order', () => {
    const reused: Op = { client: 5, kind: 'write', key: 'j', start: 40, end: 41, status: 201, revision: 3, value: 'x' };
    const early: Op = { client: 5, kind: 'write', key: 'j', start: 40, end: 41, status: 201, revision: 2.5, value: 'y' };
    expect(violationsOf([...base, reused]).join('\n')).toMatch(/given twice/);
    expect(violationsOf([...base, early]).join('\n')).toMatch(/real-time order/);
  });

  it('finds a CAS that did not name the previous write', () => {
    const wrong = base.map((op) => (op.kind === 'cas' && op.status === 200 ? { ...op, ifRevision: 1 } : op));
    expect(violationsOf(wrong).join('\n')).toMatch(/CAS on a revision/);
  });

  it('finds reads that go back in time and a 404 after an acknowledged write', () => {
    const back: Op[] = [
      { client: 0, kind: 'write', key: 'm', start: 0, end: 1, status: 201, revision: 10, value: 'p' },
      { client: 1, kind: 'write', key: 'm', start: 2, end: 30, status: 200, revision: 11, value: 'q' },
      { client: 2, kind: 'read', key: 'm', start: 3, end: 4, status: 200, revision: 11, value: 'q' },
      { client: 3, kind: 'read', key: 'm', start: 5, end: 6, status: 200, revision: 10, value: 'p' },
    ];
    expect(violationsOf(back).join('\n')).toMatch(/back in time/);
    const lost: Op = { client: 4, kind: 'read', key: 'k', start: 40, end: 41, status: 404, revision: 0 };
    expect(violationsOf([...base, lost]).join('\n')).toMatch(/stale read/);
  });

  it('reports writes whose outcome is unknown', () => {
    const unknown: Op = { client: 5, kind: 'write', key: 'k', start: 40, end: 41, status: 503, revision: 0, value: 'u' };
    expect(violationsOf([...base, unknown]).join('\n')).toMatch(/outcome unknown/);
  });
});

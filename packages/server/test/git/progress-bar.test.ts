import { describe, expect, it } from 'vitest';
import { ProgressBar } from '../../src/git/progress-bar.js';

describe('restore progress bar', () => {
  it('draws on a terminal for large totals and ends its line', () => {
    const out: string[] = [];
    const bar = new ProgressBar({ isTTY: true, columns: 80, write: (t) => out.push(t) }, 'reading keys', 10);
    bar.update(5, 20);
    bar.update(20, 20);
    bar.finish();
    expect(out[0]).toMatch(/^\rreading keys \[#+\.+\] 5\/20$/);
    expect(out[1]).toMatch(/^\rreading keys \[#+\] 20\/20$/);
    expect(out[2]).toBe('\n');
  });

  it('stays silent off a terminal and for small repositories', () => {
    const out: string[] = [];
    new ProgressBar({ isTTY: false, write: (t) => out.push(t) }, 'x', 1).update(5, 5);
    const small = new ProgressBar({ isTTY: true, write: (t) => out.push(t) }, 'x', 200);
    small.update(5, 5);
    small.finish();
    expect(out).toEqual([]);
  });
});

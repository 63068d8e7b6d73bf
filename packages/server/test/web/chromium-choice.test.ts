import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { chooseChromium, chromiumExecutable } from '../helpers/chromium.js';

// which browser the browser tests use, and when they skip or fail (helpers/chromium.ts)
describe('choosing Chromium for the browser tests', () => {
  const missing = join(import.meta.dirname, 'no-such-chromium');
  const present = process.execPath; // any existing file stands in for a browser here
  afterEach(() => {
    vi.restoreAllMocks();
  });

  it('uses STASH_TEST_CHROMIUM when it names an existing file', () => {
    const choice = chooseChromium('suite', { STASH_TEST_CHROMIUM: present }, missing);
    expect(choice).toEqual({ path: present, run: true, error: undefined });
    expect(chromiumExecutable(choice)).toBe(present);
  });

  it('fails, not skips, when STASH_TEST_CHROMIUM names a missing file', () => {
    const choice = chooseChromium('suite', { STASH_TEST_CHROMIUM: missing }, present);
    expect(choice.run).toBe(true);
    expect(choice.error).toContain(`STASH_TEST_CHROMIUM is set to ${missing}, which does not exist`);
    expect(() => chromiumExecutable(choice)).toThrow(/STASH_TEST_CHROMIUM is set to .*no-such-chromium, which does not exist/);
  });

  it('falls back to Debian\'s Chromium when STASH_TEST_CHROMIUM is unset or empty', () => {
    for (const env of [{}, { STASH_TEST_CHROMIUM: '' }]) {
      expect(chooseChromium('suite', env, present)).toEqual({ path: present, run: true, error: undefined });
    }
  });

  it('skips with a printed reason when it is unset and there is no Chromium', () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => undefined);
    const choice = chooseChromium('some browser tests', {}, missing);
    expect(choice).toEqual({ path: missing, run: false, error: undefined });
    expect(warn).toHaveBeenCalledWith(`some browser tests skipped: no Chromium at ${missing} (set STASH_TEST_CHROMIUM)`);
  });
});

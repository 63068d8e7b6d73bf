import { existsSync } from 'node:fs';

/** Debian's Chromium, the browser the tests use when STASH_TEST_CHROMIUM is not set. */
export const DEBIAN_CHROMIUM = '/usr/bin/chromium';

export interface ChromiumChoice {
  /** the executable to launch */
  path: string;
  /** false: skip the browser tests (the reason was printed); true: run them */
  run: boolean;
  /** set when the tests must fail instead of launching: STASH_TEST_CHROMIUM names a missing file */
  error: string | undefined;
}

/**
 * Which Chromium the browser tests of `suite` use (never a downloaded browser). Unset (or empty)
 * STASH_TEST_CHROMIUM and no Debian Chromium: skip, with the reason printed. STASH_TEST_CHROMIUM
 * naming a file that does not exist is a broken setup, not a missing optional tool: the tests run
 * and fail with `error`, so CI cannot go green without them.
 */
export function chooseChromium(
  suite: string,
  env: Record<string, string | undefined> = process.env,
  fallback: string = DEBIAN_CHROMIUM,
): ChromiumChoice {
  const configured = env['STASH_TEST_CHROMIUM'];
  if (configured) {
    if (existsSync(configured)) return { path: configured, run: true, error: undefined };
    return {
      path: configured,
      run: true,
      error: `STASH_TEST_CHROMIUM is set to ${configured}, which does not exist (unset it to skip the browser tests where there is no Chromium)`,
    };
  }
  if (existsSync(fallback)) return { path: fallback, run: true, error: undefined };
  console.warn(`${suite} skipped: no Chromium at ${fallback} (set STASH_TEST_CHROMIUM)`);
  return { path: fallback, run: false, error: undefined };
}

/** The executable to launch; throws (failing the test) when the choice says so. */
export function chromiumExecutable(choice: ChromiumChoice): string {
  if (choice.error !== undefined) throw new Error(choice.error);
  return choice.path;
}

import { readFileSync } from 'node:fs';

/** `stash <revision>` banner value: the package version, or STASH_REVISION when a build sets it. */
export function readVersion(): string {
  if (process.env['STASH_REVISION']) return process.env['STASH_REVISION'];
  try {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version?: string };
    return `v${pkg.version ?? '0.0.0'}`;
  } catch {
    return 'unknown';
  }
}

/**
 * docs/server.md's flag table stays the parser's: one row per option of GLOBAL_OPTIONS, with the
 * same short name, env var, kind and default, and no row for an option that does not exist.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { GLOBAL_OPTIONS, RESTORE_OPTIONS } from '../../src/config/options.js';
import { ROOT } from '../helpers/spawned-server.js';

const page = readFileSync(join(ROOT, 'docs/server.md'), 'utf8');
/** `| `-d, --db` | `STASH_DB` | string | `stash.db` | ... |` rows, by long name */
const rows = new Map(
  [...page.matchAll(/^\| `(?:-(\w), )?--([\w.-]+)` \| (?:`(\w+)`|–) \| (\w+) \| (?:`([^`]*)`|–) \|/gm)].map((m) => [
    m[2] as string,
    { short: m[1], env: m[3], kind: m[4], default: m[5] },
  ]),
);

describe('docs/server.md lists every flag of stash server', () => {
  it('has one row per option, as options.ts defines it', () => {
    for (const option of GLOBAL_OPTIONS) {
      const row = rows.get(option.long);
      expect(row, `--${option.long} has no row`).toBeDefined();
      const shownDefault = option.default === undefined || option.default === '' ? (option.kind === 'bool' ? 'false' : undefined) : option.default;
      expect(row, `--${option.long}`).toEqual({ short: option.short, env: option.env, kind: option.kind, default: shownDefault });
    }
    expect([...rows.keys()].sort()).toEqual(GLOBAL_OPTIONS.map((o) => o.long).sort());
  });

  it('names the options only restore takes', () => {
    for (const option of RESTORE_OPTIONS) expect(page).toContain(`\`--${option.long}\``);
  });
});

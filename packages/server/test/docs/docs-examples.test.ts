/**
 * Every shell and TypeScript block of README.md and docs/*.md runs, against a real server.
 *
 * Conventions (docs/writing-docs.md says the same for writers):
 * - Pages talk to `localhost:8080` or `127.0.0.1:8080`, as a reader would. The test starts the
 *   built `stash server` on an ephemeral port and rewrites those addresses in the block to it;
 *   it also exports STASH_URL, so `stash get` and friends need no --url.
 * - ```sh / ```bash / ```shell blocks run with `bash -euo pipefail`, `stash` (the repository's
 *   bin) and `npx stash` on PATH, in a scratch directory per page where `docs/` links to the
 *   repository's docs/ (so `docs/examples/auth.yml` resolves). Blocks of a page run in order
 *   and share that directory and their server.
 * - ```ts / ```typescript blocks are whole ES modules importing `@stash/client`: type-checked
 *   together with tsc against the client's declarations, bundled by esbuild, run with node.
 * - Markers are HTML comments on the lines just above a fence:
 *   `<!-- not-run: reason -->` skips the block (docker, systemd, a foreground server...);
 *   `<!-- server: --auth.file=docs/examples/auth.yml -->` runs it against a server started with
 *   those flags (one server per distinct flag set and page); `<!-- output -->` above a ```text
 *   block makes it the expected stdout of the block before (`...` matches any text);
 *   `<!-- file: docs/examples/auth.yml -->` checks that the block shows that file exactly.
 * - Every fence needs a language; `docs/_*.md` are drafts and are not checked.
 * - STASH_DOCS_PAGES=docs/auth.md,README.md runs only those pages (while writing one; drafts too).
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT, buildOnce, cleanEnv } from '../helpers/spawned-server.js';
import { brokenLinks } from './doc-links.js';
import { discoverPages, outputMatches, parsePage, slug, where, type DocBlock, type ParsedPage } from './doc-blocks.js';
import { compileTsBlocks, makeBinDir, pointAt, run, splitArgs, startDocServer, type CompiledTs, type DocServer, type RunResult } from './doc-runner.js';

const BLOCK_TIMEOUT_MS = 20_000;
const only = process.env['STASH_DOCS_PAGES']?.split(',').filter((p) => p !== '');
const pages: ParsedPage[] = (only ?? discoverPages(ROOT)).map((page) => parsePage(ROOT, page));
const tally = new Map<string, { ran: number; skipped: string[]; slow: string[] }>();
/** blocks slower than this are named in the summary, to keep the file within its time budget */
const SLOW_BLOCK_MS = 2_000;
let scratch = '';
let binDir = '';
let compiled: CompiledTs = { modules: new Map(), errors: new Map() };

beforeAll(async () => {
  await buildOnce();
  scratch = mkdtempSync(join(tmpdir(), 'stash-docs-'));
  binDir = makeBinDir(join(scratch, 'bin'));
  const tsBlocks = pages.flatMap((p) => p.blocks).filter((b) => b.kind === 'ts' && b.notRun === undefined);
  compiled = await compileTsBlocks(tsBlocks, join(scratch, 'ts'));
}, 120_000);

afterAll(() => {
  const lines = [...tally].sort(([a], [b]) => a.localeCompare(b)).map(([page, t]) => {
    const reasons = new Map<string, number>();
    for (const r of t.skipped) reasons.set(r, (reasons.get(r) ?? 0) + 1);
    const why = [...reasons].map(([r, n]) => `${n} × ${r}`).join('; ');
    const slow = t.slow.length > 0 ? `; slow: ${t.slow.join(', ')}` : '';
    return `  ${page}: ${t.ran} run, ${t.skipped.length} skipped${why ? ` (${why})` : ''}${slow}`;
  });
  console.log(`docs examples:\n${lines.join('\n')}`);
  if (scratch) rmSync(scratch, { recursive: true, force: true });
});

function report(block: DocBlock, code: string, result: RunResult, server: DocServer, problem: string): string {
  return [
    `${where(block)} (${block.lang}): ${problem}`,
    '--- block as run ---', code.trimEnd(),
    '--- stdout ---', result.stdout.trimEnd(),
    '--- stderr ---', result.stderr.trimEnd(),
    '--- server output (last 2000 characters) ---', server.output().slice(-2000).trimEnd(),
  ].join('\n');
}

async function runBlock(block: DocBlock, server: DocServer, dir: string): Promise<string | undefined> {
  const env = cleanEnv({ PATH: `${binDir}:${process.env['PATH'] ?? ''}`, STASH_URL: server.url, NO_COLOR: '1' });
  let code: string;
  let result: RunResult;
  if (block.kind === 'shell') {
    code = pointAt(block.code, server.url);
    const file = join(dir, `${slug(block)}.sh`);
    writeFileSync(file, code);
    result = await run('bash', ['-euo', 'pipefail', file], { cwd: dir, env, timeoutMs: BLOCK_TIMEOUT_MS });
  } else {
    code = pointAt(block.code, server.url);
    const error = compiled.errors.get(block);
    const module = compiled.modules.get(block);
    if (error !== undefined || module === undefined) {
      return report(block, code, { code: 'not compiled', stdout: '', stderr: error ?? 'missing' }, server, 'does not compile');
    }
    const file = join(dir, `${slug(block)}.mjs`);
    writeFileSync(file, pointAt(module, server.url));
    result = await run(process.execPath, [file], { cwd: dir, env, timeoutMs: BLOCK_TIMEOUT_MS });
  }
  if (result.code !== 0) return report(block, code, result, server, `exited ${result.code}`);
  if (block.expectedOutput !== undefined) {
    const actual = result.stdout.replaceAll(server.url.replace(/^http:\/\//, ''), 'localhost:8080');
    if (!outputMatches(block.expectedOutput, actual)) {
      return report(block, code, result, server, `output differs from the <!-- output --> block:\n${block.expectedOutput}`);
    }
  }
  return undefined;
}

/** Run a page's blocks in order; each distinct `<!-- server: -->` flag set gets one server. */
async function runPage(page: ParsedPage): Promise<string[]> {
  const failures = [...page.problems];
  const count = { ran: 0, skipped: [] as string[], slow: [] as string[] };
  tally.set(page.page, count);
  const dir = join(scratch, page.page.replace(/[^a-z0-9]+/gi, '-'));
  mkdirSync(dir);
  symlinkSync(join(ROOT, 'docs'), join(dir, 'docs'));
  const servers = new Map<string, DocServer>();
  try {
    for (const block of page.blocks) {
      if (block.showsFile !== undefined && readFileSync(resolve(ROOT, block.showsFile), 'utf8') !== block.code) {
        failures.push(`${where(block)}: differs from ${block.showsFile}, which it says it shows`);
      }
      if (block.kind === 'other') continue;
      if (block.notRun !== undefined) {
        count.skipped.push(block.notRun);
        continue;
      }
      const flags = block.serverArgs ?? '';
      let server = servers.get(flags);
      if (server === undefined) {
        try {
          server = await startDocServer(dir, join(dir, `server-${servers.size}.db`), splitArgs(flags));
        } catch (e) {
          failures.push(`${where(block)}: cannot start the server it needs: ${(e as Error).message}`);
          continue;
        }
        servers.set(flags, server);
      }
      count.ran++;
      const started = Date.now();
      const failure = await runBlock(block, server, dir);
      const ms = Date.now() - started;
      if (ms > SLOW_BLOCK_MS) count.slow.push(`line ${block.line} ${(ms / 1000).toFixed(1)} s`);
      if (failure !== undefined) failures.push(failure);
    }
  } finally {
    await Promise.all([...servers.values()].map((s) => s.close()));
  }
  return failures;
}

describe('links between the pages resolve', () => {
  it('every relative link names an existing file and heading', () => {
    expect(pages.flatMap((p) => brokenLinks(ROOT, p.page)).join('\n')).toBe('');
  });
});

// pages share nothing, and most of a block's time is waiting (process starts, Argon2id, bcrypt)
describe.concurrent('code blocks of the docs run', () => {
  for (const page of pages) {
    it(page.page, async () => {
      const failures = await runPage(page);
      expect(failures.join('\n\n')).toBe('');
    }, 120_000);
  }
});

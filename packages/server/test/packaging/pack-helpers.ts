import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { ROOT, cleanEnv, spawnCollected, type Spawned } from '../helpers/spawned-server.js';

export interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
  ms: number;
}

/** Run a command to its end (killed after `timeoutMs`), without STASH_* or DEBUG from the test's environment. */
export function run(cmd: string, args: readonly string[], options: { cwd: string; env?: Record<string, string>; timeoutMs?: number }): Promise<Run> {
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd: options.cwd, env: cleanEnv(options.env), stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 60_000);
    child.once('error', reject);
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr, ms: Date.now() - started });
    });
  });
}

/** Fail with everything the command printed unless it exited 0. */
export function ok(result: Run, what: string): Run {
  if (result.code !== 0) throw new Error(`${what} exited ${result.code} after ${result.ms} ms\nstdout:\n${result.stdout}\nstderr:\n${result.stderr}`);
  return result;
}

// npm pack's prepack scripts build into the same dist/ and web-assets/ other test files use
import { withBuildLock } from '../helpers/spawned-server.js';

export { withBuildLock };

export interface PackedFile {
  name: string;
  filename: string;
  files: string[];
}

/** `npm pack --json` of the workspaces into `dest`, with their prepack scripts. */
export async function packWorkspaces(dest: string, workspaces: readonly string[]): Promise<PackedFile[]> {
  const args = ['pack', ...workspaces.flatMap((w) => ['-w', w]), '--pack-destination', dest, '--json'];
  const result = ok(await withBuildLock(() => run('npm', args, { cwd: ROOT, timeoutMs: 120_000 })), 'npm pack');
  const packed = JSON.parse(result.stdout) as Array<{ name: string; filename: string; files: Array<{ path: string }> }>;
  return packed.map((p) => ({ name: p.name, filename: join(dest, p.filename), files: p.files.map((f) => f.path) }));
}

/**
 * better-sqlite3 fetches a prebuilt binary from GitHub at install time and compiles SQLite
 * (about two minutes on two cores) when it cannot. The binary `npm ci` put in the repository, for
 * this very Node ABI and platform, is offered as prebuild-install's local prebuild instead, under
 * the file name the download would have: the install still runs the package's own install script.
 */
export async function localSqlitePrebuild(dir: string): Promise<Record<string, string>> {
  const require = createRequire(join(ROOT, 'packages/server/package.json'));
  const pkgDir = dirname(require.resolve('better-sqlite3/package.json'));
  const version = (JSON.parse(readFileSync(join(pkgDir, 'package.json'), 'utf8')) as { version: string }).version;
  const report = process.report.getReport() as { header?: { glibcVersionRuntime?: string } };
  const libc = process.platform === 'linux' && report.header?.glibcVersionRuntime === undefined ? 'musl' : '';
  const name = `better-sqlite3-v${version}-node-v${process.versions.modules}-${process.platform}${libc}-${process.arch}.tar.gz`;
  mkdirSync(dir, { recursive: true });
  ok(await run('tar', ['czf', join(dir, name), '-C', pkgDir, 'build/Release/better_sqlite3.node'], { cwd: dir }), 'tar of the local prebuild');
  return { npm_config_better_sqlite3_local_prebuilds: dir };
}

/** A package.json for an empty ESM project. */
export function emptyProject(dir: string): void {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'package.json'), `${JSON.stringify({ name: 'pack-consumer', private: true, type: 'module' }, null, 2)}\n`);
}

/** Start an installed `stash` (not the repository's bin), its output collected as runStash does. */
export function spawnInstalled(bin: string, args: readonly string[], cwd: string): Spawned {
  mkdirSync(cwd, { recursive: true });
  return spawnCollected(bin, args, { cwd });
}

import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, rmdirSync } from 'node:fs';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';

/** Repository root (where `npx tsc -b` runs) and the built bin the tests spawn. */
export const ROOT = fileURLToPath(new URL('../../../../', import.meta.url));
export const BIN = fileURLToPath(new URL('../../bin/stash.js', import.meta.url));
const MAIN_JS = fileURLToPath(new URL('../../dist/cli/main.js', import.meta.url));

/**
 * Build the workspace so the bin runs the current sources. Test files run in parallel, so a
 * directory lock keeps two `tsc -b` from writing the same outputs. Type errors in files other
 * helpers are still writing do not stop the emit; a missing bin does.
 */
export async function buildOnce(): Promise<void> {
  await withBuildLock(async () => {
    const result = spawnSync('npx', ['tsc', '-b'], { cwd: ROOT, encoding: 'utf8' });
    if (result.status !== 0) console.warn(`tsc -b reported errors:\n${result.stdout}${result.stderr}`);
  });
  if (!existsSync(MAIN_JS)) throw new Error(`build did not produce ${MAIN_JS}`);
}

/** Run `work` holding the directory lock every build of dist/ and web-assets/ in the tests takes. */
export async function withBuildLock<T>(work: () => Promise<T>): Promise<T> {
  const lock = `${ROOT}.tsc-build.lock`;
  for (let i = 0; ; i++) {
    try {
      mkdirSync(lock);
      break;
    } catch {
      if (i > 600) throw new Error(`build lock ${lock} held for over 60 s`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  try {
    return await work();
  } finally {
    rmdirSync(lock);
  }
}

/** A port nobody listens on right now (the OS picks it). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const address = srv.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

export interface Spawned {
  proc: ChildProcess;
  /** everything written so far */
  stdout(): string;
  stderr(): string;
  /** resolves with the exit code (or the signal name) once the process is gone */
  exited: Promise<number | string>;
}

/** The caller's environment without any STASH_* or DEBUG leaking in, plus `extra`. */
export function cleanEnv(extra: Record<string, string> = {}): Record<string, string> {
  const base = Object.entries(process.env).filter(([k]) => !k.startsWith('STASH_') && k !== 'DEBUG');
  return { ...(Object.fromEntries(base) as Record<string, string>), ...extra };
}

/** Start `cmd` with a clean environment (plus `env`), collecting its output. */
export function spawnCollected(cmd: string, args: readonly string[], options: { cwd?: string; env?: Record<string, string> } = {}): Spawned {
  const proc = spawn(cmd, args, { cwd: options.cwd, env: cleanEnv(options.env), stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  proc.stdout?.setEncoding('utf8').on('data', (d: string) => (out += d));
  proc.stderr?.setEncoding('utf8').on('data', (d: string) => (err += d));
  const exited = new Promise<number | string>((resolve) => {
    proc.once('exit', (code, signal) => resolve(code ?? signal ?? -1));
  });
  return { proc, stdout: () => out, stderr: () => err, exited };
}

/** Run the built `stash` bin with `args` and an environment without any STASH_* leaking in. */
export function runStash(args: readonly string[], env: Record<string, string> = {}, options: { cwd?: string } = {}): Spawned {
  return spawnCollected(process.execPath, [BIN, ...args], { ...options, env });
}

/**
 * Poll `/ping` until the server answers `pong`; fails with the server's output after `timeoutMs`.
 * With `ownLine`, pings start only once the server has printed it, so a pong from whoever took
 * the port in between does not count.
 */
export async function waitForPing(url: string, server: Spawned, timeoutMs = 10_000, ownLine?: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (server.proc.exitCode !== null) break;
    if (ownLine === undefined || `${server.stdout()}${server.stderr()}`.includes(ownLine)) {
      try {
        const res = await fetch(`${url}/ping`);
        if ((await res.text()) === 'pong') return;
      } catch {
        // not listening yet
      }
    }
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`server at ${url} did not answer /ping\nstdout:\n${server.stdout()}\nstderr:\n${server.stderr()}`);
}

/**
 * Start `stash server` on a free port with `--db=<db>` (none when `db` is undefined: `extra`
 * names it) and no rate limit, and wait until it answers. Test files run in parallel, so a port
 * taken between freePort() and listen is tried again with another.
 */
export async function startStashProcess(
  db: string | undefined,
  extra: readonly string[] = [],
  options: { cwd?: string; timeoutMs?: number; /** --server.base-url the server runs under */ baseUrl?: string } = {},
): Promise<Spawned & { url: string; port: number }> {
  for (let attempt = 1; ; attempt++) {
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    const server = runStash(
      ['server', ...(db === undefined ? [] : [`--db=${db}`]), `--server.address=127.0.0.1:${port}`, '--limits.requests-per-sec=0', ...extra],
      {},
      options,
    );
    try {
      await waitForPing(`${url}${options.baseUrl ?? ''}`, server, options.timeoutMs, `listening on 127.0.0.1:${port}`);
      return { ...server, url, port };
    } catch (e) {
      if (server.proc.exitCode === null) server.proc.kill('SIGKILL');
      await server.exited;
      if (attempt === 3 || !(e as Error).message.includes('EADDRINUSE')) throw e;
    }
  }
}

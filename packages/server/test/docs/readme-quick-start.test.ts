/**
 * The README's quick start stays true: `npm start` serves the API and the web UI on an embedded
 * SQLite file, and `npx stash server --db=PATH --server.address=127.0.0.1:PORT` works from the
 * repository root. (`npm ci` itself is what .ci/run does; it is not repeated here.)
 */
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT, buildOnce, cleanEnv, freePort } from '../helpers/spawned-server.js';
import { makeTempDir } from '../helpers/test-server.js';

const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
let dir = '';

beforeAll(async () => {
  await buildOnce();
  dir = makeTempDir('stash-quick-start-');
}, 120_000);

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** Run a foreground command from the repository root until it answers on `url`, then check it and stop it. */
async function serveAndCheck(cmd: string, args: string[], env: Record<string, string>, url: string): Promise<string> {
  // npm_config_offline: npx must use the workspace's bin, never fetch one
  const proc = spawn(cmd, args, { cwd: ROOT, env: cleanEnv({ ...env, npm_config_offline: 'true' }), detached: true });
  let output = '';
  proc.stdout.setEncoding('utf8').on('data', (d: string) => (output += d));
  proc.stderr.setEncoding('utf8').on('data', (d: string) => (output += d));
  const exited = new Promise<number | string>((resolve) => proc.once('exit', (code, signal) => resolve(code ?? signal ?? -1)));
  try {
    const deadline = Date.now() + 20_000;
    for (;;) {
      if (proc.exitCode !== null) throw new Error(`${cmd} ${args.join(' ')} exited ${proc.exitCode}:\n${output}`);
      const pong = await fetch(`${url}/ping`).then((r) => r.text(), () => '');
      if (pong === 'pong') break;
      if (Date.now() > deadline) throw new Error(`${cmd} ${args.join(' ')} did not answer in 20 s:\n${output}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    const put = await fetch(`${url}/kv/app/config`, { method: 'PUT', headers: { 'X-Stash-Format': 'json' }, body: '{"debug":true}' });
    expect(put.status).toBe(201);
    expect(await (await fetch(`${url}/kv/app/config`)).text()).toBe('{"debug":true}');
    const page = await fetch(`${url}/`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/^text\/html/);
    expect(await page.text()).toContain('app/config'); // the web UI lists the key
    return output;
  } finally {
    try {
      process.kill(-(proc.pid as number), 'SIGTERM'); // npm, its shell and the server
    } catch {
      // already gone
    }
    await exited;
  }
}

describe('the README quick start', () => {
  it('names the commands this file checks', () => {
    expect(readme).toContain('npm ci && npm start');
    expect(readme).toContain('http://localhost:8080/');
    expect(readme).toMatch(/npx stash server --db=\S+ --server\.address=127\.0\.0\.1:8080/);
  });

  it('npm start serves the API and the web UI on an embedded SQLite file', async () => {
    const port = await freePort();
    const db = join(dir, 'npm-start.db');
    const output = await serveAndCheck('npm', ['start'], { STASH_DB: db, STASH_SERVER_ADDRESS: `127.0.0.1:${port}` }, `http://127.0.0.1:${port}`);
    expect(output).toContain('db sqlite');
    expect(existsSync(db)).toBe(true);
  }, 60_000);

  it('npx stash server --db=PATH --server.address=127.0.0.1:PORT works from the repository root', async () => {
    const port = await freePort();
    const db = join(dir, 'npx.db');
    await serveAndCheck('npx', ['stash', 'server', `--db=${db}`, `--server.address=127.0.0.1:${port}`], {}, `http://127.0.0.1:${port}`);
    expect(existsSync(db)).toBe(true);
  }, 60_000);
});

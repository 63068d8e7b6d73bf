// Shared by the benchmarks: start the built `stash server` on a free port and wait for `pong`.
import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));
export const BIN = join(ROOT, 'packages/server/bin/stash.js');

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

export function freePort() {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

/** Spawn `stash server` with extra flags (no rate or concurrency limit) and resolve once it answers. */
export async function startStash(db, flags = []) {
  const port = await freePort();
  const proc = spawn(
    process.execPath,
    // STASH_BENCH_NODE_ARGS: flags for the server's node, e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof" (not allowed in NODE_OPTIONS)
    [...(process.env.STASH_BENCH_NODE_ARGS?.split(' ').filter(Boolean) ?? []), BIN, 'server', `--db=${db}`, `--server.address=127.0.0.1:${port}`, '--limits.requests-per-sec=0', '--limits.max-concurrent=0', ...flags],
    { stdio: ['ignore', 'ignore', 'inherit'] },
  );
  const url = `http://127.0.0.1:${port}`;
  for (;;) {
    if (proc.exitCode !== null) throw new Error(`stash server exited with ${proc.exitCode}`);
    try {
      if ((await (await fetch(`${url}/ping`)).text()) === 'pong') return { proc, url, port, stop: () => stopStash(proc) };
    } catch {
      await sleep(5);
    }
  }
}

/** SIGTERM and wait for the exit (graceful shutdown); a process already gone resolves at once. */
export async function stopStash(proc) {
  if (proc.exitCode !== null) return;
  const exited = new Promise((resolve) => proc.once('exit', resolve));
  proc.kill('SIGTERM');
  await exited;
}

/**
 * The bare node:http server the benchmarks compare with: reads the body, answers a fixed 100-byte
 * body. Resolves once it listens.
 */
export function startBare() {
  const code = `
    const body = Buffer.alloc(100, 'x');
    const srv = require('node:http').createServer((req, res) => {
      req.resume();
      req.on('end', () => res.writeHead(200, { 'content-type': 'text/plain', 'content-length': 100 }).end(body));
    });
    srv.keepAliveTimeout = 30000;
    srv.listen(0, '127.0.0.1', () => console.log('port=' + srv.address().port));`;
  const proc = spawn(process.execPath, ['-e', code], { stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    proc.stdout.setEncoding('utf8').on('data', (d) => {
      const port = /port=(\d+)/.exec(d)?.[1];
      if (port) resolve({ proc, url: `http://127.0.0.1:${port}` });
    });
    proc.once('exit', (c) => reject(new Error(`bare server exited with ${c}`)));
  });
}

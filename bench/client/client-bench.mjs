// Client speed: cached ZK reads vs first reads, and sequential GETs over keep-alive.
// Run from the repository root after `npm run build`: node bench/client/client-bench.mjs
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Client } from '@stash/client';

const BIN = fileURLToPath(new URL('../../packages/server/bin/stash.js', import.meta.url));
const ZK_KEY = 'bench-passphrase-of-16+';
const GETS = Number(process.env.BENCH_GETS ?? 1000);
const ZK_VALUES = 5;

function freePort() {
  return new Promise((resolve, reject) => {
    const srv = createServer().listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
    srv.on('error', reject);
  });
}

async function startServer() {
  const dir = mkdtempSync(join(tmpdir(), 'stash-bench-'));
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const args = ['server', '--db', join(dir, 'stash.db'), '--server.address', `127.0.0.1:${port}`, '--limits.requests-per-sec', '0'];
  const child = spawn(process.execPath, [BIN, ...args], { stdio: 'ignore' });
  for (let i = 0; i < 100; i++) {
    const ok = await fetch(`${url}/ping`).then((r) => r.ok, () => false);
    if (ok) return { url, stop: () => { child.kill('SIGTERM'); rmSync(dir, { recursive: true, force: true }); } };
    await new Promise((r) => setTimeout(r, 100));
  }
  child.kill('SIGKILL');
  throw new Error('server did not start');
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function timed(fn) {
  const t0 = performance.now();
  await fn();
  return performance.now() - t0;
}

const server = await startServer();
try {
  // ZK: a fresh client has no derived keys; the second read of the same value hits the cache
  const writer = new Client(server.url, { zkKey: ZK_KEY });
  for (let i = 0; i < ZK_VALUES; i++) await writer.set(`zk/v${i}`, `secret ${i}`);
  writer.close();
  const reader = new Client(server.url, { zkKey: ZK_KEY });
  const first = [];
  const again = [];
  for (let i = 0; i < ZK_VALUES; i++) first.push(await timed(() => reader.get(`zk/v${i}`)));
  for (let pass = 0; pass < 5; pass++) {
    for (let i = 0; i < ZK_VALUES; i++) again.push(await timed(() => reader.get(`zk/v${i}`)));
  }
  reader.close();

  // sequential GETs: the client against plain fetch on the same keep-alive connection pool
  const plain = new Client(server.url);
  await plain.set('bench/key', 'x'.repeat(100));
  for (let i = 0; i < 50; i++) await plain.get('bench/key');
  // alternate the two in rounds and keep each one's best: a shared machine is noisy
  const clientRuns = [];
  const fetchRuns = [];
  for (let round = 0; round < 3; round++) {
    clientRuns.push(await timed(async () => {
      for (let i = 0; i < GETS; i++) await plain.get('bench/key');
    }));
    fetchRuns.push(await timed(async () => {
      for (let i = 0; i < GETS; i++) await (await fetch(`${server.url}/kv/bench/key`)).arrayBuffer();
    }));
  }
  const clientMs = Math.min(...clientRuns);
  const fetchMs = Math.min(...fetchRuns);
  plain.close();

  const firstMs = median(first);
  const againMs = median(again);
  console.log(`machine: ${cpus().length} x ${cpus()[0]?.model ?? 'cpu'}, Node ${process.version}, load ${loadavg()[0].toFixed(1)}`);
  console.log(`ZK get, first read (Argon2id): median ${firstMs.toFixed(1)} ms`);
  console.log(`ZK get, read again (cached key): median ${againMs.toFixed(2)} ms  -> ${(firstMs / againMs).toFixed(0)}x faster`);
  console.log(`${GETS} sequential client.get (best of 3): ${(GETS / (clientMs / 1000)).toFixed(0)} req/s`);
  console.log(`${GETS} sequential raw fetch GET (best of 3): ${(GETS / (fetchMs / 1000)).toFixed(0)} req/s (server's own figure, same conditions)`);
} finally {
  server.stop();
}

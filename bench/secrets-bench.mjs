#!/usr/bin/env node
// Secrets read benchmark of the built stash server: the first GET of a secret (one Argon2id,
// 64 MiB) against GETs of a secret read before (derived key cached per salt), plus a plain key.
// Usage: node bench/secrets-bench.mjs [--keys 32] [--duration 5] [--connections 16] [--out file.md]
// Build first (`npm run build`); see bench/README.md. Target: warm >= 20x first-read throughput.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';
import { startStash, stopStash } from './lib/stash-process.mjs';

const MASTER = 'bench-secrets-key-0123456789';
const VALUE = 's'.repeat(100);

const { values: args } = parseArgs({
  options: {
    keys: { type: 'string', default: '32' },
    duration: { type: 'string', default: '5' },
    connections: { type: 'string', default: '16' },
    out: { type: 'string' },
  },
});
const KEYS = Number(args.keys);
const DURATION = Number(args.duration);
const CONNECTIONS = Number(args.connections);





async function expectOk(res, what) {
  const body = await res.text();
  if (!res.ok) throw new Error(`${what}: ${res.status} ${body}`);
  return body;
}

/** First reads: every key once, in a fresh process, `CONNECTIONS` at a time. */
async function firstReads(url) {
  const keys = Array.from({ length: KEYS }, (_, i) => `bench/secrets/k${i}`);
  const latencies = [];
  const started = performance.now();
  let next = 0;
  const worker = async () => {
    while (next < keys.length) {
      const key = keys[next++];
      const t = performance.now();
      const body = await expectOk(await fetch(`${url}/kv/${key}`), `GET ${key}`);
      latencies.push(performance.now() - t);
      if (body !== VALUE) throw new Error(`GET ${key}: wrong plaintext`);
    }
  };
  await Promise.all(Array.from({ length: Math.min(CONNECTIONS, KEYS) }, worker));
  const seconds = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  return { rps: KEYS / seconds, p50: latencies[Math.floor(latencies.length / 2)] };
}

async function load(name, path) {
  const result = await autocannon({ url: path, connections: CONNECTIONS, duration: DURATION });
  const failed = result.errors + result.timeouts + result.non2xx;
  if (failed > 0) throw new Error(`${name}: ${failed} failed requests`);
  return { rps: result.requests.average, p50: result.latency.p50 };
}

const dir = mkdtempSync(join(tmpdir(), 'stash-secrets-bench-'));
const db = join(dir, 'stash.db');
try {
  // seed, then restart: the new process has an empty key cache, as after a deploy
  let server = await startStash(db, [`--secrets.key=${MASTER}`]);
  for (let i = 0; i < KEYS; i++) await expectOk(await fetch(`${server.url}/kv/bench/secrets/k${i}`, { method: 'PUT', body: VALUE }), 'seed');
  await expectOk(await fetch(`${server.url}/kv/bench/plain`, { method: 'PUT', body: VALUE }), 'seed plain');
  await stopStash(server.proc);
  server = await startStash(db, [`--secrets.key=${MASTER}`]);

  const first = await firstReads(server.url);
  const warm = await load('warm secret', `${server.url}/kv/bench/secrets/k0`);
  const plain = await load('plain key', `${server.url}/kv/bench/plain`);
  await stopStash(server.proc);

  const ratio = warm.rps / first.rps;
  const lines = [
    `Node ${process.version}, ${cpus().length} CPU (${cpus()[0]?.model.trim() ?? 'unknown'}), ${KEYS} keys, ${DURATION} s per load, ${CONNECTIONS} connections.`,
    '',
    '| case | req/s | p50 ms |',
    '|---|---:|---:|',
    `| first GET of a secret (Argon2id each) | ${first.rps.toFixed(1)} | ${first.p50.toFixed(1)} |`,
    `| GET of a secret read before (cached key) | ${warm.rps.toFixed(0)} | ${warm.p50} |`,
    `| GET of a plain key | ${plain.rps.toFixed(0)} | ${plain.p50} |`,
    '',
    `cached / first read: ${ratio.toFixed(0)}x (target >= 20x) ${ratio >= 20 ? 'PASS' : 'FAIL'}`,
  ];
  const report = lines.join('\n');
  console.log(report);
  if (args.out) writeFileSync(args.out, `${report}\n`);
  process.exitCode = ratio >= 20 ? 0 : 1;
} finally {
  rmSync(dir, { recursive: true, force: true });
}

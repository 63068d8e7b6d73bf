#!/usr/bin/env node
// Secrets read benchmark of the built stash server: the first GET of a secret (one Argon2id,
// 64 MiB) against GETs of one secret read before (derived key cached per salt), GETs rotating over
// more secrets than the server's derived-key cache holds, and a plain key.
// Usage: node bench/secrets-bench.mjs [--keys 32] [--rotate 4200] [--duration 5] [--connections 16] [--out file.md]
// Build first (`npm run build`); see bench/README.md ("Secrets"). Target: one cached secret >= 20x first-read throughput.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';
import { startStash, stopStash } from './lib/stash-process.mjs';

const MASTER = 'bench-secrets-key-0123456789';
const VALUE = 's'.repeat(100);
// the server's derived-key LRU (DEFAULT_CACHE_SIZE in packages/server/src/crypto/secrets-vault.ts);
// not configurable from the command line
const SERVER_KEY_CACHE = 4096;
const WARMUP = 1;

const { values: args } = parseArgs({
  options: {
    keys: { type: 'string', default: '32' },
    rotate: { type: 'string', default: '4200' },
    duration: { type: 'string', default: '5' },
    connections: { type: 'string', default: '16' },
    out: { type: 'string' },
  },
});
const KEYS = Number(args.keys);
// secrets the rotating case cycles through (0 skips it); the default is just over the server's cache
const ROTATE = Number(args.rotate);
const DURATION = Number(args.duration);
const CONNECTIONS = Number(args.connections);
const SECRETS = Math.max(KEYS, ROTATE);
const secretKey = (i) => `bench/secrets/k${i}`;

async function expectOk(res, what) {
  const body = await res.text();
  if (!res.ok) throw new Error(`${what}: ${res.status} ${body}`);
  return body;
}

/** `count` writes (or reads) `CONNECTIONS` at a time. */
async function concurrently(count, work) {
  let next = 0;
  const worker = async () => {
    while (next < count) await work(next++);
  };
  await Promise.all(Array.from({ length: Math.min(CONNECTIONS, count) }, worker));
}

/** First reads: every one of the first `KEYS` secrets once, in a fresh process, `CONNECTIONS` at a time. */
async function firstReads(url) {
  const latencies = [];
  const started = performance.now();
  await concurrently(KEYS, async (i) => {
    const t = performance.now();
    const body = await expectOk(await fetch(`${url}/kv/${secretKey(i)}`), `GET ${secretKey(i)}`);
    latencies.push(performance.now() - t);
    if (body !== VALUE) throw new Error(`GET ${secretKey(i)}: wrong plaintext`);
  });
  const seconds = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  return { rps: KEYS / seconds, p50: latencies[Math.floor(latencies.length / 2)], requests: KEYS };
}

function checked(name, result) {
  const failed = result.errors + result.timeouts + result.non2xx;
  if (failed > 0) throw new Error(`${name}: ${failed} failed requests (${result.non2xx} non-2xx, ${result.errors} errors, ${result.timeouts} timeouts)`);
  return result;
}

/** A checked warm-up run, then the measured one: a failed request in either aborts (a fast error is not a result). */
async function load(name, opts) {
  checked(`${name} (warm-up)`, await autocannon({ connections: CONNECTIONS, duration: WARMUP, ...opts }));
  const result = checked(name, await autocannon({ connections: CONNECTIONS, duration: DURATION, ...opts }));
  return { rps: result.requests.average, p50: result.latency.p50, p99: result.latency.p99, requests: result.requests.total };
}

const loadBefore = loadavg().map((l) => l.toFixed(2)).join(' ');
const dir = mkdtempSync(join(tmpdir(), 'stash-secrets-bench-'));
const db = join(dir, 'stash.db');
try {
  // seed (one Argon2id per sealed value, about 24/s on 2 cores: the rotating set takes minutes)
  const seedStarted = performance.now();
  let server = await startStash(db, [`--secrets.key=${MASTER}`]);
  await concurrently(SECRETS, async (i) =>
    expectOk(await fetch(`${server.url}/kv/${secretKey(i)}`, { method: 'PUT', body: VALUE }), `seed ${secretKey(i)}`),
  );
  await expectOk(await fetch(`${server.url}/kv/bench/plain`, { method: 'PUT', body: VALUE }), 'seed plain');
  const seedSeconds = (performance.now() - seedStarted) / 1000;

  // Rotating over ROTATE secrets in order, in the process that sealed them: its cache holds the
  // last 4,096 derived keys, as a long-running server whose working set is larger than its cache.
  // A cyclic scan over more keys than an LRU holds misses every time (the key read next is always
  // the one evicted longest ago), so each read runs Argon2id, on the first pass and every later one.
  let rotating;
  if (ROTATE > 0) {
    let n = 0;
    rotating = await load('rotating secrets', {
      url: `${server.url}/kv/${secretKey(0)}`,
      requests: [{ setupRequest: (req) => ({ ...req, path: `/kv/${secretKey(n++ % ROTATE)}` }) }],
    });
  }

  // restart: the new process has an empty key cache, as after a deploy
  await stopStash(server.proc);
  server = await startStash(db, [`--secrets.key=${MASTER}`]);
  const first = await firstReads(server.url);
  // k0 was read by firstReads: its derived key is cached from here on
  const warm = await load('one secret read before', { url: `${server.url}/kv/${secretKey(0)}` });
  const plain = await load('plain key', { url: `${server.url}/kv/bench/plain` });
  await stopStash(server.proc);

  const ratio = warm.rps / first.rps;
  const row = (name, r) => `| ${name} | ${r.rps >= 100 ? r.rps.toFixed(0) : r.rps.toFixed(1)} | ${r.p50.toFixed(1)} | ${r.p99 === undefined ? '-' : r.p99.toFixed(1)} | ${r.requests} |`;
  const lines = [
    `Node ${process.version}, ${cpus().length} CPU (${cpus()[0]?.model.trim() ?? 'unknown'}), load average before the run ${loadBefore}; ${KEYS} first reads, ${DURATION} s per load after a ${WARMUP} s warm-up, ${CONNECTIONS} connections; ${SECRETS} secrets seeded in ${seedSeconds.toFixed(0)} s.`,
    '',
    '| case | req/s | p50 ms | p99 ms | requests |',
    '|---|---:|---:|---:|---:|',
    row(`first GET of a secret after a restart (Argon2id each, ${KEYS} secrets)`, first),
    row('GET of one secret read before (cached key)', warm),
    ...(rotating
      ? [row(`GET rotating over ${ROTATE} secrets in order (server caches ${SERVER_KEY_CACHE} keys${ROTATE > SERVER_KEY_CACHE ? ': Argon2id each' : ': all cached'})`, rotating)]
      : []),
    row('GET of a plain key', plain),
    '',
    `one cached secret / first read: ${ratio.toFixed(0)}x (target >= 20x) ${ratio >= 20 ? 'PASS' : 'FAIL'}`,
    ...(rotating
      ? [
          `rotating over ${ROTATE} secrets / first read: ${(rotating.rps / first.rps).toFixed(1)}x; / one cached secret: ${(rotating.rps / warm.rps).toFixed(4)}x` +
            (ROTATE > SERVER_KEY_CACHE ? ` (a working set larger than the server's ${SERVER_KEY_CACHE}-key cache gets no benefit from it)` : ''),
        ]
      : []),
  ];
  const report = lines.join('\n');
  console.log(report);
  if (args.out) writeFileSync(args.out, `${report}\n`);
  process.exitCode = ratio >= 20 ? 0 : 1;
} finally {
  rmSync(dir, { recursive: true, force: true });
}

#!/usr/bin/env node
// Git mirror benchmark: PUT throughput with --git.enabled next to without, how long git takes to
// catch up, and GET throughput while commits run (a steady PUT stream next to a GET flood).
// Usage: node bench/git-bench.mjs [--duration 10] [--connections 16] [--put-rate 200] [--out file.md]
// Build first (`npx tsc -b`); see bench/README.md.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';
import { sleep, startStash, stopStash } from './lib/stash-process.mjs';

const VALUE = 'v'.repeat(100);

const { values: args } = parseArgs({
  options: {
    duration: { type: 'string', default: '10' },
    connections: { type: 'string', default: '16' },
    'put-rate': { type: 'string', default: '200' },
    out: { type: 'string' },
  },
});
const DURATION = Number(args.duration);
const CONNECTIONS = Number(args.connections);
const PUT_RATE = Number(args['put-rate']);





function commits(dir) {
  return Number(execFileSync('git', ['-C', join(dir, 'history'), 'rev-list', '--count', 'HEAD'], { encoding: 'utf8' }).trim());
}

/** PUTs over 1000 keys (creates, then updates), so git commits real file changes. */
function putRequests() {
  let n = 0;
  return [{ method: 'PUT', body: VALUE, setupRequest: (req) => ({ ...req, path: `/kv/bench/${n++ % 1000}` }) }];
}

async function run(name, opts) {
  const result = await autocannon({ duration: DURATION, ...opts });
  const failed = result.errors + result.timeouts + result.non2xx;
  if (failed > 0) throw new Error(`${name}: ${failed} failed requests`);
  return result;
}

async function measure(git) {
  const dir = mkdtempSync(join(tmpdir(), 'stash-git-bench-'));
  const server = await startStash(join(dir, 'stash.db'), git ? ['--git.enabled', `--git.path=${join(dir, 'history')}`] : []);
  try {
    // 1. PUT throughput: the API never waits for git, so this is what writers see
    const puts = await run('put', { url: server.url, connections: CONNECTIONS, requests: putRequests() });
    const written = puts['2xx'];
    // 2. how long the mirror needs to commit everything written (one commit per PUT)
    let drainMs = 0;
    if (git) {
      const start = performance.now();
      while (commits(dir) < written + 1) await sleep(50);
      drainMs = performance.now() - start;
    }
    // 3. GET flood next to a steady PUT stream: with git the commits run during the whole window
    await fetch(`${server.url}/kv/bench/get`, { method: 'PUT', body: VALUE });
    const [gets, steady] = await Promise.all([
      run('get', { url: `${server.url}/kv/bench/get`, connections: CONNECTIONS }),
      run('steady put', { url: server.url, connections: 2, overallRate: PUT_RATE, requests: putRequests() }),
    ]);
    return {
      putRps: puts.requests.average,
      putP99: puts.latency.p99,
      written,
      drainMs,
      commitsPerSec: git ? written / ((DURATION * 1000 + drainMs) / 1000) : undefined,
      getRps: gets.requests.average,
      getP99: gets.latency.p99,
      steadyPuts: steady['2xx'],
    };
  } finally {
    await stopStash(server.proc);
    rmSync(dir, { recursive: true, force: true });
  }
}

const plain = await measure(false);
const mirrored = await measure(true);
const fmt = (n) => (n === undefined ? '-' : Math.round(n).toLocaleString('en-US'));
const lines = [
  `# git mirror bench (${DURATION}s per run, ${CONNECTIONS} connections, steady PUT stream ${PUT_RATE}/s during the GET run)`,
  '',
  '| mode | PUT req/s | PUT p99 ms | PUTs written | git catch-up after load ms | commits/s | GET req/s with PUTs running | GET p99 ms |',
  '|---|---|---|---|---|---|---|---|',
  `| no git | ${fmt(plain.putRps)} | ${plain.putP99} | ${fmt(plain.written)} | - | - | ${fmt(plain.getRps)} | ${plain.getP99} |`,
  `| --git.enabled | ${fmt(mirrored.putRps)} | ${mirrored.putP99} | ${fmt(mirrored.written)} | ${fmt(mirrored.drainMs)} | ${fmt(mirrored.commitsPerSec)} | ${fmt(mirrored.getRps)} | ${mirrored.getP99} |`,
  '',
  `GET throughput with git = ${((mirrored.getRps / plain.getRps) * 100).toFixed(0)}% of without (same PUT stream).`,
];
const report = `${lines.join('\n')}\n`;
process.stdout.write(report);
if (args.out) writeFileSync(args.out, report);

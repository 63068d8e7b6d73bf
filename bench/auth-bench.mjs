#!/usr/bin/env node
// GET throughput with auth enabled (a token with 20 prefix grants) next to the same server
// without auth, in one run. Target (issue 5): with auth >= 0.9x without.
// Usage: node bench/auth-bench.mjs [--duration 10] [--connections 32] [--rounds 2]
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';
import { startStash } from './lib/stash-process.mjs';

const { values: args } = parseArgs({
  options: {
    duration: { type: 'string', default: '10' },
    connections: { type: 'string', default: '32' },
    rounds: { type: 'string', default: '2' },
  },
});
const TOKEN = 'bench-token-0123456789abcdef';
const dir = mkdtempSync(join(tmpdir(), 'stash-auth-bench-'));
const authFile = join(dir, 'auth.yml');
const grants = Array.from({ length: 19 }, (_, i) => `      - prefix: "svc${String(i).padStart(2, '0')}/*"\n        access: r`).join('\n');
writeFileSync(authFile, `tokens:\n  - token: "${TOKEN}"\n    permissions:\n${grants}\n      - prefix: "bench/*"\n        access: rw\n`);

async function measure(flags, headers) {
  const db = join(dir, `${Math.random().toString(36).slice(2)}.db`);
  const server = await startStash(db, flags);
  try {
    const put = await fetch(`${server.url}/kv/bench/one`, { method: 'PUT', body: 'x'.repeat(100), headers });
    if (!put.ok) throw new Error(`seed PUT ${put.status}`);
    const opts = { url: `${server.url}/kv/bench/one`, connections: Number(args.connections), headers };
    await autocannon({ ...opts, duration: 2 });
    const r = await autocannon({ ...opts, duration: Number(args.duration) });
    if (r.non2xx + r.errors > 0) throw new Error(`${r.non2xx} non-2xx, ${r.errors} errors`);
    return r.requests.average;
  } finally {
    await server.stop();
  }
}

const rows = [];
try {
  // alternate the two setups so drift on a shared VM hits both alike
  for (let round = 0; round < Number(args.rounds); round++) {
    const open = await measure([], {});
    const auth = await measure([`--auth.file=${authFile}`], { authorization: `Bearer ${TOKEN}` });
    rows.push({ open, auth });
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
const sum = (k) => rows.reduce((n, r) => n + r[k], 0);
console.log(`Node ${process.version}, ${cpus().length} CPU, ${args.duration} s per run, ${args.connections} connections, load ${loadavg().map((l) => l.toFixed(2)).join(' ')}\n`);
console.log('| round | GET without auth req/s | GET with auth (token, 20 prefixes) req/s | ratio |\n|---|---:|---:|---:|');
rows.forEach((r, i) => console.log(`| ${i + 1} | ${Math.round(r.open)} | ${Math.round(r.auth)} | ${(r.auth / r.open).toFixed(2)}x |`));
const ratio = sum('auth') / sum('open');
console.log(`\nwith auth / without: ${ratio.toFixed(2)}x (target >= 0.9x) ${ratio >= 0.9 ? 'PASS' : 'FAIL'}`);

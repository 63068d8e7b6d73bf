#!/usr/bin/env node
// Web UI benchmark: server time of the key list, search and page with 10,000 keys under 500
// folders, and the page's weight over the wire. Build first (`npm run build`); see bench/README.md.
// Usage: node bench/web-bench.mjs [--requests 300] [--keys 10000] [--folders 500] [--pg postgres://...]
import { request } from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { startBare, startStash } from './lib/stash-process.mjs';

const { values: args } = parseArgs({
  options: {
    requests: { type: 'string', default: '300' },
    keys: { type: 'string', default: '10000' },
    folders: { type: 'string', default: '500' },
    pg: { type: 'string' },
  },
});
const REQUESTS = Number(args.requests);
const KEYS = Number(args.keys);
const FOLDERS = Number(args.folders);

/** One GET on a kept-alive connection; resolves with the wall time and the bytes on the wire. */
function timedGet(agent, url, headers = {}) {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const req = request(url, { agent, headers }, (res) => {
      let bytes = 0;
      res.on('data', (chunk) => (bytes += chunk.length));
      res.on('end', () => {
        if (res.statusCode !== 200) reject(new Error(`GET ${url}: ${res.statusCode}`));
        else resolve({ ms: performance.now() - started, bytes, encoding: res.headers['content-encoding'] ?? 'identity', headers: res.headers });
      });
    });
    req.on('error', reject);
    req.end();
  });
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const p90 = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length * 0.9)];

/** Sequential requests on one connection: loopback wall time, which is server time plus one local round trip. */
async function latency(url, headers, writeFirst) {
  const { Agent } = await import('node:http');
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  for (let i = 0; i < 20; i++) await timedGet(agent, url, headers); // warm-up
  const times = [];
  let bytes = 0;
  for (let i = 0; i < REQUESTS; i++) {
    // a write before the read (not timed) makes every read rebuild the list from the store
    if (writeFirst) await writeFirst(i);
    const r = await timedGet(agent, url, headers);
    times.push(r.ms);
    bytes = r.bytes;
  }
  agent.destroy();
  return { median: median(times), p90: p90(times), bytes };
}

async function seed(url) {
  const perFolder = Math.ceil(KEYS / FOLDERS);
  let batch = [];
  for (let i = 0; i < KEYS; i++) {
    const folder = String(i % FOLDERS).padStart(3, '0');
    const item = String(Math.floor(i / FOLDERS)).padStart(String(perFolder).length, '0');
    batch.push({ key: `svc/team-${folder}/config-${item}`, value: JSON.stringify({ n: i, enabled: i % 3 === 0 }), format: 'json' });
    if (batch.length === 200 || i === KEYS - 1) {
      const res = await fetch(`${url}/kv/`, { method: 'POST', body: JSON.stringify(batch) });
      if (!res.ok) throw new Error(`seed: ${res.status} ${await res.text()}`);
      batch = [];
    }
  }
}

/** Every asset the page links, compressed as a browser asks for them. */
async function pageWeight(url) {
  const { Agent } = await import('node:http');
  const agent = new Agent({ keepAlive: true });
  const accept = { 'accept-encoding': 'gzip, deflate, br' };
  const page = await timedGet(agent, `${url}/`, accept);
  const html = await (await fetch(`${url}/`)).text();
  const assets = [...html.matchAll(/(?:href|src)="(\/static\/[^"]+)"/g)].map((m) => m[1]);
  const rows = [{ what: '/ (page, first 50 rows)', bytes: page.bytes, encoding: page.encoding }];
  for (const path of assets) {
    const r = await timedGet(agent, `${url}${path}`, accept);
    rows.push({ what: path.replace(/\?v=.*/, ''), bytes: r.bytes, encoding: r.encoding, cache: r.headers['cache-control'] });
  }
  agent.destroy();
  return rows;
}

async function run(label, db, flags) {
  const stash = await startStash(db, flags);
  const bare = await startBare();
  try {
    const t0 = performance.now();
    await seed(stash.url);
    console.log(`${label}: seeded ${KEYS} keys in ${FOLDERS} folders in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    const cases = [
      ['bare node:http (one round trip)', `${bare.url}/`],
      ['GET /web/keys (first page of 50)', `${stash.url}/web/keys`],
      ['GET /web/keys?page=200 (last page)', `${stash.url}/web/keys?page=200`],
      ['GET /web/keys?search=team-042 (20 hits)', `${stash.url}/web/keys?search=team-042`],
      ['GET /web/keys?search=config-1 (many hits)', `${stash.url}/web/keys?search=config-1`],
      ['GET /web/keys?search=nothing (no hit)', `${stash.url}/web/keys?search=nothing`],
      ['GET / (whole page)', `${stash.url}/`],
      ['GET /web/keys, cookie sort_mode=key', `${stash.url}/web/keys`, { cookie: 'sort_mode=key' }],
      ['GET /web/keys after a write (caught up from the change log)', `${stash.url}/web/keys`, {}, 'one'],
      ['GET /web/keys?search=team-042 after a write', `${stash.url}/web/keys?search=team-042`, {}, 'one'],
      ['GET /web/keys after 1,200 writes (every key read again)', `${stash.url}/web/keys`, {}, 'many'],
    ];
    const out = [];
    const writes = {
      one: async (i) => {
        const res = await fetch(`${stash.url}/kv/svc/team-000/config-00`, { method: 'PUT', body: String(i) });
        if (!res.ok) throw new Error(`PUT: ${res.status}`);
      },
      // more revisions behind than the key index replays (1,000): the next read lists every key again
      many: async (i) => {
        // 60 batches of 20 distinct keys: 1,200 revisions
        const batch = Array.from({ length: 20 }, (_, j) => ({ key: `svc/team-001/config-${String(j).padStart(2, '0')}`, value: String(i) }));
        for (let k = 0; k < 60; k++) {
          const res = await fetch(`${stash.url}/kv/`, { method: 'POST', body: JSON.stringify(batch) });
          if (!res.ok) throw new Error(`batch: ${res.status}`);
        }
      },
    };
    for (const [name, url, headers, rebuild] of cases) {
      const r = await latency(url, headers ?? {}, rebuild ? writes[rebuild] : undefined);
      out.push(`| ${label} | ${name} | ${r.median.toFixed(2)} | ${r.p90.toFixed(2)} | ${(r.bytes / 1024).toFixed(1)} |`);
    }
    console.log('\n| engine | request | median ms | p90 ms | body KiB |\n|---|---|---:|---:|---:|');
    console.log(out.join('\n'));
    if (label === 'sqlite') {
      const weight = await pageWeight(stash.url);
      console.log('\n| what | bytes on the wire | encoding | cache-control |\n|---|---:|---|---|');
      for (const w of weight) console.log(`| ${w.what} | ${w.bytes.toLocaleString('en')} | ${w.encoding} | ${w.cache ?? 'no-store'} |`);
      const total = weight.reduce((n, w) => n + w.bytes, 0);
      console.log(`| **total** | **${total.toLocaleString('en')}** (${(total / 1024).toFixed(1)} KiB) | | |`);
    }
  } finally {
    bare.proc.kill();
    await stash.stop();
  }
}

const dir = mkdtempSync(join(tmpdir(), 'stash-web-bench-'));
try {
  console.log(`node ${process.version}, ${REQUESTS} sequential requests per case on one kept-alive connection`);
  await run('sqlite', join(dir, 'stash.db'), []);
  if (args.pg) await run('postgres', args.pg, []);
} finally {
  rmSync(dir, { recursive: true, force: true });
}

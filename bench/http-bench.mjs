#!/usr/bin/env node
// HTTP benchmark of the built stash server next to a bare node:http server, in one run.
// Usage: node bench/http-bench.mjs [--duration 10] [--connections 32] [--rounds 3] [--cases get,list,put] [--pg postgres://...]
//        [--engines sqlite,postgres,postgres+cache] [--startup no] [--out file.md]
// An engine named `<engine>+cache` runs the server with --cache.enabled.
// Build first (`npm run build`); see bench/README.md.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';
import { describePopulation, populate } from './lib/populate.mjs';
import { median as medianOf, waitSettled } from './lib/proc-stats.mjs';
import { startBare } from './lib/stash-process.mjs';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const BIN = join(ROOT, 'packages/server/bin/stash.js');
const VALUE = 'v'.repeat(100);

const { values: args } = parseArgs({
  options: {
    duration: { type: 'string', default: '10' },
    connections: { type: 'string', default: '32' },
    pg: { type: 'string' },
    out: { type: 'string' },
    cases: { type: 'string', default: 'get,get-rotate,list,list-rotate,list-writes,put' },
    rounds: { type: 'string', default: '3' },
    engines: { type: 'string', default: 'sqlite,postgres' },
    startup: { type: 'string', default: 'yes' },
  },
});
const CASES = new Set(args.cases.split(','));
const DURATION = Number(args.duration);
const WARMUP = 2;
const CONNECTIONS = Number(args.connections);
// each case alternates stash and bare this many times: this VM drifts by ±20% over a minute, so
// the medians of interleaved rounds compare like with like better than one long run each
const ROUNDS = Number(args.rounds);

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Resident set size of a process in MB (Linux /proc, else ps). */
async function rssMb(pid) {
  try {
    const kb = /VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
    if (kb) return Number(kb) / 1024;
  } catch {
    // not Linux
  }
  const ps = spawn('ps', ['-o', 'rss=', '-p', String(pid)]);
  let out = '';
  ps.stdout.on('data', (d) => (out += d));
  await new Promise((r) => ps.on('close', r));
  return Number(out.trim()) / 1024;
}

/** Spawn the built bin and time spawn -> first `pong`. */
async function startStash(db, port, extra = []) {
  const started = performance.now();
  const proc = spawn(
    process.execPath,
    [BIN, 'server', `--db=${db}`, `--server.address=127.0.0.1:${port}`, '--limits.requests-per-sec=0', '--limits.max-concurrent=0', ...extra],
    { stdio: ['ignore', 'ignore', 'inherit'] },
  );
  const url = `http://127.0.0.1:${port}`;
  for (;;) {
    if (proc.exitCode !== null) throw new Error(`stash server exited with ${proc.exitCode}`);
    if (performance.now() - started > 30_000) throw new Error('stash server did not answer /ping within 30 s');
    try {
      if ((await (await fetch(`${url}/ping`)).text()) === 'pong') break;
    } catch {
      await sleep(2);
    }
  }
  // the RSS at the first answer; start-up work may still be running (see main)
  return { proc, url, startupMs: performance.now() - started, rssMb: await rssMb(proc.pid) };
}

async function stop(proc) {
  if (proc.exitCode !== null) return;
  const exited = new Promise((r) => proc.once('exit', r));
  proc.kill('SIGTERM');
  await exited;
}

async function freePort() {
  const { createServer } = await import('node:net');
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

function checked(name, result) {
  const failed = result.errors + result.timeouts + result.non2xx;
  if (failed > 0) throw new Error(`${name}: ${failed} failed requests (${result.non2xx} non-2xx, ${result.errors} errors)`);
  return result;
}

/**
 * One autocannon run; throws when any request failed (warm-up included), since a fast error is
 * not a result. `writers` runs a second load against the same server for the whole run.
 */
async function load(name, opts, writers) {
  const run = async (duration) => {
    const background = writers ? autocannon({ url: opts.url, duration, ...writers }) : undefined;
    const result = checked(name, await autocannon({ connections: CONNECTIONS, duration, ...opts }));
    if (background) checked(`${name} (writers)`, await background);
    return result;
  };
  // 2 s warm-up first (JIT, caches, connection pools), then the measured run; both servers get the same
  await run(WARMUP);
  const result = await run(DURATION);
  return { rps: result.requests.average, p50: result.latency.p50, p99: result.latency.p99 };
}

/** The round with the median requests/s (its latencies come with it). */
function median(results) {
  const sorted = [...results].sort((a, b) => a.rps - b.rps);
  return sorted[Math.floor(sorted.length / 2)];
}

async function seed(url) {
  const put = await fetch(`${url}/kv/bench/one`, { method: 'PUT', body: VALUE });
  if (!put.ok) throw new Error(`seed PUT: ${put.status}`);
  // 10,000 keys in 100 groups of 100, so `tbl/0042/` lists exactly 100 keys
  for (let g = 0; g < 100; g++) {
    const items = Array.from({ length: 100 }, (_, i) => ({
      key: `tbl/${String(g).padStart(4, '0')}/${String(i).padStart(4, '0')}`,
      value: VALUE,
    }));
    const res = await fetch(`${url}/kv/`, { method: 'POST', body: JSON.stringify(items), headers: { 'content-type': 'application/json' } });
    if (!res.ok) throw new Error(`seed batch: ${res.status} ${await res.text()}`);
  }
  const list = await (await fetch(`${url}/kv/?prefix=tbl/0042/`)).json();
  if (list.length !== 100) throw new Error(`seed: prefix list returned ${list.length} keys, expected 100`);
}

const pad4 = (n) => String(n).padStart(4, '0');

/** The cases; `bare` gets the same method, body, paths and connection count. */
function cases(engine) {
  let n = 0;
  let g = 0;
  let k = 0;
  return [
    { id: 'get', name: 'GET one key', path: '/kv/bench/one', opts: {} },
    {
      id: 'get-rotate',
      name: 'GET, rotating over 10,000 keys',
      path: '/kv/tbl/0000/0000',
      opts: { requests: [{ setupRequest: (req) => ({ ...req, path: `/kv/tbl/${pad4(k % 100)}/${pad4(Math.floor(k++ / 100) % 100)}` }) }] },
    },
    { id: 'list', name: 'prefix list, 100 of 10,000 keys (one prefix: list cache)', path: '/kv/?prefix=tbl/0042/', opts: {} },
    {
      id: 'list-rotate',
      name: 'prefix list, 100 prefixes in rotation (uncached)',
      path: '/kv/?prefix=tbl/0000/',
      opts: { requests: [{ setupRequest: (req) => ({ ...req, path: `/kv/?prefix=tbl/${pad4(g++ % 100)}/` }) }] },
    },
    {
      id: 'list-writes',
      name: 'prefix list, one prefix under 4 concurrent writers',
      path: '/kv/?prefix=tbl/0042/',
      opts: {},
      // the writers update keys of the listed prefix all along, so the list is rebuilt as they land
      writers: { connections: 4, method: 'PUT', body: VALUE, requests: [{ setupRequest: (req) => ({ ...req, path: `/kv/tbl/0042/${pad4(n++ % 100)}` }) }] },
    },
    {
      id: 'put',
      name: engine === 'sqlite' ? 'durable PUT (--db.sync=full)' : 'durable PUT (committed)',
      path: '/kv/bench/put/0',
      opts: {
        method: 'PUT',
        body: VALUE,
        // 5,000 keys, rotating: creates first, then updates
        requests: [{ setupRequest: (req) => ({ ...req, path: `/kv/bench/put/${n++ % 5000}` }) }],
      },
    },
  ];
}

async function runEngine(label, db, bareUrl) {
  const port = await freePort();
  const server = await startStash(db, port, label.endsWith('+cache') ? ['--cache.enabled'] : []);
  const rows = [];
  try {
    await seed(server.url);
    for (const c of cases(label.replace('+cache', '')).filter((x) => CASES.has(x.id))) {
      const ours = [];
      const bare = [];
      // every engine alternates with bare rounds of its own: the machine drifts between runs
      for (let r = 0; r < ROUNDS; r++) {
        ours.push(await load(`${label} ${c.name}`, { url: server.url + c.path, ...c.opts }, c.writers));
        bare.push(await load(`bare ${c.name}`, { url: bareUrl + c.path, ...c.opts }, c.writers));
      }
      rows.push({ label, name: c.name, ours: median(ours), bare: median(bare), ratios: ours.map((o, i) => o.rps / bare[i].rps) });
    }
    return { rows, startupMs: server.startupMs, rssMb: server.rssMb, rssAfterMb: await rssMb(server.proc.pid) };
  } finally {
    await stop(server.proc);
  }
}

/** Fresh database on the given PostgreSQL server, dropped afterwards. */
async function withPgDatabase(url, work) {
  const require = createRequire(join(ROOT, 'packages/server/package.json'));
  const postgres = (await import(require.resolve('postgres'))).default;
  const admin = postgres(url, { max: 1, onnotice: () => {} });
  const name = `stash_bench_${Date.now()}`;
  await admin.unsafe(`CREATE DATABASE ${name}`);
  const target = new URL(url);
  target.pathname = `/${name}`;
  try {
    return await work(target.toString());
  } finally {
    await admin.unsafe(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await admin.end();
  }
}

const fmt = (n, d = 0) => n.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d });

async function main() {
  if (!existsSync(join(ROOT, 'packages/server/dist/cli/main.js'))) throw new Error('build first: npm run build');
  const loadBefore = loadavg().map((l) => l.toFixed(2)).join(' ');
  const dir = mkdtempSync(join(tmpdir(), 'stash-bench-'));
  const bare = await startBare();
  const runs = [];
  const startups = [];
  /**
   * Three starts of `stash server` on `dbFor(i)`: spawn -> first `pong`, the RSS at that pong, and
   * the RSS once start-up work is over (the change-log prune starts just before the server listens
   * and walks the whole log in chunks after it): RSS steady within 1 MB and CPU under 5% of a core
   * for 3 s, polled every 250 ms.
   * Each figure is the median of its own three values.
   */
  async function startups3(engine, database, dbFor) {
    const starts = [];
    for (let i = 0; i < 3; i++) {
      const s = await startStash(dbFor(i), await freePort());
      const settled = await waitSettled(s.proc.pid, { timeoutMs: 60_000 });
      starts.push({ startupMs: s.startupMs, pongMb: s.rssMb, settledMb: settled.rssMb, quietMs: settled.quietFromMs, settled: settled.settled });
      await stop(s.proc);
    }
    const med = (field) => medianOf(starts.map((x) => x[field]));
    return { engine, database, startupMs: med('startupMs'), pongMb: med('pongMb'), settledMb: med('settledMb'), quietMs: med('quietMs'), settled: starts.every((x) => x.settled) };
  }
  /** 10,000 keys written 20 times each by batches, then the three starts on that file (or database). */
  async function populatedStartups(engine, db) {
    const s = await startStash(db, await freePort());
    let population;
    try {
      population = await populate(s.url, { keys: 10_000, versions: 20 });
    } finally {
      await stop(s.proc);
    }
    return startups3(engine, describePopulation(population), () => db);
  }
  try {
    const engines = args.engines.split(',').filter((e) => args.pg || !e.startsWith('postgres'));
    if (args.startup !== 'no') {
      // cold starts on fresh files, then starts on a populated file
      startups.push(await startups3('sqlite', 'empty (fresh file each start)', (i) => join(dir, `start-${i}.db`)));
      startups.push(await populatedStartups('sqlite', join(dir, 'populated.db')));
      if (args.pg) {
        startups.push(await withPgDatabase(args.pg, (db) => startups3('postgres', 'empty (schema created by the first start)', () => db)));
        startups.push(await withPgDatabase(args.pg, (db) => populatedStartups('postgres', db)));
      }
    }
    for (const engine of engines) {
      runs.push(
        engine.startsWith('postgres')
          ? await withPgDatabase(args.pg, (db) => runEngine(engine, db, bare.url))
          : await runEngine(engine, join(dir, `bench-${engine}.db`), bare.url),
      );
    }
  } finally {
    await stop(bare.proc);
    rmSync(dir, { recursive: true, force: true });
  }

  const lines = [
    `Node ${process.version}, ${cpus().length} CPU (${cpus()[0]?.model.trim() ?? 'unknown'}), ${ROUNDS} rounds of ${DURATION} s per case (stash and bare alternating, medians shown), ${CONNECTIONS} connections, autocannon on the same machine, load average before the run ${loadBefore}.`,
    '',
    '| engine | case | stash req/s | p50 ms | p99 ms | bare node:http req/s | stash / bare | each round |',
    '|---|---|---:|---:|---:|---:|---:|---|',
    ...runs.flatMap((r) =>
      r.rows.map(
        (row) =>
          `| ${row.label} | ${row.name} | ${fmt(row.ours.rps)} | ${fmt(row.ours.p50, 1)} | ${fmt(row.ours.p99, 1)} | ${fmt(row.bare.rps)} | ${fmt((row.ours.rps / row.bare.rps) * 100, 1)} % | ${row.ratios.map((x) => `${fmt(x * 100, 0)}`).join(' / ')} % |`,
      ),
    ),
    '',
    'Start-up, medians of 3 starts each: RSS at the first `pong`, and once start-up work is over (RSS steady within 1 MB and CPU under 5% of a core for 3 s).',
    '',
    '| engine | database | startup to first /ping | RSS at first pong | RSS after start-up work | quiet from (after the pong) |',
    '|---|---|---:|---:|---:|---:|',
    ...startups.map(
      (s) =>
        `| ${s.engine} | ${s.database} | ${fmt(s.startupMs)} ms | ${fmt(s.pongMb, 1)} MB | ${fmt(s.settledMb, 1)} MB${s.settled ? '' : ' (NOT steady within 60 s)'} | ${Number.isFinite(s.quietMs) ? `${fmt(s.quietMs / 1000, 2)} s` : 'n/a'} |`,
    ),
    '',
    '| engine | RSS after the load |',
    '|---|---:|',
    ...runs.map((r) => `| ${r.rows[0]?.label} | ${fmt(r.rssAfterMb, 1)} MB |`),
  ];
  const report = `${lines.join('\n')}\n`;
  process.stdout.write(report);
  if (args.out) {
    mkdirSync(dirname(args.out), { recursive: true });
    writeFileSync(args.out, report);
  }
}

main().catch((error) => {
  console.error(error instanceof Error ? error.message : error);
  process.exitCode = 1;
});

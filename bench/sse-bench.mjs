#!/usr/bin/env node
// Change-stream benchmark of the built stash server: N concurrent subscribers (delivery latency,
// server memory per subscriber, memory after they leave) and PUT throughput with one stalled
// subscriber attached vs none.
// Usage: node bench/sse-bench.mjs [--subscribers 10000] [--events 20] [--puts 3000] [--concurrency 16] [--out file.md]
// Build first (`npm run build`); see bench/README.md ("Change streams").
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const BIN = join(ROOT, 'packages/server/bin/stash.js');

const { values: args } = parseArgs({
  options: {
    subscribers: { type: 'string', default: '10000' },
    events: { type: 'string', default: '20' },
    puts: { type: 'string', default: '3000' },
    concurrency: { type: 'string', default: '16' },
    out: { type: 'string' },
  },
});
const SUBSCRIBERS = Number(args.subscribers);
const EVENTS = Number(args.events);
const PUTS = Number(args.puts);
const CONCURRENCY = Number(args.concurrency);

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const freePort = () =>
  new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });

/** Resident set size of a process in MB (Linux /proc). */
function rssMb(pid) {
  const kb = /VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
  return Number(kb ?? 0) / 1024;
}

/** One value from the server's /metrics (prom-client text format). */
async function metric(url, name) {
  const text = await (await fetch(`${url}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${name} `) || l.startsWith(`${name}{`));
  return line ? Number(line.split(' ').at(-1)) : NaN;
}

function percentile(sorted, p) {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

async function startServer() {
  const dir = mkdtempSync(join(tmpdir(), 'stash-sse-bench-'));
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const proc = spawn(
    process.execPath,
    [BIN, 'server', `--db=${join(dir, 'stash.db')}`, `--server.address=127.0.0.1:${port}`,
      '--limits.requests-per-sec=0', '--limits.max-concurrent=0', '--sse.heartbeat=15s'],
    { stdio: ['ignore', 'ignore', 'inherit'] },
  );
  for (let i = 0; i < 200; i++) {
    try {
      if ((await (await fetch(`${url}/ping`)).text()) === 'pong') break;
    } catch {
      // not up yet
    }
    await sleep(50);
  }
  return {
    url,
    port,
    pid: proc.pid,
    stop: async () => {
      proc.kill('SIGTERM');
      await new Promise((r) => proc.once('exit', r));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * A subscriber on a raw socket (much lighter than fetch at 10,000 connections): it calls
 * `onKey(key, at)` for every `change` event it reads. `stalled` ones never read at all.
 */
function subscribe(port, path, onKey, { stalled = false } = {}) {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => {
      socket.write(`GET ${path} HTTP/1.1\r\nHost: bench\r\n\r\n`);
      if (stalled) {
        socket.pause();
        resolve(socket);
      }
    });
    socket.once('error', reject);
    if (stalled) return;
    let buf = '';
    let headers = false;
    socket.setEncoding('latin1');
    socket.on('data', (data) => {
      buf += data;
      if (!headers) {
        const end = buf.indexOf('\r\n\r\n');
        if (end === -1) return;
        if (!buf.startsWith('HTTP/1.1 200')) return reject(new Error(buf.slice(0, 40)));
        headers = true;
        buf = buf.slice(end + 4);
        resolve(socket);
      }
      const done = buf.lastIndexOf('\n\n');
      if (done === -1) return;
      const at = performance.now();
      for (const m of buf.slice(0, done).matchAll(/"key":"([^"]*)"/g)) onKey(m[1], at);
      buf = buf.slice(done + 2);
    });
  });
}

async function fanOut(server) {
  const sent = new Map();
  const latencies = [];
  let received = 0;
  const onKey = (key, at) => {
    const t = sent.get(key);
    if (t === undefined) return;
    latencies.push(at - t);
    received++;
  };
  const heap = () => metric(server.url, 'stash_nodejs_heap_size_used_bytes').then((b) => b / 1024 / 1024);
  const rss0 = rssMb(server.pid);
  const heap0 = await heap();
  const started = performance.now();
  const sockets = [];
  for (let i = 0; i < SUBSCRIBERS; i += 500) {
    const batch = Math.min(500, SUBSCRIBERS - i);
    sockets.push(...(await Promise.all(Array.from({ length: batch }, () => subscribe(server.port, '/kv/subscribe/fan/*', onKey)))));
  }
  const connectMs = performance.now() - started;
  await sleep(1000);
  const rss1 = rssMb(server.pid);
  const heap1 = await heap();
  const reported = await metric(server.url, 'stash_sse_subscribers');

  for (let e = 0; e < EVENTS; e++) {
    const key = `fan/${e}`;
    const target = received + SUBSCRIBERS;
    sent.set(key, performance.now());
    const res = await fetch(`${server.url}/kv/${key}`, { method: 'PUT', body: 'v' });
    await res.arrayBuffer();
    for (let w = 0; w < 200 && received < target; w++) await sleep(50);
    await sleep(100);
  }
  for (const s of sockets) s.destroy();
  for (let w = 0; w < 100 && (await metric(server.url, 'stash_sse_subscribers')) > 0; w++) await sleep(100);
  await sleep(2000);
  const rss2 = rssMb(server.pid);
  const heap2 = await heap();
  latencies.sort((a, b) => a - b);
  return {
    connectMs,
    reported,
    received,
    expected: SUBSCRIBERS * EVENTS,
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
    max: latencies.at(-1) ?? NaN,
    rssBefore: rss0,
    rssWith: rss1,
    rssAfter: rss2,
    heap: [heap0, heap1, heap2],
    kbPerSubscriber: ((rss1 - rss0) * 1024) / SUBSCRIBERS,
    left: await metric(server.url, 'stash_sse_subscribers'),
  };
}

/** PUTs per second: `PUTS` writes of 100 bytes by `CONCURRENCY` keep-alive writers. */
async function putThroughput(server, tag) {
  let next = 0;
  const body = 'v'.repeat(100);
  const started = performance.now();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < PUTS) {
        const i = next++;
        const res = await fetch(`${server.url}/kv/tp/${tag}/${i % 1000}`, { method: 'PUT', body });
        await res.arrayBuffer();
        if (res.status >= 300) throw new Error(`PUT answered ${res.status}`);
      }
    }),
  );
  return PUTS / ((performance.now() - started) / 1000);
}

async function main() {
  const server = await startServer();
  const lines = [];
  try {
    const fan = await fanOut(server);
    await putThroughput(server, 'warm');
    const none = await putThroughput(server, 'none');
    const stalledSocket = await subscribe(server.port, '/kv/subscribe/*', () => undefined, { stalled: true });
    await sleep(200);
    const withStalled = await putThroughput(server, 'stalled');
    const dropped = await metric(server.url, 'stash_sse_subscribers_dropped_total');
    stalledSocket.destroy();

    const f = (n, d = 1) => (Number.isFinite(n) ? n.toFixed(d) : 'n/a');
    lines.push(
      `Node ${process.version}, ${cpus().length} CPU (${cpus()[0]?.model.trim() ?? '?'}), load average before the run ${loadavg().map((l) => l.toFixed(2)).join(' ')}; load generator on the same machine.`,
      '',
      '| measure | value |',
      '|---|---|',
      `| subscribers (raw sockets, prefix subscription) | ${SUBSCRIBERS} (server reported ${fan.reported}) |`,
      `| time to connect all | ${f(fan.connectMs / 1000, 2)} s |`,
      `| events delivered / expected | ${fan.received} / ${fan.expected} |`,
      `| delivery latency p50 / p99 / max (PUT sent -> event read) | ${f(fan.p50)} / ${f(fan.p99)} / ${f(fan.max)} ms |`,
      `| server RSS before / with subscribers / after they left | ${f(fan.rssBefore)} / ${f(fan.rssWith)} / ${f(fan.rssAfter)} MB |`,
      `| server JS heap before / with subscribers / after they left | ${fan.heap.map((h) => f(h)).join(' / ')} MB |`,
      `| server memory per subscriber (RSS delta) | ${f(fan.kbPerSubscriber)} KB |`,
      `| subscribers left after disconnect | ${fan.left} |`,
      `| PUT throughput, no subscriber (${PUTS} PUTs, ${CONCURRENCY} writers) | ${f(none, 0)} /s |`,
      `| PUT throughput, one stalled subscriber | ${f(withStalled, 0)} /s (${f(withStalled / none, 2)}x; stalled subscribers cut: ${dropped}) |`,
    );
  } finally {
    await server.stop();
  }
  const table = lines.join('\n');
  console.log(table);
  if (args.out) writeFileSync(args.out, `${table}\n`);
}

main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});

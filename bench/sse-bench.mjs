#!/usr/bin/env node
// Change-stream benchmark of the built stash server, on a populated database:
//  1. fan-out: N concurrent subscribers (delivery latency; server memory per subscriber while
//     events flow to all of them; memory after they leave);
//  2. stalled subscribers: PUT throughput and latency of autocannon writers in rounds without
//     and with `--stalled` subscribers that never read, alternating; the stalled ones have small
//     TCP buffers, so the server's own bound (--sse.buffer) has to cut them.
// Usage: node bench/sse-bench.mjs [--subscribers 10000] [--events 20] [--stalled 100] [--duration 10] [--rounds 3] [--out file.md]
// Build first (`npm run build`); see bench/README.md ("Change streams") for every option.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';
import { populate, describePopulation } from './lib/populate.mjs';
import { cpuSeconds, median, rssMb, sampleEvery, waitSettled } from './lib/proc-stats.mjs';
import { sleep, startStash } from './lib/stash-process.mjs';

const { values: args } = parseArgs({
  options: {
    subscribers: { type: 'string', default: '10000' },
    events: { type: 'string', default: '20' },
    keys: { type: 'string', default: '10000' },
    versions: { type: 'string', default: '20' },
    stalled: { type: 'string', default: '100' },
    readers: { type: 'string', default: '0' },
    'stall-mode': { type: 'string', default: 'steady' },
    'stall-client': { type: 'string', default: 'python' },
    'stall-rcvbuf': { type: 'string', default: '4096' },
    'stall-mss': { type: 'string', default: '1448' },
    'sse-buffer': { type: 'string' },
    duration: { type: 'string', default: '10' },
    rounds: { type: 'string', default: '3' },
    connections: { type: 'string', default: '16' },
    'put-keys': { type: 'string', default: '1000' },
    out: { type: 'string' },
  },
});
const SUBSCRIBERS = Number(args.subscribers);
const EVENTS = Number(args.events);
const KEYS = Number(args.keys);
const VERSIONS = Number(args.versions);
const STALLED = Number(args.stalled);
// optional third kind of round: as many subscribers that read everything (a reference that
// separates what fan-out costs from what stalling costs)
const READERS = Number(args.readers);
const STALL_MODE = args['stall-mode'];
const STALL_RCVBUF = Number(args['stall-rcvbuf']);
const STALL_MSS = Number(args['stall-mss']);
const DURATION = Number(args.duration);
const ROUNDS = Number(args.rounds);
const CONNECTIONS = Number(args.connections);
const PUT_KEYS = Number(args['put-keys']);
const WARMUP = 2;
const VALUE = 'v'.repeat(100);
const STALL_PATH = '/kv/subscribe/tp/*';
// how often a round reads the server's subscriber gauge (and, in steady mode, replaces cut ones)
const TICK_MS = 100;
if (!['steady', 'once'].includes(STALL_MODE)) throw new Error('--stall-mode is steady or once');

/** Every sample of the server's /metrics in one fetch (prom-client text format, unlabelled lines). */
async function metrics(url) {
  const res = await fetch(`${url}/metrics`);
  if (!res.ok) throw new Error(`/metrics: ${res.status}`);
  const values = {};
  for (const line of (await res.text()).split('\n')) {
    if (line.startsWith('#') || line === '') continue;
    const [name, value] = line.split(' ');
    values[name] = Number(value);
  }
  return values;
}
const gauge = async (url) => (await metrics(url)).stash_sse_subscribers;
const heapMb = async (url) => (await metrics(url)).stash_nodejs_heap_size_used_bytes / 1024 / 1024;

function percentile(sorted, p) {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

async function until(what, test, timeoutMs = 15_000) {
  const started = performance.now();
  while (!(await test())) {
    if (performance.now() - started > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

/**
 * A subscriber on a raw socket (much lighter than fetch at 10,000 connections): it calls
 * `onKey(key, at)` for every `change` event it reads.
 */
function subscribe(port, path, onKey) {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => socket.write(`GET ${path} HTTP/1.1\r\nHost: bench\r\n\r\n`));
    socket.once('error', reject);
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

async function fanOut(server, baseline) {
  const sent = new Map();
  const latencies = [];
  let received = 0;
  const onKey = (key, at) => {
    const t = sent.get(key);
    if (t === undefined) return;
    latencies.push(at - t);
    received++;
  };
  const started = performance.now();
  const sockets = [];
  for (let i = 0; i < SUBSCRIBERS; i += 500) {
    const batch = Math.min(500, SUBSCRIBERS - i);
    sockets.push(...(await Promise.all(Array.from({ length: batch }, () => subscribe(server.port, '/kv/subscribe/fan/*', onKey)))));
  }
  const connectMs = performance.now() - started;
  await sleep(1000);
  // what the old version of this bench reported: connected, before the first event
  const rssIdle = rssMb(server.proc.pid);
  const heapIdle = await heapMb(server.url);
  const reported = await gauge(server.url);

  // while events flow: the server formats each event once and writes it to every socket
  const rss = sampleEvery(100, () => rssMb(server.proc.pid));
  for (let e = 0; e < EVENTS; e++) {
    const key = `fan/${e}`;
    const target = received + SUBSCRIBERS;
    sent.set(key, performance.now());
    const res = await fetch(`${server.url}/kv/${key}`, { method: 'PUT', body: 'v' });
    await res.arrayBuffer();
    if (!res.ok) throw new Error(`fan-out PUT ${key}: ${res.status}`);
    for (let w = 0; w < 200 && received < target; w++) await sleep(50);
    await sleep(100);
  }
  const heapFlow = await heapMb(server.url);
  const during = rss.stop();
  for (const s of sockets) s.destroy();
  await until('the subscribers to leave', async () => (await gauge(server.url)) === 0, 10_000).catch(() => undefined);
  await sleep(2000);
  const rssAfter = rssMb(server.proc.pid);
  const heapAfter = await heapMb(server.url);
  latencies.sort((a, b) => a - b);
  const peak = Math.max(...during);
  return {
    connectMs,
    reported,
    received,
    expected: SUBSCRIBERS * EVENTS,
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
    max: latencies.at(-1) ?? NaN,
    rss: { baseline: baseline.rss, idle: rssIdle, flowMedian: median(during), flowPeak: peak, after: rssAfter },
    heap: { baseline: baseline.heap, idle: heapIdle, flow: heapFlow, after: heapAfter },
    kbIdle: ((rssIdle - baseline.rss) * 1024) / SUBSCRIBERS,
    kbFlowMedian: ((median(during) - baseline.rss) * 1024) / SUBSCRIBERS,
    kbFlowPeak: ((peak - baseline.rss) * 1024) / SUBSCRIBERS,
    left: await gauge(server.url),
  };
}

// A stalled subscriber sends its request and never reads. In python3 (the default) its socket gets
// a small receive buffer (SO_RCVBUF) and an Ethernet-sized MSS (TCP_MAXSEG) before connecting:
// on loopback the MSS is 64 KiB, for which Linux sizes the server's send buffer at about 4 MB,
// room for some 24,000 events before the server's own queue (--sse.buffer) sees one. Node cannot
// set either option; `--stall-client node` uses plain paused Node sockets instead.
const PY_STALLER = String.raw`
import socket, sys
port, path, rcv, mss = int(sys.argv[1]), sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
req = ('GET %s HTTP/1.1\r\nHost: bench\r\n\r\n' % path).encode()
socks = []
for line in sys.stdin:
    cmd = line.split()
    if cmd[0] == 'open':
        for _ in range(int(cmd[1])):
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            if rcv > 0: s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcv)
            if mss > 0: s.setsockopt(socket.IPPROTO_TCP, socket.TCP_MAXSEG, mss)
            s.connect(('127.0.0.1', port))
            s.sendall(req)
            socks.append(s)
        info = ''
        if socks:
            s = socks[-1]
            info = ' rcvbuf=%d mss=%d' % (s.getsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF), s.getsockopt(socket.IPPROTO_TCP, socket.TCP_MAXSEG))
        print('ok %d%s' % (len(socks), info), flush=True)
    elif cmd[0] == 'keep':
        n = int(cmd[1])
        old = socks[:len(socks) - n] if n < len(socks) else []
        socks = socks[len(old):]
        for s in old: s.close()
        print('ok %d' % len(socks), flush=True)
`;

/** "1 stalled subscriber", "100 stalled subscribers" */
const subscribers = (n, kind) => `${n} ${kind} subscriber${n === 1 ? '' : 's'}`;

/** The stalled subscribers' client: `open(n)` more, `keep(n)` closes all but the newest n. */
function startStaller(port) {
  if (args['stall-client'] === 'node') {
    let socks = [];
    return {
      describe: 'Node sockets, paused (default kernel buffers)',
      open: async (n) => {
        const opened = await Promise.all(
          Array.from({ length: n }, () => new Promise((resolve, reject) => {
            const s = connect(port, '127.0.0.1', () => {
              s.write(`GET ${STALL_PATH} HTTP/1.1\r\nHost: bench\r\n\r\n`);
              s.pause();
              resolve(s);
            });
            s.once('error', reject);
          })),
        );
        for (const s of opened) s.on('error', () => undefined);
        socks.push(...opened);
      },
      keep: async (n) => {
        const old = socks.slice(0, Math.max(0, socks.length - n));
        socks = socks.slice(old.length);
        for (const s of old) s.destroy();
      },
      close: async () => {
        for (const s of socks) s.destroy();
        socks = [];
      },
    };
  }
  if (spawnSync('python3', ['-c', 'import socket']).status !== 0) throw new Error('python3 not found: install it, or pass --stall-client node');
  const proc = spawn('python3', ['-c', PY_STALLER, String(port), STALL_PATH, String(STALL_RCVBUF), String(STALL_MSS)], { stdio: ['pipe', 'pipe', 'inherit'] });
  const replies = createInterface({ input: proc.stdout })[Symbol.asyncIterator]();
  let info = '';
  const command = async (line) => {
    proc.stdin.write(`${line}\n`);
    const { value, done } = await replies.next();
    if (done || !value.startsWith('ok')) throw new Error(`stalled-subscriber helper: ${value ?? 'exited'}`);
    if (value.includes('rcvbuf=')) info = value.slice(value.indexOf('rcvbuf='));
    return value;
  };
  return {
    get describe() {
      return `python3 raw sockets, SO_RCVBUF ${STALL_RCVBUF}, TCP_MAXSEG ${STALL_MSS} (kernel reports ${info.replace('=', ' ').replace(' mss=', ', MSS ')})`;
    },
    open: (n) => command(`open ${n}`),
    keep: (n) => command(`keep ${n}`),
    close: async () => {
      await command('keep 0');
      proc.stdin.end();
      await new Promise((r) => (proc.exitCode !== null ? r() : proc.once('exit', r)));
    },
  };
}

function checked(name, result) {
  const failed = result.errors + result.timeouts + result.non2xx;
  if (failed > 0) throw new Error(`${name}: ${failed} failed requests (${result.non2xx} non-2xx, ${result.errors} errors, ${result.timeouts} timeouts)`);
  return result;
}

/** autocannon PUT writers over `PUT_KEYS` rotating keys under tp/ (what the stalled ones subscribe to). */
function writers(server, duration) {
  let n = 0;
  return autocannon({
    url: `${server.url}/kv/tp/0`,
    method: 'PUT',
    body: VALUE,
    connections: CONNECTIONS,
    duration,
    requests: [{ setupRequest: (req) => ({ ...req, path: `/kv/tp/${n++ % PUT_KEYS}` }) }],
  });
}

/** `n` subscribers on the stalled ones' path that read and discard everything (no parsing: cheap for the bench process). */
function openReaders(port, n) {
  const one = () =>
    new Promise((resolve, reject) => {
      const socket = connect(port, '127.0.0.1', () => {
        socket.write(`GET ${STALL_PATH} HTTP/1.1\r\nHost: bench\r\n\r\n`);
        resolve(socket);
      });
      socket.once('error', reject);
      socket.on('data', () => undefined);
    });
  return Promise.all(Array.from({ length: n }, one));
}

/**
 * One round of `kind` none, stalled or readers: a checked warm-up, then (for a stalled round)
 * `STALLED` stalled subscribers or (readers) `READERS` reading ones, then the measured writers. In `steady` mode the subscribers the server cut are replaced every `TICK_MS`
 * (its gauge tells how many are left), so up to `STALLED` are attached all along; in `once` mode
 * they are attached at the start only. The gauge is read in both kinds of round, so both pay for
 * the scrapes.
 */
async function round(server, staller, kind) {
  const stalled = kind === 'stalled';
  checked('PUT warm-up', await writers(server, WARMUP));
  if (stalled) {
    await staller.open(STALLED);
    await until(`${STALLED} stalled subscribers`, async () => (await gauge(server.url)) >= STALLED);
  }
  const readers = kind === 'readers' ? await openReaders(server.port, READERS) : [];
  if (readers.length > 0) await until(`${READERS} readers`, async () => (await gauge(server.url)) >= READERS);
  const before = await metrics(server.url);
  const cpuBefore = cpuSeconds(server.proc.pid);
  const attached = [];
  let opened = stalled ? STALLED : 0;
  let lastOpened = 0;
  let running = true;
  const sampler = (async () => {
    while (running) {
      await sleep(TICK_MS);
      const now = await gauge(server.url);
      attached.push(now);
      if (stalled && STALL_MODE === 'steady' && running && now < STALLED) {
        // the oldest stalled sockets were cut first (they all get the same events): close those
        // on our side too, keeping the newest (and the last batch, which may not be counted yet)
        await staller.keep(now + lastOpened);
        lastOpened = STALLED - now;
        await staller.open(lastOpened);
        opened += lastOpened;
      } else {
        lastOpened = 0;
      }
    }
  })();
  const rss = sampleEvery(250, () => rssMb(server.proc.pid));
  const result = await writers(server, DURATION);
  running = false;
  await sampler;
  const rssSamples = rss.stop();
  const cpu = cpuSeconds(server.proc.pid) - cpuBefore;
  const after = await metrics(server.url);
  checked('PUT', result);
  if (stalled) await staller.keep(0);
  for (const socket of readers) socket.destroy();
  await until('the subscribers to go', async () => (await gauge(server.url)) === 0);
  return {
    rps: result.requests.average,
    p50: result.latency.p50,
    p99: result.latency.p99,
    puts: result.requests.total,
    cpuUsPerPut: (cpu * 1e6) / result.requests.total,
    cut: after.stash_sse_subscribers_dropped_total - before.stash_sse_subscribers_dropped_total,
    eventsSent: after.stash_sse_events_sent_total - before.stash_sse_events_sent_total,
    attachedMean: attached.reduce((a, b) => a + b, 0) / Math.max(1, attached.length),
    opened,
    rssPeak: Math.max(...rssSamples),
    rssEnd: rssSamples.at(-1),
  };
}

async function main() {
  const loadBefore = loadavg().map((l) => l.toFixed(2)).join(' ');
  const dir = mkdtempSync(join(tmpdir(), 'stash-sse-bench-'));
  const db = join(dir, 'stash.db');
  const flags = ['--sse.heartbeat=15s', ...(args['sse-buffer'] ? [`--sse.buffer=${args['sse-buffer']}`] : [])];
  const lines = [];
  let server;
  let staller;
  try {
    let population = { keys: 0, entries: 0 };
    if (KEYS > 0) {
      const seeding = await startStash(db, flags);
      population = await populate(seeding.url, { keys: KEYS, versions: VERSIONS });
      await seeding.stop();
    }
    // a server started on the populated file, measured once its start-up work (the change-log
    // prune walks the whole log) is over: RSS steady and CPU idle for 3 s
    server = await startStash(db, flags);
    const settled = await waitSettled(server.proc.pid);
    if (!settled.settled) console.error(`warning: server RSS not steady after ${(settled.afterMs / 1000).toFixed(0)} s`);
    const baseline = { rss: rssMb(server.proc.pid), heap: await heapMb(server.url) };

    const fan = SUBSCRIBERS > 0 ? await fanOut(server, baseline) : undefined;

    staller = STALLED > 0 ? startStaller(server.port) : undefined;
    const none = [];
    const withStalled = [];
    const withReaders = [];
    for (let r = 0; r < ROUNDS; r++) {
      none.push(await round(server, staller, 'none'));
      if (staller) withStalled.push(await round(server, staller, 'stalled'));
      if (READERS > 0) withReaders.push(await round(server, staller, 'readers'));
    }

    const f = (n, d = 1) => (Number.isFinite(n) ? n.toFixed(d) : 'n/a');
    const med = (rows, field) => median(rows.map((x) => x[field]));
    const each = (rows, field, d = 0) => rows.map((x) => f(x[field], d)).join(' / ');
    lines.push(
      `Node ${process.version}, ${cpus().length} CPU (${cpus()[0]?.model.trim() ?? '?'}), load average before the run ${loadBefore}; load generator on the same machine.`,
      `Database: ${KEYS > 0 ? describePopulation(population) : 'empty'}; server RSS ${f(baseline.rss)} MB once start-up work was over (${settled.settled ? `RSS steady and CPU idle for 3 s from ${f(settled.quietFromMs / 1000, 2)} s after the first pong` : `NOT steady within ${f(settled.afterMs / 1000, 0)} s`}); --sse.buffer ${args['sse-buffer'] ?? '1024 (default)'}.`,
    );
    if (fan) {
      lines.push(
        '',
        '| fan-out | value |',
        '|---|---|',
        `| subscribers (raw sockets, prefix subscription) | ${SUBSCRIBERS} (server reported ${fan.reported}) |`,
        `| time to connect all | ${f(fan.connectMs / 1000, 2)} s |`,
        `| events delivered / expected | ${fan.received} / ${fan.expected} |`,
        `| delivery latency p50 / p99 / max (PUT sent -> event read) | ${f(fan.p50)} / ${f(fan.p99)} / ${f(fan.max)} ms |`,
        `| server RSS before / connected, idle / during fan-out, median and peak / after they left | ${f(fan.rss.baseline)} / ${f(fan.rss.idle)} / ${f(fan.rss.flowMedian)}, ${f(fan.rss.flowPeak)} / ${f(fan.rss.after)} MB |`,
        `| server JS heap before / connected, idle / after the events / after they left | ${f(fan.heap.baseline)} / ${f(fan.heap.idle)} / ${f(fan.heap.flow)} / ${f(fan.heap.after)} MB |`,
        `| **server memory per subscriber during fan-out (peak RSS - RSS before) / N** | **${f(fan.kbFlowPeak)} KB** (median sample ${f(fan.kbFlowMedian)} KB) |`,
        `| server memory per subscriber, connected and idle (the old figure) | ${f(fan.kbIdle)} KB |`,
        `| subscribers left after disconnect | ${fan.left} |`,
      );
    }
    if (staller) {
      const ratio = med(withStalled, 'rps') / med(none, 'rps');
      const cutTotal = withStalled.reduce((sum, x) => sum + x.cut, 0);
      const kinds = [
        ['no stalled subscriber', none],
        [subscribers(STALLED, 'stalled'), withStalled],
        ...(READERS > 0 ? [[`${subscribers(READERS, 'reading')} (reference)`, withReaders]] : []),
      ];
      const row = (name, cell) => `| ${name} | ${kinds.map(([, rows]) => cell(rows)).join(' | ')} |`;
      lines.push(
        '',
        `Stalled subscribers: ${staller.describe}, on ${STALL_PATH}, mode ${STALL_MODE}${STALL_MODE === 'steady' ? ` (the ones cut are replaced every ${TICK_MS} ms)` : ' (attached at the start of the run only)'}. Writers: autocannon, ${CONNECTIONS} connections, PUT of 100 bytes over ${PUT_KEYS} rotating keys, ${ROUNDS} rounds of ${DURATION} s per kind after a ${WARMUP} s warm-up each, kinds alternating.`,
        '',
        `| PUT writers | ${kinds.map(([name]) => name).join(' | ')} |`,
        `|---|${kinds.map(() => '---:').join('|')}|`,
        row(`req/s (median of ${ROUNDS})`, (rows) => f(med(rows, 'rps'), 0)),
        row('req/s, each round', (rows) => each(rows, 'rps')),
        row('p50 / p99 ms (medians)', (rows) => `${f(med(rows, 'p50'))} / ${f(med(rows, 'p99'))}`),
        row('p99 ms, each round', (rows) => each(rows, 'p99')),
        row('server CPU per PUT (median)', (rows) => `${f(med(rows, 'cpuUsPerPut'))} µs`),
        row(`subscribers attached (server gauge every ${TICK_MS} ms: mean), each round`, (rows) => each(rows, 'attachedMean')),
        row('stalled subscribers opened, each round', (rows) => each(rows, 'opened')),
        row('subscribers cut by the server (stash_sse_subscribers_dropped_total), each round', (rows) => each(rows, 'cut')),
        row('events written to subscribers (stash_sse_events_sent_total), each round', (rows) => each(rows, 'eventsSent')),
        row('events written per event committed (median)', (rows) => f(median(rows.map((x) => x.eventsSent / x.puts)))),
        row('server RSS peak during the run: median / each round', (rows) => `${f(med(rows, 'rssPeak'))} / ${each(rows, 'rssPeak')} MB`),
        '',
        `PUT throughput with ${subscribers(STALLED, 'stalled')}: ${f(ratio, 2)}x of without (each round: ${withStalled.map((x, i) => f(x.rps / none[i].rps, 2)).join(' / ')}; goal >= 0.9x: ${ratio >= 0.9 ? 'met' : 'NOT met'}).` +
          (cutTotal === 0
            ? " No subscriber was cut: the server's bound never acted, so this says nothing about it (longer runs or more writers)."
            : ` The server cut ${cutTotal} stalled subscribers, after ${f(median(withStalled.map((x) => x.eventsSent / Math.max(1, x.cut))), 0)} events written to each (median of rounds; then ${args['sse-buffer'] ?? 1024} more queued).`),
      );
      if (READERS > 0) {
        lines.push(`With ${subscribers(READERS, 'reading')} instead: ${f(med(withReaders, 'rps') / med(none, 'rps'), 2)}x of without.`);
      }
    }
  } finally {
    await staller?.close().catch(() => undefined);
    await server?.stop();
    rmSync(dir, { recursive: true, force: true });
  }
  const table = lines.join('\n');
  console.log(table);
  if (args.out) writeFileSync(args.out, `${table}\n`);
}

main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});

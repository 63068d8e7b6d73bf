#!/usr/bin/env node
// Live web UI benchmark: N open pages follow one server as the page's browser module does (one
// change stream each, from the revision the page was rendered at; the key list re-read when
// changes settle: 150 ms after the last one, at most 600 ms after the first), while writers
// create keys at a fixed rate. Reported: how long from a write's acknowledgement until every page
// shows it (p50/p99/max), and the server's CPU per change delivered to a page.
// Usage: node bench/web-live-bench.mjs [--pages 200] [--rate 200] [--duration 10] [--keys 1000]
// Build first (`npm run build`); see bench/README.md ("Web UI, live").
import { Agent, request } from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { cpuSeconds } from './lib/proc-stats.mjs';
import { startStash } from './lib/stash-process.mjs';

const { values: args } = parseArgs({
  options: {
    pages: { type: 'string', default: '200' },
    rate: { type: 'string', default: '200' },
    duration: { type: 'string', default: '10' },
    keys: { type: 'string', default: '1000' },
  },
});
const PAGES = Number(args.pages);
const RATE = Number(args.rate);
const DURATION = Number(args.duration);
const SETTLE_MS = 150;
const MAX_WAIT_MS = 600;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const agent = new Agent({ keepAlive: true, maxSockets: 64 });

function get(url) {
  return new Promise((resolve, reject) => {
    request(url, { agent }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (d) => (body += d)).on('end', () => (res.statusCode === 200 ? resolve(body) : reject(new Error(`${url}: ${res.statusCode}`))));
    }).on('error', reject).end();
  });
}

/** One page: its stream, its coalesced list refreshes, and when each written key first showed in its list. */
function openPage(base, since, seenAt) {
  let timer;
  let first = 0;
  let stopped = false;
  const self = {};
  let pending = [];
  // a refresh that starts after the page heard of a change reads a list that holds it (the server
  // reads the revision first): the change is visible when that refresh's answer is in
  const refresh = async () => {
    const heard = pending;
    pending = [];
    const html = await get(`${base}/web/keys`);
    if (!html.includes('key-count')) throw new Error('not the key list');
    const now = performance.now();
    for (const n of heard) seenAt.get(n)?.pages.set(self, now);
  };
  const schedule = () => {
    const now = performance.now();
    if (timer === undefined) first = now;
    clearTimeout(timer);
    timer = setTimeout(() => {
      timer = undefined;
      if (!stopped) refresh().catch((e) => console.error(String(e)));
    }, Math.max(0, Math.min(SETTLE_MS, first + MAX_WAIT_MS - now)));
  };
  const controller = new AbortController();
  const ready = fetch(`${base}/kv/subscribe/*?since=${since}`, { signal: controller.signal }).then(async (res) => {
    const reader = res.body.getReader();
    const decoder = new TextDecoder();
    let buf = '';
    (async () => {
      for (;;) {
        const { value, done } = await reader.read().catch(() => ({ done: true }));
        if (done) return;
        buf += decoder.decode(value);
        let end;
        while ((end = buf.indexOf('\n\n')) !== -1) {
          const event = buf.slice(0, end);
          const key = /"key":"live\/(\d+)"/.exec(event);
          if (key) pending.push(Number(key[1]));
          if (event.includes('event: change')) schedule();
          buf = buf.slice(end + 2);
        }
      }
    })();
  });
  return { self, ready, stop: () => { stopped = true; clearTimeout(timer); controller.abort(); } };
}

const dir = mkdtempSync(join(tmpdir(), 'stash-live-bench-'));
const loadBefore = loadavg().map((l) => l.toFixed(2)).join(' ');
const server = await startStash(join(dir, 'stash.db'));
try {
  const base = server.url;
  for (let b = 0; b < Number(args.keys) / 100; b++) {
    const items = Array.from({ length: 100 }, (_, i) => ({ key: `seed/${b}/${i}`, value: 'v' }));
    await fetch(`${base}/kv/`, { method: 'POST', body: JSON.stringify(items) });
  }
  const since = Number((await fetch(`${base}/kv/seed/0/0`)).headers.get('x-stash-revision'));
  const seenAt = new Map(); // write number -> { acked, pages: Map(page -> seen) }
  const pages = Array.from({ length: PAGES }, () => openPage(base, since, seenAt));
  await Promise.all(pages.map((p) => p.ready));
  await sleep(500);
  const cpu0 = cpuSeconds(server.proc.pid);
  const started = performance.now();
  let n = 0;
  const writes = [];
  // fixed-rate writers: one create every 1000/RATE ms, each key new so its row is on the first page
  while (performance.now() - started < DURATION * 1000) {
    const i = n++;
    const entry = { acked: 0, pages: new Map() };
    seenAt.set(i, entry);
    writes.push(
      fetch(`${base}/kv/live/${i}`, { method: 'PUT', body: 'x' }).then((res) => {
        if (!res.ok) throw new Error(`PUT: ${res.status}`);
        entry.acked = performance.now();
      }),
    );
    const next = started + (n * 1000) / RATE;
    const wait = next - performance.now();
    if (wait > 0) await sleep(wait);
  }
  await Promise.all(writes);
  await sleep(MAX_WAIT_MS + 1500);
  const cpu = cpuSeconds(server.proc.pid) - cpu0;
  for (const p of pages) p.stop();
  const latencies = [];
  let missing = 0;
  for (const [, e] of seenAt) {
    for (const p of pages) {
      const t = e.pages.get(p.self);
      if (t === undefined) missing++;
      else latencies.push(t - e.acked);
    }
  }
  latencies.sort((a, b) => a - b);
  const pct = (q) => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? NaN;
  const delivered = seenAt.size * PAGES;
  console.log(`Node ${process.version}, ${cpus().length} CPU (${cpus()[0]?.model.trim()}), load average before ${loadBefore}; ${Number(args.keys)} keys seeded; server, pages and writers on the same machine.`);
  console.log('');
  console.log('| open pages | writes | rate | change visible on a page, p50 / p99 / max | changes shown on pages / expected | server CPU | server CPU per change per page |');
  console.log('|---:|---:|---:|---|---|---:|---:|');
  console.log(`| ${PAGES} | ${seenAt.size} | ${RATE}/s | ${pct(0.5).toFixed(0)} / ${pct(0.99).toFixed(0)} / ${(latencies.at(-1) ?? NaN).toFixed(0)} ms | ${latencies.length} / ${delivered}${missing ? ` (${missing} never)` : ''} | ${cpu.toFixed(2)} s | ${((cpu * 1e6) / delivered).toFixed(1)} µs |`);
} finally {
  await server.stop();
  agent.destroy();
  rmSync(dir, { recursive: true, force: true });
}

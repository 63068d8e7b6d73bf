#!/usr/bin/env node
// CPU time per durable PUT, per thread of the server process, and of the load generator, from
// /proc (Linux): 32 connections of PUTs over 5,000 rotating keys, as in http-bench.mjs, on a
// fresh `stash server` (`npm run build` first), or with --bare on the bare node:http server of http-bench.mjs.
// Usage: node bench/put-cpu.mjs [--duration 10] [--bare] [-- extra server flags]
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';
import { startBare, startStash, stopStash } from './lib/stash-process.mjs';

const { values: args, positionals: flags } = parseArgs({
  options: { duration: { type: 'string', default: '10' }, bare: { type: 'boolean', default: false } },
  allowPositionals: true,
});
const dir = mkdtempSync(join(tmpdir(), 'stash-put-cpu-'));
const server = args.bare ? await startBare() : await startStash(join(dir, 'stash.db'), flags);
const TICK_MS = 10; // CLK_TCK 100

/** CPU ms of each thread of a process, by `tid:name`. */
function threadCpu(pid) {
  return Object.fromEntries(
    readdirSync(`/proc/${pid}/task`).map((tid) => {
      const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      return [`${tid}:${/\((.*)\)/.exec(stat)[1]}`, (Number(fields[11]) + Number(fields[12])) * TICK_MS];
    }),
  );
}

let n = 0;
const load = (duration) =>
  autocannon({
    url: `${server.url}/kv/bench/put/0`,
    connections: 32,
    duration,
    method: 'PUT',
    body: 'v'.repeat(100),
    requests: [{ setupRequest: (req) => ({ ...req, path: `/kv/bench/put/${n++ % 5000}` }) }],
  });

await load(2); // warm-up: creates the keys
const before = threadCpu(server.proc.pid);
const ownBefore = process.cpuUsage();
const result = await load(Number(args.duration));
const own = process.cpuUsage(ownBefore);
const after = threadCpu(server.proc.pid);
const total = result.requests.total;
if (result.non2xx || result.errors) throw new Error(`${result.non2xx} non-2xx answers, ${result.errors} errors`);
console.log(`${Math.round(result.requests.average)} req/s; load generator ${((own.user + own.system) / total).toFixed(1)} µs CPU per request`);
for (const [thread, ms] of Object.entries(after)) {
  const used = ms - (before[thread] ?? 0);
  if (used > 20) console.log(`  server thread ${thread}: ${((used * 1000) / total).toFixed(1)} µs CPU per PUT${args.bare ? ' (bare)' : ''}`);
}
await stopStash(server.proc);
rmSync(dir, { recursive: true, force: true });

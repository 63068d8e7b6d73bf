#!/usr/bin/env node
// The SQLite store alone, in-process (no HTTP): what a durable put costs, and the change log's
// reads, pruning and the one-time linking of an earlier database. Build first (`npm run build`).
// Usage: node bench/store-bench.mjs [--groups 6000] [--entries 500000]
import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { ROOT } from './lib/stash-process.mjs';

const { SqliteStore } = await import(join(ROOT, 'packages/server/dist/storage/sqlite-store.js'));
const Database = createRequire(join(ROOT, 'packages/server/package.json'))('better-sqlite3');
const { values: args } = parseArgs({
  options: { groups: { type: 'string', default: '6000' }, entries: { type: 'string', default: '500000' } },
});
const VALUE = Buffer.alloc(100, 'v');
const dirs = [];
const tempDb = () => {
  const dir = mkdtempSync(join(tmpdir(), 'stash-store-bench-'));
  dirs.push(dir);
  return join(dir, 'stash.db');
};
const put = (key) => ({ kind: 'put', key, value: VALUE, format: 'text' });
const ms = (t) => `${(performance.now() - t).toFixed(0)} ms`;

// 1. durable puts as the HTTP benchmark makes them: groups of 32 consecutive keys over 5,000
{
  const store = new SqliteStore({ path: tempDb(), sync: 'full' });
  let n = 0;
  const round = async (groups) => {
    for (let g = 0; g < groups; g++) await Promise.all(Array.from({ length: 32 }, () => store.apply([put(`bench/put/${n++ % 5000}`)])));
  };
  await round(2000); // creates every key, some history
  const groups = Number(args.groups);
  const cpu = process.cpuUsage();
  const started = performance.now();
  await round(groups);
  const used = process.cpuUsage(cpu);
  const puts = groups * 32;
  const us = (v) => (v / puts).toFixed(1);
  console.log(`durable put, groups of 32: CPU ${us(used.user + used.system)} µs (user ${us(used.user)}, system ${us(used.system)}), wall ${((performance.now() - started) * 1000 / puts).toFixed(1)} µs per put`);
  await store.close();
}

// 2. a change log of --entries entries over 20,000 keys: history reads, pruning, linking
{
  const path = tempDb();
  let store = new SqliteStore({ path, sync: 'normal' });
  const entries = Number(args.entries);
  let n = 0;
  for (let done = 0; done < entries; done += 1000) await store.apply(Array.from({ length: 1000 }, () => put(`k/${n++ % 20000}`)));
  let t = performance.now();
  const history = await store.history('k/123', 100);
  console.log(`history of one key (${history.length} entries): ${(performance.now() - t).toFixed(2)} ms`);
  const before = JSON.stringify(await store.history('k/77', 30));
  await store.close();

  // the layout of earlier versions: no links, no heads, an index on (key, revision)
  const raw = new Database(path);
  raw.exec('DROP TABLE kv_history_heads; ALTER TABLE kv_history DROP COLUMN prev; CREATE INDEX idx_kv_history_key ON kv_history(key, revision);');
  t = performance.now();
  const doomed = raw
    .prepare(`SELECT revision FROM (SELECT revision, ts, row_number() OVER (PARTITION BY key ORDER BY revision DESC) AS rn FROM kv_history) WHERE ts < ? AND rn > ?`)
    .pluck()
    .all(Date.now() - 3_600_000, 10);
  console.log(`earlier versions' prune query, nothing old (${doomed.length} rows): ${ms(t)} in one block`);
  raw.close();
  t = performance.now();
  store = new SqliteStore({ path });
  console.log(`linking ${entries} entries of an earlier database on open: ${ms(t)}; same history: ${JSON.stringify(await store.history('k/77', 30)) === before}`);

  let turns = 0;
  let pruning = true;
  const tick = () => {
    if (!pruning) return;
    turns++;
    setImmediate(tick);
  };
  setImmediate(tick);
  t = performance.now();
  const none = await store.pruneHistory(new Date(Date.now() - 3_600_000), 10);
  console.log(`prune, nothing old (${none} dropped): ${ms(t)} over ${turns} event-loop turns`);
  turns = 0;
  t = performance.now();
  const all = await store.pruneHistory(new Date(Date.now() + 3_600_000), 10);
  pruning = false;
  console.log(`prune, all old, keep 10 per key (${all} dropped): ${ms(t)} over ${turns} event-loop turns`);
  await store.close();
}
for (const dir of dirs) rmSync(dir, { recursive: true, force: true });

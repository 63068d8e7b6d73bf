import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ChaosSubscriber, type ChaosSubscriberOptions } from '../helpers/chaos-sse-client.js';
import { runChaosWriters, type AckedChange } from '../helpers/chaos-writers.js';
import { createSeededRandom, seedFromEnv, type SeededRandom } from '../helpers/seeded-random.js';
import { buildOnce, startStashProcess } from '../helpers/spawned-server.js';
import { makeTempDir, startTestServer, type TestServer } from '../helpers/test-server.js';
import { metricValue } from '../events/sse-helpers.js';

// extensions.md 4: every subscriber sees every change exactly once, in revision order, across
// any number of drops, or an explicit reset when it fell behind the retained log
const SEED = seedFromEnv(process.env['STASH_CHAOS_SEED'], 13013);
const ALL = '/kv/subscribe/*';
console.log(`stream chaos seed ${SEED} (STASH_CHAOS_SEED=${SEED} reproduces it; STASH_CHAOS_SEED=random for a new one)`);

const cleanups: Array<() => Promise<void> | void> = [];
const subscribers: ChaosSubscriber[] = [];
afterEach(async () => {
  for (const s of subscribers.splice(0)) s.stop();
  for (const fn of cleanups.splice(0).reverse()) await fn();
});
beforeAll(buildOnce, 120_000);

async function startInProcess(): Promise<TestServer> {
  const server = await startTestServer(['--server.shutdown-timeout', '300ms', '--db.sync', 'normal']);
  cleanups.push(() => server.close());
  return server;
}

/** A spawned server, so the 200 readers in this process and the server use both cores. */
async function startSpawned(): Promise<string> {
  const dir = makeTempDir('stash-chaos-');
  const proc = await startStashProcess(join(dir, 'stash.db'), ['--db.sync=normal', '--server.shutdown-timeout=300ms']);
  cleanups.push(async () => {
    proc.proc.kill('SIGTERM');
    await proc.exited;
    rmSync(dir, { recursive: true, force: true });
  });
  return proc.url;
}

function subscriber(url: string, rng: SeededRandom, extra: Partial<ChaosSubscriberOptions> = {}): ChaosSubscriber {
  const s = new ChaosSubscriber(url, ALL, { reconnectDelay: () => rng.int(60), ...extra });
  subscribers.push(s);
  return s;
}

/** Drop about `perSecond` random connected subscribers a second until stopped. */
function dropAtRandom(subs: readonly ChaosSubscriber[], rng: SeededRandom, perSecond: number): { stop(): number } {
  let drops = 0;
  const tickMs = 20;
  const timer = setInterval(() => {
    for (let n = (perSecond * tickMs) / 1000; n > 0; n--) {
      if (n < 1 && rng.next() > n) break;
      const s = rng.pick(subs);
      if (s.isConnected) {
        s.drop();
        drops++;
      }
    }
  }, tickMs);
  return {
    stop: () => {
      clearInterval(timer);
      return drops;
    },
  };
}

/** The acknowledged writes are exactly revisions 1..last, and the reference stream shows each as acknowledged. */
function checkReference(reference: ChaosSubscriber, acked: Map<number, AckedChange>, last: number): void {
  expect(acked.size).toBe(last);
  expect(reference.problems).toEqual([]);
  expect(reference.resets).toEqual([]);
  expect(reference.connections).toBe(1);
  expect(reference.revisions.length).toBe(last);
  reference.blocks.forEach((block, i) => {
    const data = JSON.parse(block.split('\n')[2]?.slice(6) ?? '') as { key: string; action: string; revision: number };
    const want = acked.get(i + 1);
    if (data.revision !== i + 1 || data.key !== want?.key || data.action !== want.action) {
      throw new Error(`reference event ${i + 1} is ${block}, the writer acknowledged ${JSON.stringify(want)}`);
    }
  });
}

/**
 * Where `sub` departs from "every change exactly once, in order, identical to the reference",
 * allowing a jump only at a reset (to the reset's revision, and only from a revision the log
 * had pruned by the end: `prunedThrough`). Undefined when it does not.
 */
function departure(sub: ChaosSubscriber, reference: ChaosSubscriber, last: number, prunedThrough: number): string | undefined {
  let from = 0;
  let at = 0;
  const segments = [...sub.resets.map((r) => ({ end: r.previous, reset: r })), { end: last, reset: undefined }];
  for (const { end, reset } of segments) {
    for (let rev = from + 1; rev <= end; rev++, at++) {
      if (sub.revisions[at] !== rev) return `expected change ${rev}, got ${sub.revisions[at] ?? 'nothing'}`;
      if (sub.hashes[at] !== reference.hashes[rev - 1]) return `change ${rev} differs from the reference stream`;
    }
    if (!reset) break;
    if (reset.afterChanges !== at) return `reset ${JSON.stringify(reset)} not after change ${end}`;
    if (reset.previous >= prunedThrough) return `reset after ${reset.previous}, but only ..${prunedThrough} was pruned`;
    from = reset.revision;
  }
  return sub.revisions.length === at ? undefined : `${sub.revisions.length - at} changes beyond ${last}`;
}

describe('change streams under chaos', () => {
  it('200 subscribers dropped and resumed at random see 10,000 changes exactly once, in order', async () => {
    const rng = createSeededRandom(SEED);
    const url = await startSpawned();
    const reference = subscriber(url, rng, { keepBlocks: true });
    await reference.start();
    const early = Array.from({ length: 150 }, () => subscriber(url, rng));
    await Promise.all(early.map((s) => s.start()));
    // 50 join while the writes run and begin by replaying everything from revision 0
    const late = Array.from({ length: 50 }, () => subscriber(url, rng));
    const joinAt = late.map(() => 500 + rng.int(8000));
    const all = [...early, ...late];
    const chaos = dropAtRandom(all, rng, 150);

    const started = Date.now();
    const acked = await runChaosWriters({
      url,
      writers: 6,
      keysPerWriter: 50,
      total: 10_000,
      rng,
      onAck: (newest) => {
        late.forEach((s, i) => {
          if (s.connections === 0 && newest >= (joinAt[i] ?? 0)) void s.start();
        });
      },
    });
    const drops = chaos.stop();
    const last = Math.max(...acked.keys());
    await Promise.all([reference, ...all].map((s) => s.waitFor(last, 30_000)));
    const ms = Date.now() - started;
    for (const s of subscribers) s.stop();

    checkReference(reference, acked, last);
    for (const [i, s] of all.entries()) {
      const got = { subscriber: i, problems: s.problems, resets: s.resets.length, departure: departure(s, reference, last, 0) };
      expect(got).toEqual({ subscriber: i, problems: [], resets: 0, departure: undefined });
    }
    const connections = all.reduce((n, s) => n + s.connections, 0);
    const serverCloses = all.reduce((n, s) => n + s.serverCloses, 0);
    console.log(
      `stream chaos: ${last} changes, ${all.length} subscribers + reference, ${last * (all.length + 1)} events checked in ${ms} ms; ` +
        `${drops} client drops, ${serverCloses} server-side closes, ${connections} connections`,
    );
  }, 90_000);

  it('subscribers behind the pruned log get one reset, then every later change exactly once', async () => {
    const rng = createSeededRandom(SEED + 1);
    const server = await startInProcess();
    const reference = subscriber(server.url, rng, { keepBlocks: true });
    await reference.start();
    let writing = true;
    const prunedPast = async (revision: number): Promise<void> => {
      while (writing && (await server.store.oldestRetainedRevision()) <= revision + 1) {
        await new Promise((r) => setTimeout(r, 20));
      }
    };
    const quick = Array.from({ length: 30 }, () => subscriber(server.url, rng));
    // these stay away until the log was pruned past their position, so they must be reset
    const sleepers = Array.from({ length: 10 }, () => subscriber(server.url, rng, { beforeReconnect: prunedPast }));
    const all = [...quick, ...sleepers];
    await Promise.all(all.map((s) => s.start()));
    const chaos = dropAtRandom(all, rng, 40);
    // keep one entry per key, over and over, while everything runs
    const pruning = (async () => {
      while (writing) {
        await server.store.pruneHistory(new Date(Date.now() + 60_000), 1);
        await new Promise((r) => setTimeout(r, 50));
      }
    })();

    // each sleeper is dropped once at a planned point (random drops may hit it too)
    const sleepAt = sleepers.map(() => 200 + rng.int(1800));
    const acked = await runChaosWriters({
      url: server.url,
      writers: 3,
      keysPerWriter: 15,
      total: 3000,
      rng,
      onAck: (newest) => {
        sleepers.forEach((s, i) => {
          if (newest >= (sleepAt[i] ?? 0) && s.connections === 1) s.drop();
        });
      },
    });
    writing = false;
    const drops = chaos.stop();
    await pruning;
    const last = Math.max(...acked.keys());
    await Promise.all([reference, ...all].map((s) => s.waitFor(last, 20_000)));
    for (const s of all) s.stop();

    checkReference(reference, acked, last);
    const prunedThrough = (await server.store.oldestRetainedRevision()) - 1;
    for (const [i, s] of all.entries()) {
      const got = { subscriber: i, problems: s.problems, departure: departure(s, reference, last, prunedThrough) };
      expect(got).toEqual({ subscriber: i, problems: [], departure: undefined });
    }
    for (const s of sleepers) expect(s.resets.length).toBeGreaterThan(0);

    // a resume point older than the retained log, on a quiet server: reset to the current revision first
    const stale = subscriber(server.url, rng);
    stale.lastId = 1;
    await stale.start();
    await stale.waitFor(last, 5000);
    expect(stale.resets).toEqual([{ requested: 1, previous: 1, revision: last, afterChanges: 0, firstOnConnection: true }]);
    const resets = all.reduce((n, s) => n + s.resets.length, 0);
    const events = all.reduce((n, s) => n + s.revisions.length, 0);
    console.log(
      `stream chaos with pruning: ${last} changes, log pruned through ${prunedThrough}, ${events} events checked, ` +
        `${resets} resets (${sleepers.reduce((n, s) => n + s.resets.length, 0)} to the sleepers), ${drops} drops`,
    );
  }, 60_000);

  it('a replay waiting on a slow reader while the log is pruned under it ends in a reset, never a gap', async () => {
    const server = await startInProcess();
    // 20,000 keys written four times: 80,000 entries (~14 MB of events), far more than socket buffers hold
    const keys = Array.from({ length: 20_000 }, (_, i) => `slow/${i}`);
    for (let round = 0; round < 4; round++) {
      for (let i = 0; i < keys.length; i += 2000) {
        const items = keys.slice(i, i + 2000).map((key) => ({ key, value: `r${round}` }));
        const res = await fetch(`${server.url}/kv/`, { method: 'POST', body: JSON.stringify(items) });
        expect(res.status).toBe(200);
      }
    }
    const last = await server.store.currentRevision();
    const rng = createSeededRandom(SEED + 2);
    const reader = subscriber(server.url, rng, { reconnectDelay: () => 0 });
    await reader.start(); // from revision 0, the whole log is there: a replay, no reset
    reader.pause();
    const sent = (): Promise<number> => metricValue(server.metrics.sseEventsSent);
    const deadline = Date.now() + 10_000;
    while ((await sent()) === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    // the replay is now stuck behind the full socket; drop 1..60,000 from under it
    expect(await server.store.pruneHistory(new Date(Date.now() + 60_000), 1)).toBe(60_000);
    const stuckAt = await sent();
    expect(stuckAt).toBeLessThan(60_000);
    reader.resume();
    await reader.waitFor(last, 20_000);
    reader.stop();
    expect(reader.problems).toEqual([]);
    expect(reader.connections).toBe(1);
    // everything up to the reset in order, then the reset and nothing of the pruned stretch
    const jump = reader.revisions.findIndex((rev, i) => rev !== i + 1);
    const gap = jump === -1 ? undefined : `${reader.revisions[jump - 1] ?? 0} -> ${reader.revisions[jump] ?? 0}`;
    expect({ gap, resets: reader.resets.length }).toEqual({ gap: undefined, resets: 1 });
    const [reset] = reader.resets;
    expect(reader.revisions.length).toBe(reset?.afterChanges);
    expect(reset?.revision).toBe(last);
    console.log(`pruned under a stuck replay: ${stuckAt} events sent when it stuck, reset after ${reset?.afterChanges}`);
  }, 60_000);
});

import { join } from 'node:path';
import { rmSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { makeTempDir, startTestServer, type TestServer } from '../helpers/test-server.js';
import { request, type IncomingMessage } from 'node:http';
import { eventually, metricValue, openStream, parseWire, put, type FetchStream } from './sse-helpers.js';

const servers: TestServer[] = [];
// fetch's pool may leave a request-less socket behind an aborted stream; do not wait 5 s for it
const QUICK_CLOSE = ['--server.shutdown-timeout', '300ms'];
async function start(args: string[] = []): Promise<TestServer> {
  const s = await startTestServer([...QUICK_CLOSE, ...args]);
  servers.push(s);
  return s;
}
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

const revisions = (s: FetchStream): number[] => s.changes().map((c) => c.revision);
const range = (from: number, to: number): number[] => Array.from({ length: to - from + 1 }, (_, i) => from + i);

/** PUT `count` keys with a few writers in parallel; resolves with the statuses. */
async function writeMany(url: string, prefix: string, count: number, parallel = 4): Promise<number[]> {
  const statuses: number[] = [];
  let next = 0;
  await Promise.all(
    Array.from({ length: parallel }, async () => {
      while (next < count) {
        const i = next++;
        statuses.push(await put(url, `${prefix}/${i}`, String(i)));
      }
    }),
  );
  return statuses;
}

describe('lossless resume (extensions 4)', () => {
  it('replays after Last-Event-ID, then goes live', async () => {
    const server = await start();
    for (let i = 1; i <= 5; i++) await put(server.url, `k${i}`, 'v');
    const s = await openStream(`${server.url}/kv/subscribe/*`, { 'Last-Event-ID': '2' });
    await s.waitFor((x) => x.changes().length >= 3);
    await put(server.url, 'k6', 'v');
    await s.waitFor((x) => x.changes().length >= 4);
    expect(revisions(s)).toEqual([3, 4, 5, 6]);
    expect(s.events().map((e) => e.id)).toEqual(['3', '4', '5', '6']);
    s.close();
  });

  it('replays after ?since=, with the subscription filter applied', async () => {
    const server = await start();
    await put(server.url, 'a/1', 'v');
    await put(server.url, 'b/1', 'v');
    await put(server.url, 'a/2', 'v');
    const s = await openStream(`${server.url}/kv/subscribe/a/*?since=0`);
    await put(server.url, 'a/3', 'v');
    await s.waitFor((x) => x.changes().length >= 3);
    expect(s.changes().map((c) => c.key)).toEqual(['a/1', 'a/2', 'a/3']);
    s.close();
  });

  it('prefers Last-Event-ID over ?since= (the newer position on a reconnect)', async () => {
    const server = await start();
    for (let i = 1; i <= 4; i++) await put(server.url, `k${i}`, 'v');
    const s = await openStream(`${server.url}/kv/subscribe/*?since=1`, { 'Last-Event-ID': '3' });
    await s.waitFor((x) => x.changes().length >= 1);
    await put(server.url, 'k5', 'v');
    await s.waitFor((x) => x.changes().length >= 2);
    expect(revisions(s)).toEqual([4, 5]);
    s.close();
  });

  it('loses and repeats nothing across the replay-to-live switch under concurrent writes', async () => {
    const server = await start();
    await writeMany(server.url, 'pre', 50);
    const writing = writeMany(server.url, 'during', 150);
    const s = await openStream(`${server.url}/kv/subscribe/*?since=0`);
    await writing;
    await s.waitFor((x) => x.changes().length >= 200, 10_000);
    expect(revisions(s)).toEqual(range(1, 200));
    s.close();
  });

  it('loses and repeats nothing across forced disconnects', async () => {
    const server = await start();
    const writing = writeMany(server.url, 'x', 200, 2);
    const seen: number[] = [];
    let last: string | undefined;
    for (let round = 0; round < 6; round++) {
      const s = await openStream(`${server.url}/kv/subscribe/x/*`, last ? { 'Last-Event-ID': last } : { 'Last-Event-ID': '0' });
      await s.waitFor((x) => x.changes().length >= 5 || seen.length + x.changes().length >= 200, 10_000);
      s.close(); // drop the connection mid-stream
      const events = s.events().filter((e) => e.event === 'change');
      seen.push(...events.map((e) => Number(e.id)));
      last = events.at(-1)?.id ?? last;
    }
    await writing;
    const s = await openStream(`${server.url}/kv/subscribe/x/*`, { 'Last-Event-ID': last ?? '0' });
    await s.waitFor((x) => seen.length + x.changes().length >= 200, 10_000);
    seen.push(...revisions(s));
    s.close();
    expect(seen).toEqual(range(1, 200));
  });

  it('loses and repeats nothing across a server restart on the same SQLite file', async () => {
    const dir = makeTempDir('stash-sse-restart-');
    const db = join(dir, 'stash.db');
    try {
      const first = await start(['--db', db]);
      const s1 = await openStream(`${first.url}/kv/subscribe/r/*`);
      await put(first.url, 'r/1', 'v');
      await put(first.url, 'r/2', 'v');
      await s1.waitFor((x) => x.changes().length >= 2);
      s1.close();
      const last = s1.events().at(-1)?.id;
      await put(first.url, 'r/3', 'v'); // committed while the client is away
      await first.close();
      await s1.ended;

      const second = await start(['--db', db]);
      const s2 = await openStream(`${second.url}/kv/subscribe/r/*`, { 'Last-Event-ID': last ?? '' });
      await put(second.url, 'r/4', 'v');
      await s2.waitFor((x) => x.changes().length >= 2);
      expect([...revisions(s1), ...revisions(s2)]).toEqual([1, 2, 3, 4]);
      s2.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('graceful shutdown ends open streams cleanly, so clients resume elsewhere', async () => {
    const server = await startTestServer();
    const streams = await Promise.all([1, 2, 3].map(() => openStream(`${server.url}/kv/subscribe/*`)));
    await put(server.url, 'k', 'v');
    await Promise.all(streams.map((s) => s.waitFor((x) => x.changes().length === 1)));
    await server.close();
    await Promise.all(streams.map((s) => s.ended));
    // a clean end of the chunked body (the server ended each stream), not a cut connection: a
    // stream not ended would be destroyed after the hub's grace or the shutdown timeout
    expect(streams.map((s) => s.endState())).toEqual(['done', 'done', 'done']);
    for (const s of streams) {
      expect(s.text().endsWith('\n\n')).toBe(true); // the last event is whole
      expect(s.changes().map((c) => c.key)).toEqual(['k']);
    }
  });
});

/** Write `keys` through POST /kv/ (one revision per item, in order), `perBatch` items a request. */
async function writeBatches(url: string, keys: string[], perBatch = 400): Promise<void> {
  for (let i = 0; i < keys.length; i += perBatch) {
    const items = keys.slice(i, i + perBatch).map((key) => ({ key, value: 'v' }));
    const res = await fetch(`${url}/kv/`, { method: 'POST', body: JSON.stringify(items) });
    expect(res.status).toBe(200);
    await res.arrayBuffer();
  }
}

// the handler replays the change log in pages of 500 entries (subscribe-handler.ts, pageSize)
describe('resume across several replay pages', () => {
  it('a client 1,200 revisions behind gets every missed write exactly once, in order, then live ones', async () => {
    const server = await start();
    // a/ and b/ alternate, so a filtered stream matches only every other log entry of a page
    await writeBatches(server.url, Array.from({ length: 1200 }, (_, i) => `${i % 2 ? 'b' : 'a'}/${i}`));
    expect(await server.store.currentRevision()).toBe(1200);

    // resume mid-page: pages 38..537, 538..1037, 1038..1200
    const all = await openStream(`${server.url}/kv/subscribe/*`, { 'Last-Event-ID': '37' });
    const onlyA = await openStream(`${server.url}/kv/subscribe/a/*`, { 'Last-Event-ID': '0' });
    expect(all.headers.get('x-stash-revision')).toBe('1200');
    await put(server.url, 'a/live', 'v'); // revision 1201: after the replay, live
    await all.waitFor((x) => x.changes().some((c) => c.revision === 1201), 10_000);
    await onlyA.waitFor((x) => x.changes().some((c) => c.revision === 1201), 10_000);

    expect(revisions(all)).toEqual(range(38, 1201));
    expect(all.events().map((e) => e.id)).toEqual(range(38, 1201).map(String));
    expect(all.events().every((e) => e.event === 'change')).toBe(true);
    // a/i was written at revision i + 1 for every even i
    expect(revisions(onlyA)).toEqual([...range(1, 1200).filter((r) => r % 2 === 1), 1201]);
    expect(onlyA.changes().every((c) => c.key.startsWith('a/'))).toBe(true);
    all.close();
    onlyA.close();
  });

  it('reset when the resume point is older than the retained log; a resume at its edge replays every page', async () => {
    const server = await start();
    // 349 keys written three times (1..349, 350..698, 699..1047), then 153 others (1048..1200);
    // a batch holds each key once, so one batch per round
    const p = Array.from({ length: 349 }, (_, i) => `p/${i}`);
    await writeBatches(server.url, [...p, ...p, ...p, ...Array.from({ length: 153 }, (_, i) => `k/${i}`)], 349);
    expect(await server.store.currentRevision()).toBe(1200);
    // keep one entry per key: revisions 1..698 go, the log starts at 699
    expect(await server.store.pruneHistory(new Date(Date.now() + 60_000), 1)).toBe(698);
    expect(await server.store.oldestRetainedRevision()).toBe(699);

    const stale = await openStream(`${server.url}/kv/subscribe/*`, { 'Last-Event-ID': '697' });
    const edge = await openStream(`${server.url}/kv/subscribe/*`, { 'Last-Event-ID': '698' });
    await put(server.url, 'k/live', 'v'); // revision 1201
    await stale.waitFor((x) => x.changes().some((c) => c.revision === 1201), 10_000);
    await edge.waitFor((x) => x.changes().some((c) => c.revision === 1201), 10_000);

    // 698 is gone: nothing is replayed, the client is told to re-list at 1200, then goes live
    expect(stale.text()).toMatch(/^id: 1200\nevent: reset\ndata: \{"revision":1200\}\n\n/);
    expect(stale.events().map((e) => [e.event, e.id])).toEqual([
      ['reset', '1200'],
      ['change', '1201'],
    ]);
    // 698 itself is complete: 699..1200 (two pages of the log) and the live write, no reset
    expect(edge.events().some((e) => e.event === 'reset')).toBe(false);
    expect(revisions(edge)).toEqual(range(699, 1201));
    stale.close();
    edge.close();
  });
});

describe('a log pruned while a slow client replays', () => {
  it('sends the events replayed so far, then reset, never a gap', async () => {
    const server = await start();
    // 1,000 keys with long names written ten times: 10,000 revisions, about 10 MB of events,
    // far more than loopback's socket buffers hold for a client that stops reading (3-4 MB here)
    const keys = Array.from({ length: 1000 }, (_, i) => `slow/${String(i).padStart(4, '0')}/${'x'.repeat(990)}`);
    await writeBatches(server.url, Array.from({ length: 10 }, () => keys).flat(), 250);
    const total = await server.store.currentRevision();
    expect(total).toBe(10_000);

    // a client that resumes from the start and reads nothing: the replay waits for its socket
    const chunks: Buffer[] = [];
    const res = await new Promise<IncomingMessage>((resolve, reject) => {
      const req = request(`${server.url}/kv/subscribe/slow/*?since=0`, resolve);
      req.on('error', reject);
      req.end();
    });
    expect(res.statusCode).toBe(200);
    res.pause();
    res.on('data', (c: Buffer) => chunks.push(c));
    let sent = -1;
    await eventually(async () => {
      const now = await metricValue(server.metrics.sseEventsSent);
      const still = now === sent && now > 0;
      sent = now;
      if (!still) await new Promise((r) => setTimeout(r, 200));
      return still;
    }, 20_000);
    // the replay is held back before the range retention is about to drop
    expect(sent).toBeLessThan(9000);

    // meanwhile retention drops all but the last round: 1..9000 are gone
    expect(await server.store.pruneHistory(new Date(Date.now() + 60_000), 1)).toBe(9000);
    await put(server.url, 'slow/live', 'v'); // revision 10,001
    res.resume();
    await eventually(() => Buffer.concat(chunks).toString().includes('id: 10001\n'), 20_000);
    res.destroy();

    const events = parseWire(Buffer.concat(chunks).toString());
    const reset = events.findIndex((e) => e.event === 'reset');
    expect(reset).toBeGreaterThan(0); // after some replayed changes
    const replayed = events.slice(0, reset).map((e) => Number(e.id));
    // a contiguous run from the start, with nothing from after the pruned range slipped in
    expect(replayed).toEqual(range(1, replayed.length));
    expect(replayed.length).toBeLessThan(9000);
    expect(events[reset]?.id).toBe(String(total));
    expect(events.slice(reset + 1).map((e) => [e.event, e.id])).toEqual([['change', '10001']]);
  }, 60_000);
});

describe('reset and odd resume points', () => {
  it('sends reset with the current revision when the log was pruned past the resume point', async () => {
    const server = await start();
    for (let i = 0; i < 5; i++) await put(server.url, 'same', String(i)); // revisions 1..5
    expect(await server.store.pruneHistory(new Date(Date.now() + 60_000), 1)).toBe(4);
    expect(await server.store.oldestRetainedRevision()).toBe(5);

    const stale = await openStream(`${server.url}/kv/subscribe/*`, { 'Last-Event-ID': '2' });
    await stale.waitFor((x) => x.events().length >= 1);
    await put(server.url, 'same', 'live'); // revision 6
    await stale.waitFor((x) => x.events().length >= 2);
    expect(stale.text()).toMatch(/^id: 5\nevent: reset\ndata: \{"revision":5\}\n\n/);
    expect(stale.events().map((e) => [e.event, e.id])).toEqual([
      ['reset', '5'],
      ['change', '6'],
    ]);
    stale.close();

    // the newest pruned revision itself is still a complete position: replay, no reset
    const fresh = await openStream(`${server.url}/kv/subscribe/*`, { 'Last-Event-ID': '4' });
    await fresh.waitFor((x) => x.events().length >= 2);
    expect(fresh.events().map((e) => [e.event, e.id])).toEqual([
      ['change', '5'],
      ['change', '6'],
    ]);
    fresh.close();
  });

  it('treats a malformed Last-Event-ID or since as no resume (live only)', async () => {
    const server = await start();
    await put(server.url, 'old', 'v');
    const variants: Array<[string, Record<string, string>]> = [
      ['', { 'Last-Event-ID': 'abc' }],
      ['', { 'Last-Event-ID': '-1' }],
      ['', { 'Last-Event-ID': '1.5' }],
      ['', { 'Last-Event-ID': '99999999999999999999999' }],
      ['?since=yesterday', {}],
      ['?since=', {}],
    ];
    const streams = await Promise.all(variants.map(([q, h]) => openStream(`${server.url}/kv/subscribe/*${q}`, h)));
    expect(streams.map((s) => s.status)).toEqual(variants.map(() => 200));
    await put(server.url, 'new', 'v');
    for (const s of streams) {
      await s.waitFor((x) => x.changes().length >= 1);
      expect(s.changes().map((c) => c.key)).toEqual(['new']);
      s.close();
    }
  });

  it('treats since in the future as live only, still delivering the next revisions', async () => {
    const server = await start();
    await put(server.url, 'a', 'v');
    const s = await openStream(`${server.url}/kv/subscribe/*?since=1000000`);
    await put(server.url, 'b', 'v');
    await s.waitFor((x) => x.changes().length >= 1);
    expect(s.changes().map((c) => [c.key, c.revision])).toEqual([['b', 2]]);
    s.close();
  });
});

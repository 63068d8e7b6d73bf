import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStream, put, type FetchStream } from '../events/sse-helpers.js';
import { PRIVATE_PG_SKIP, startPrivatePg, type PrivatePg } from '../helpers/private-pg.js';
import { buildOnce, startStashProcess, type Spawned } from '../helpers/spawned-server.js';
import { expectCleanFailures, ok, readKey, startLoad, unavailableTimes, waitUntil, type Outcome } from './fault-load.js';

if (PRIVATE_PG_SKIP) console.warn(`skipping PostgreSQL outage tests: ${PRIVATE_PG_SKIP}`);

type Proc = Spawned & { url: string };
const PREFIX = 'out';

/** The stream's changes as comparable lines, in the order received. */
const lines = (...streams: FetchStream[]): string[] =>
  streams.flatMap((s) => s.changes().map((c) => `${c.revision} ${c.key} ${c.action}`));

const hasKey = (key: string) => (s: FetchStream) => s.changes().some((c) => c.key === key);

describe.skipIf(PRIVATE_PG_SKIP)('PostgreSQL outages under load, two servers on one private cluster', () => {
  let pg: PrivatePg;
  let a: Proc;
  let b: Proc;
  const streams: FetchStream[] = [];

  beforeAll(async () => {
    [pg] = await Promise.all([startPrivatePg(), buildOnce()]);
    [a, b] = await Promise.all([
      startStashProcess(pg.url, ['--server.shutdown-timeout=1s']),
      startStashProcess(pg.url, ['--server.shutdown-timeout=1s']),
    ]);
  }, 60_000);

  afterAll(async () => {
    for (const s of streams) s.close();
    for (const p of [a, b]) {
      // a server that died during the test: show why
      if (p && p.proc.exitCode !== null) console.error(`server ${p.url} exited ${p.proc.exitCode}:\n${p.stdout().slice(-4000)}\n${p.stderr()}`);
      if (p && p.proc.exitCode === null) {
        p.proc.kill('SIGTERM');
        await p.exited;
      }
    }
    await pg?.destroy();
  });

  /** Both servers' LISTEN sessions, as PostgreSQL sees them. */
  async function listeningServers(): Promise<number> {
    const admin = pg.admin();
    try {
      const [row] = await admin`
        SELECT count(*)::int AS n FROM pg_stat_activity
        WHERE application_name = 'stash-listen' AND query ILIKE 'listen%'`;
      return Number(row?.['n'] ?? 0);
    } catch {
      return 0; // still starting up
    } finally {
      await admin.end();
    }
  }

  it('answers 503 while down, recovers by itself, keeps every acknowledged write and change event', { timeout: 58_000 }, async () => {
    expect(await put(a.url, `${PREFIX}/seed`, 'seed')).toBe(201);
    const onA = await openStream(`${a.url}/kv/subscribe/${PREFIX}/*`);
    const onB = await openStream(`${b.url}/kv/subscribe/${PREFIX}/*`);
    streams.push(onA, onB);
    const startRevision = onA.headers.get('x-stash-revision');
    expect(onB.headers.get('x-stash-revision')).toBe(startRevision);
    await waitUntil('both servers LISTEN', async () => (await listeningServers()) === 2, 10_000);

    const load = startLoad({ urls: [a.url, b.url], prefix: PREFIX, writers: 4, readers: 2 });
    const since = (t: number, server: string, pred: (o: Outcome) => boolean): number =>
      load.outcomes.filter((o) => o.startedAt >= t && o.url.startsWith(server) && pred(o)).length;
    const isWrite = (o: Outcome): boolean => o.op === 'put';
    const phases: Array<{ name: string; down: () => Promise<void>; up?: () => Promise<void> }> = [
      { name: 'stop, a few seconds down, start', down: () => pg.stop(), up: () => pg.start() },
      { name: 'restart', down: () => pg.restart() },
      { name: 'kill -9, crash recovery on start', down: () => pg.kill(), up: () => pg.start() },
    ];
    const figures: string[] = [];
    for (const [i, phase] of phases.entries()) {
      const before = Date.now();
      await waitUntil('writes flow on both servers', async () => since(before, a.url, (o) => isWrite(o) && ok(o)) >= 3 && since(before, b.url, (o) => isWrite(o) && ok(o)) >= 3, 20_000);
      const downAt = Date.now();
      await phase.down();
      if (phase.up) {
        // down for at least 2 s, and long enough that both servers answered reads and writes with 503
        await waitUntil('both servers answer 503', async () =>
          Date.now() - downAt >= 2000 &&
          [a.url, b.url].every((s) => since(downAt, s, (o) => isWrite(o) && o.status === 503) >= 2 && since(downAt, s, (o) => !isWrite(o) && o.status === 503) >= 1),
          15_000,
        );
        await phase.up();
      }
      const upAt = Date.now();
      const recoveredMs = await waitUntil('both servers accept writes again', async () =>
        [a.url, b.url].every((s) => since(upAt, s, (o) => isWrite(o) && ok(o)) >= 1),
        20_000,
      );
      // cross-server notifications again, both ways, and both LISTEN sessions back
      const fromA = `${PREFIX}/cross-a-${i}`;
      const fromB = `${PREFIX}/cross-b-${i}`;
      expect(await put(a.url, fromA, 'a')).toBe(201);
      expect(await put(b.url, fromB, 'b')).toBe(201);
      await onB.waitFor(hasKey(fromA), 10_000);
      await onA.waitFor(hasKey(fromB), 10_000);
      const relistenMs = await waitUntil('both servers LISTEN again', async () => (await listeningServers()) === 2, 10_000);
      const down = load.outcomes.filter((o) => o.startedAt >= downAt && o.startedAt < upAt + recoveredMs);
      const t = unavailableTimes(down);
      figures.push(
        `${phase.name}: ${t.count} answers 503 until recovered (median ${t.medianMs} ms, max ${t.maxMs} ms), ` +
          `writes on both servers ${recoveredMs} ms after PostgreSQL was up, LISTEN confirmed ${relistenMs} ms later`,
      );
    }
    await load.stop();
    console.log(`pg outage:\n  ${figures.join('\n  ')}\n  ${load.outcomes.length} requests, ${load.outcomes.filter(ok).length} succeeded`);

    expectCleanFailures(load.outcomes);
    expect(a.proc.exitCode).toBeNull();
    expect(b.proc.exitCode).toBeNull();

    // every acknowledged write is there with the revision it was acknowledged with; a write
    // answered 503 is there whole or not at all
    const puts = load.outcomes.filter((o) => o.op === 'put');
    let appliedDespite503 = 0;
    for (let i = 0; i < puts.length; i += 25) {
      await Promise.all(
        puts.slice(i, i + 25).map(async (o) => {
          const now = await readKey(a.url, o.key);
          if (ok(o)) {
            expect(now, o.key).toMatchObject({ status: 200, value: o.value, revision: o.revision, etag: `"${o.revision}"` });
          } else if (now.status === 200) {
            expect(now.value, o.key).toBe(o.value);
            appliedDespite503++;
          } else {
            expect(now.status, o.key).toBe(404);
          }
        }),
      );
    }
    console.log(`pg outage: ${puts.filter(ok).length} acknowledged writes all present; ${appliedDespite503} answered 503 but committed`);

    // the stream on B, resumed with Last-Event-ID, has no gap and no repeat against the change log
    const lastId = onB.events().filter((e) => e.event === 'change').at(-1)?.id ?? '';
    onB.close();
    const resumed = await openStream(`${b.url}/kv/subscribe/${PREFIX}/*`, { 'Last-Event-ID': lastId });
    streams.push(resumed);
    expect(await put(a.url, `${PREFIX}/final`, 'end')).toBe(201);
    const replay = await openStream(`${a.url}/kv/subscribe/${PREFIX}/*?since=${startRevision}`);
    streams.push(replay);
    for (const s of [replay, resumed, onA]) await s.waitFor(hasKey(`${PREFIX}/final`), 10_000);
    const truth = lines(replay);
    expect(truth.length).toBeGreaterThan(puts.filter(ok).length);
    expect(lines(onB, resumed)).toEqual(truth);
    expect(lines(onA)).toEqual(truth);
  });
});

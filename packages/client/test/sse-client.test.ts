import { join } from 'node:path';
import { rmSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { Client, type SubscriptionEvent } from '@stash/client';
import { makeTempDir, startTestServer, type TestServer } from '../../server/test/helpers/test-server.js';
import { freePort } from '../../server/test/helpers/spawned-server.js';

const servers: TestServer[] = [];
const clients: Client[] = [];
async function start(args: string[] = []): Promise<{ server: TestServer; client: Client }> {
  const server = await startTestServer(['--server.shutdown-timeout', '300ms', ...args]);
  servers.push(server);
  const client = new Client(server.url);
  clients.push(client);
  return { server, client };
}
afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

/** Read `n` events from an async iterator (without closing it), failing after `timeoutMs`. */
async function take<T>(iterable: AsyncIterable<T>, n: number, timeoutMs = 10_000): Promise<T[]> {
  const it = iterable[Symbol.asyncIterator]();
  const out: T[] = [];
  const deadline = Date.now() + timeoutMs;
  while (out.length < n) {
    const left = deadline - Date.now();
    const r = await Promise.race([
      it.next(),
      new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`got ${out.length} of ${n}`)), Math.max(left, 0))),
    ]);
    if (r.done) break;
    out.push(r.value);
  }
  return out;
}

const changeKeys = (events: SubscriptionEvent[]): string[] => events.map((e) => (e.type === 'change' ? e.key : `reset@${e.revision}`));

describe('Client subscriptions against a real server', () => {
  it('subscribe(key), subscribePrefix(prefix) and subscribeAll() see exactly their keys', async () => {
    const { client } = await start();
    const exact = client.subscribe('app/config');
    const prefix = client.subscribePrefix('app');
    const all = client.subscribeAll();
    await Promise.all([exact.ready, prefix.ready, all.ready]);
    await client.set('app', 'root');
    await client.set('app/config', '{"a":1}', 'json');
    await client.set('app/other', 'x');
    await client.delete('app/config');
    await client.set('zzz', 'x');

    const [e, p, a] = await Promise.all([take(exact, 2), take(prefix, 3), take(all, 5)]);
    expect(e.map((x) => x.type === 'change' && [x.key, x.action, x.format])).toEqual([
      ['app/config', 'create', 'json'],
      ['app/config', 'delete', undefined],
    ]);
    expect(changeKeys(p)).toEqual(['app/config', 'app/other', 'app/config']);
    expect(changeKeys(a)).toEqual(['app', 'app/config', 'app/other', 'app/config', 'zzz']);
    expect(a.map((x) => x.revision)).toEqual([1, 2, 3, 4, 5]);
    const first = a[0];
    expect(first?.type === 'change' && first.timestamp).toBeInstanceOf(Date);
    for (const s of [exact, prefix, all]) s.close();
  });

  it('resumes without loss or repeat after the server cut a subscriber that fell behind', async () => {
    const { server, client } = await start(['--sse.buffer', '4']);
    // a consumer that does not read: the client stops reading, the server's queue fills, it cuts us
    const sub = client.subscribePrefix('big', { highWaterMark: 2, initialDelayMs: 50 });
    await sub.ready;
    const long = 'k'.repeat(12_000);
    let writes = 0;
    while ((await server.metrics.sseEventsDropped.get()).values[0]?.value === 0 && writes < 3000) {
      await Promise.all(Array.from({ length: 10 }, () => client.set(`big/${long}/${writes++}`, 'v')));
    }
    expect((await server.metrics.sseEventsDropped.get()).values[0]?.value).toBe(1);
    const events = await take(sub, writes, 30_000);
    expect(events.map((e) => e.revision)).toEqual(Array.from({ length: writes }, (_, i) => i + 1));
    sub.close();
  });

  it('resumes without loss or repeat across a server restart on the same SQLite file', async () => {
    const dir = makeTempDir('stash-client-sse-');
    const port = await freePort();
    const args = ['--db', join(dir, 'stash.db'), '--server.address', `127.0.0.1:${port}`];
    try {
      const { server: first, client } = await start(args);
      const sub = client.subscribeAll({ initialDelayMs: 200, maxDelayMs: 400 });
      await sub.ready;
      await client.set('a', '1');
      await client.set('b', '2');
      const before = await take(sub, 2);
      await first.close(); // ends the stream; the client keeps retrying
      servers.splice(servers.indexOf(first), 1);
      const second = await startTestServer(['--server.shutdown-timeout', '300ms', ...args]);
      servers.push(second);
      await client.set('c', '3'); // probably before the client is back: replayed from the log
      const after = await take(sub, 1);
      await client.set('d', '4');
      after.push(...(await take(sub, 1)));
      expect([...before, ...after].map((e) => e.revision)).toEqual([1, 2, 3, 4]);
      expect(changeKeys(after)).toEqual(['c', 'd']);
      sub.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('surfaces reset when the server pruned past the resume point', async () => {
    const { server, client } = await start();
    for (let i = 0; i < 4; i++) await client.set('same', String(i));
    await server.store.pruneHistory(new Date(Date.now() + 60_000), 1);
    const sub = client.subscribeAll({ since: 1 });
    const [reset] = await take(sub, 1);
    expect(reset).toEqual({ type: 'reset', revision: 4 });
    await client.set('same', 'live');
    const [next] = await take(sub, 1);
    expect(next).toMatchObject({ type: 'change', revision: 5 });
    sub.close();
  });

  it('watch(key) yields the current value, then the value after each change', async () => {
    const { client } = await start();
    const values: Array<string | undefined> = [];
    const watching = (async () => {
      for await (const value of client.watch('live/config')) {
        values.push(value);
        if (values.length === 4) break;
      }
    })();
    /** poll until the watch has yielded `n` values; fails after 5 s */
    const until = async (n: number): Promise<void> => {
      for (let i = 0; values.length < n; i++) {
        if (i === 500) throw new Error(`watch yielded ${values.length} of ${n} values: ${JSON.stringify(values)}`);
        await new Promise((r) => setTimeout(r, 10));
      }
    };
    await until(1);
    await client.set('live/config', 'v1');
    await until(2);
    await client.set('live/config', 'v2');
    await until(3);
    await client.delete('live/config');
    await watching;
    expect(values).toEqual([undefined, 'v1', 'v2', undefined]);
  });

  it('rejects an empty key locally; an empty prefix means every key', async () => {
    const { client } = await start();
    expect(() => client.subscribe('  ')).toThrow(/key is required/);
    const all = client.subscribePrefix('');
    await all.ready;
    await client.set('x', '1');
    expect(changeKeys(await take(all, 1))).toEqual(['x']);
    all.close();
  });
});

import { connect, type Socket } from 'node:net';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { afterEach, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../helpers/test-server.js';
import { eventually, metricValue, openStream, put } from './sse-helpers.js';

const servers: TestServer[] = [];
async function start(args: string[] = []): Promise<TestServer> {
  const s = await startTestServer(['--server.shutdown-timeout', '300ms', ...args]);
  servers.push(s);
  return s;
}
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

/** A subscriber that sends its request and then never reads a byte. */
function stalledSubscriber(url: string, path: string): Promise<Socket> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname, () => {
      socket.write(`GET ${path} HTTP/1.1\r\nHost: ${hostname}\r\n\r\n`);
      socket.pause();
      resolve(socket);
    });
    socket.once('error', reject);
  });
}

const subscribers = (s: TestServer): Promise<number> => metricValue(s.metrics.sseSubscribers);

/**
 * Read a change stream off a raw socket (resuming it), keeping only the event ids: cheap for
 * megabytes of events, where re-parsing the whole text per chunk would not be.
 */
function readIds(socket: Socket): { socket: Socket; ids: number[]; waitFor(id: number, timeoutMs?: number): Promise<void> } {
  const ids: number[] = [];
  const waiters = new Set<() => void>();
  let partial = ''; // an incomplete last line
  socket.setEncoding('latin1');
  socket.on('data', (data: string) => {
    const text = partial + data;
    const end = text.lastIndexOf('\n') + 1;
    for (const m of text.slice(0, end).matchAll(/^id: (\d+)$/gm)) ids.push(Number(m[1]));
    partial = text.slice(end);
    for (const w of waiters) w();
  });
  socket.resume();
  const waitFor = (id: number, timeoutMs = 10_000): Promise<void> =>
    new Promise((resolve, reject) => {
      const check = (): void => {
        if ((ids.at(-1) ?? 0) < id) return;
        clearTimeout(timer);
        waiters.delete(check);
        resolve();
      };
      const timer = setTimeout(() => {
        waiters.delete(check);
        reject(new Error(`expected event ${id}, the last was ${ids.at(-1) ?? 'none'}`));
      }, timeoutMs);
      waiters.add(check);
      check();
    });
  return { socket, ids, waitFor };
}

describe('slow and misbehaving subscribers', () => {
  it('disconnects a subscriber that stops reading once its queue is full; writers never wait', async () => {
    const server = await start(['--sse.buffer', '32']);
    const healthy = await openStream(`${server.url}/kv/subscribe/*`);
    const stalled = await stalledSubscriber(server.url, '/kv/subscribe/*');
    await eventually(async () => (await subscribers(server)) === 2);

    // long keys make big events, so the socket buffers fill after a few hundred writes
    const long = 'k'.repeat(12_000);
    const statuses: number[] = [];
    let writes = 0;
    while ((await metricValue(server.metrics.sseEventsDropped)) === 0 && writes < 4000) {
      const batch = await Promise.all(Array.from({ length: 10 }, () => put(server.url, `${long}/${writes++}`, 'v')));
      statuses.push(...batch);
    }
    expect(await metricValue(server.metrics.sseEventsDropped)).toBe(1);
    expect(statuses.every((s) => s === 201)).toBe(true);
    await eventually(async () => (await subscribers(server)) === 1);

    // the healthy subscriber got every event, in order
    await healthy.waitFor((x) => x.changes().length === writes, 10_000);
    const revs = healthy.changes().map((c) => c.revision);
    expect(revs).toEqual(Array.from({ length: writes }, (_, i) => i + 1));
    healthy.close();
    stalled.destroy();
  });

  it('writers do not wait for a subscriber whose socket is full: its events queue, bounded by --sse.buffer', async () => {
    const server = await start(['--sse.buffer', '100000']);
    const healthy = readIds(await stalledSubscriber(server.url, '/kv/subscribe/*'));
    const stalled = await stalledSubscriber(server.url, '/kv/subscribe/*');
    await eventually(async () => (await subscribers(server)) === 2);
    // 40 kB keys make 40 kB events: the socket buffers fill after about a hundred
    const long = 'k'.repeat(40_000);
    let writes = 0;
    /** 20 writes in one batch, answered; returns once the healthy stream has every change so far */
    const round = async (): Promise<void> => {
      const items = Array.from({ length: 20 }, () => ({ key: `${long}/${writes++}`, value: 'v' }));
      const res = await fetch(`${server.url}/kv/`, { method: 'POST', body: JSON.stringify(items) });
      expect(await res.text()).toBe(`{"revision":${writes}}\n`);
      await healthy.waitFor(writes);
    };
    // the hub hands each change to both streams at once, and the healthy one has all of them, so
    // what the server wrote to the stalled socket is the sent counter minus the healthy share;
    // fewer than were committed means the rest wait in the stalled subscriber's queue
    const writtenToStalled = async (): Promise<number> => (await metricValue(server.metrics.sseEventsSent)) - writes;
    while ((await writtenToStalled()) === writes && writes < 4000) await round();
    expect(await writtenToStalled()).toBeLessThan(writes);

    // its socket stays full and unread: 100 more writes are answered all the same
    for (let i = 0; i < 5; i++) await round();
    expect(await writtenToStalled()).toBeLessThan(writes - 100); // still queued, not sent
    expect(await metricValue(server.metrics.sseEventsDropped)).toBe(0); // within its buffer: kept
    expect(await subscribers(server)).toBe(2);

    // once it reads again, its queue drains: every change, in order
    const late = readIds(stalled);
    await late.waitFor(writes);
    expect(late.ids).toEqual(Array.from({ length: writes }, (_, i) => i + 1));
    expect(healthy.ids).toEqual(late.ids);
    healthy.socket.destroy();
    stalled.destroy();
  });

  it('survives 500 rapid connects and disconnects and returns to zero subscribers', async () => {
    const server = await start();
    const { hostname, port } = new URL(server.url);
    const once = (i: number): Promise<void> =>
      new Promise((resolve) => {
        const socket = connect(Number(port), hostname, () => {
          socket.write(`GET /kv/subscribe/${i % 3 === 0 ? '*' : `churn/${i}`} HTTP/1.1\r\nHost: x\r\nLast-Event-ID: 0\r\n\r\n`);
          // some leave at once, some after the headers arrived
          if (i % 2 === 0) socket.destroy();
          else socket.once('data', () => socket.destroy());
        });
        socket.on('close', () => resolve());
        socket.on('error', () => undefined);
      });
    for (let i = 0; i < 500; i += 50) {
      await Promise.all(Array.from({ length: 50 }, (_, j) => once(i + j)));
      await put(server.url, `churn/${i}`, 'v');
    }
    await eventually(async () => (await subscribers(server)) === 0);
    // still serving: a fresh subscriber gets a fresh write
    const s = await openStream(`${server.url}/kv/subscribe/after`);
    expect(await put(server.url, 'after', 'v')).toBe(201);
    await s.waitFor((x) => x.changes().length === 1);
    s.close();
    await eventually(async () => (await subscribers(server)) === 0);
  });

  it('returns to its memory baseline after 1000 subscribers leave', async () => {
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    const server = await start();
    const { hostname, port } = new URL(server.url);
    const heap = async (): Promise<number> => {
      for (let i = 0; i < 3; i++) {
        gc();
        await new Promise((r) => setTimeout(r, 20));
      }
      return process.memoryUsage().heapUsed;
    };
    const round = async (): Promise<void> => {
      const sockets = await Promise.all(
        Array.from(
          { length: 1000 },
          (_, i) =>
            new Promise<Socket>((resolve) => {
              const socket = connect(Number(port), hostname, () => {
                socket.write(`GET /kv/subscribe/${i % 2 ? 'mem/*' : 'mem/k'} HTTP/1.1\r\nHost: x\r\n\r\n`);
              });
              socket.once('data', () => resolve(socket));
              socket.on('data', () => undefined);
            }),
        ),
      );
      await eventually(async () => (await subscribers(server)) === 1000);
      for (let i = 0; i < 3; i++) await put(server.url, 'mem/k', String(i));
      for (const s of sockets) s.destroy();
      await eventually(async () => (await subscribers(server)) === 0);
    };
    await round(); // warm up: JIT, pools, lazily created structures
    const before = await heap();
    await round();
    await round();
    const after = await heap();
    expect(after - before).toBeLessThan(4 * 1024 * 1024);
  });
});


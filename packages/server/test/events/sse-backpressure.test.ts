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

  it('keeps PUT latency independent of a stalled subscriber', async () => {
    const server = await start(['--sse.buffer', '1024']);
    const timePuts = async (tag: string): Promise<number> => {
      const t = performance.now();
      for (let i = 0; i < 100; i++) await put(server.url, `${tag}/${'x'.repeat(2000)}/${i}`, 'v');
      return performance.now() - t;
    };
    await timePuts('warm');
    const base = await timePuts('base');
    const stalled = await stalledSubscriber(server.url, '/kv/subscribe/*');
    await eventually(async () => (await subscribers(server)) === 1);
    const withStalled = await timePuts('stalled');
    // loose bound: a blocking publish would stall completely once the socket buffers are full
    expect(withStalled).toBeLessThan(base * 3 + 500);
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


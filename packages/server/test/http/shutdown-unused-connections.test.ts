import { connect, type Socket } from 'node:net';
import { describe, expect, it } from 'vitest';
import { startTestServer } from '../helpers/test-server.js';

/** Resolves with what settled first: the work, or the bound (a shutdown stuck on a socket). */
function within<T>(work: Promise<T>, ms: number): Promise<T | 'still waiting'> {
  return Promise.race([work, new Promise<'still waiting'>((r) => setTimeout(() => r('still waiting'), ms).unref())]);
}

async function openSocket(url: string): Promise<Socket> {
  const socket = connect(Number(new URL(url).port), '127.0.0.1');
  socket.on('error', () => undefined);
  await new Promise((r) => socket.once('connect', r));
  return socket;
}

describe('graceful shutdown with connections that carry no request', () => {
  it('closes a connection that never sent a request instead of waiting for the shutdown timeout', async () => {
    // a browser's preconnect or a client pool's spare socket; the timeout is far above the bound below
    const server = await startTestServer(['--server.shutdown-timeout=60s']);
    const silent = await openSocket(server.url);
    const closedByServer = new Promise<void>((r) => silent.once('close', () => r()));
    // and a keep-alive connection between requests, which Node already treats as idle
    const res = await fetch(`${server.url}/ping`);
    expect(await res.text()).toBe('pong');
    expect(await within(server.close(), 10_000)).toBeUndefined();
    expect(await within(closedByServer, 1_000)).toBeUndefined();
  });

  it('still lets a request in flight finish', async () => {
    const server = await startTestServer(['--server.shutdown-timeout=60s']);
    const socket = await openSocket(server.url);
    let answer = '';
    socket.setEncoding('utf8').on('data', (d: string) => (answer += d));
    // headers sent, body pending: the request is in flight when the shutdown starts
    socket.write('PUT /kv/shutdown/key HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhel');
    const inFlight = async (): Promise<number | undefined> =>
      (await server.metrics.registry.getSingleMetric('stash_http_requests_in_flight')?.get())?.values[0]?.value;
    const deadline = Date.now() + 5_000;
    while (Date.now() < deadline && (await inFlight()) !== 1) await new Promise((r) => setTimeout(r, 10));
    expect(await inFlight()).toBe(1);
    const closing = server.close();
    socket.write('lo');
    expect(await within(closing, 10_000)).toBeUndefined();
    expect(answer).toMatch(/^HTTP\/1\.1 201 /);
    socket.destroy();
  });
});

import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../helpers/test-server.js';
import { del, eventually, metricValue, openStream, put, rawGet } from './sse-helpers.js';

let server: TestServer;

beforeAll(async () => {
  server = await startTestServer(['--sse.heartbeat', '200ms', '--server.shutdown-timeout', '300ms']);
});
afterAll(async () => {
  await server.close();
});

const EVENT = /^id: (\d+)\nevent: change\ndata: \{"key":"[^"]*","action":"(create|update|delete)","timestamp":"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ","revision":(\d+)(,"format":"[a-z]+")?\}\n\n$/;

describe('GET /kv/subscribe (compat 5.6)', () => {
  it('answers 200 text/event-stream with the global headers before any event', async () => {
    const s = await openStream(`${server.url}/kv/subscribe/nothing/here`);
    expect(s.status).toBe(200);
    expect(s.headers.get('content-type')).toBe('text/event-stream');
    expect(s.headers.get('app-name')).toBe('stash');
    expect(s.headers.get('x-request-id')).toMatch(/^[0-9a-f]{40}$/);
    expect(s.headers.get('cache-control')).toBeNull();
    s.close();
  });

  it('delivers an exact-key subscription only its key, with create/update/delete', async () => {
    const s = await openStream(`${server.url}/kv/subscribe/exact/key`);
    await put(server.url, 'exact/key/child', 'x');
    await put(server.url, 'exact/key', 'v1');
    await put(server.url, 'exact/key', 'v2');
    await del(server.url, 'exact/key');
    await s.waitFor((x) => x.changes().length >= 3);
    const changes = s.changes();
    expect(changes.map((c) => [c.key, c.action])).toEqual([
      ['exact/key', 'create'],
      ['exact/key', 'update'],
      ['exact/key', 'delete'],
    ]);
    expect(changes[0]?.format).toBe('text');
    expect(changes[2]).not.toHaveProperty('format');
    const revs = changes.map((c) => c.revision);
    expect(revs[1]).toBe((revs[0] ?? 0) + 1);
    s.close();
  });

  it('treats p/*, p/ and p/%2A as the prefix p/ (not the key p itself)', async () => {
    const streams = await Promise.all(
      ['pre/*', 'pre/', 'pre/%2A', '%70re/%2a'].map((p) => openStream(`${server.url}/kv/subscribe/${p}`)),
    );
    await put(server.url, 'pre', 'not me');
    await put(server.url, 'prefix', 'not me either');
    await put(server.url, 'pre/a', '1');
    await put(server.url, 'pre/deep/b', '2');
    for (const s of streams) {
      await s.waitFor((x) => x.changes().length >= 2);
      expect(s.changes().map((c) => c.key)).toEqual(['pre/a', 'pre/deep/b']);
      s.close();
    }
  });

  it('sends everything to * and %2A, in revision order', async () => {
    const a = await openStream(`${server.url}/kv/subscribe/*`);
    const b = await openStream(`${server.url}/kv/subscribe/%2A`);
    await Promise.all(Array.from({ length: 20 }, (_, i) => put(server.url, `all/k${i}`, String(i))));
    for (const s of [a, b]) {
      await s.waitFor((x) => x.changes().filter((c) => c.key.startsWith('all/')).length >= 20);
      const revs = s.changes().map((c) => c.revision);
      expect(revs).toEqual([...revs].sort((x, y) => x - y));
      expect(new Set(revs).size).toBe(revs.length);
      s.close();
    }
  });

  it('normalises an exact key and percent-decodes it', async () => {
    const s = await openStream(`${server.url}/kv/subscribe/with%20space/%E2%9C%93`);
    await put(server.url, 'with_space/%E2%9C%93', 'v');
    await s.waitFor((x) => x.changes().length >= 1);
    expect(s.changes()[0]?.key).toBe('with_space/✓');
    s.close();
  });

  it('answers 400 key path required (plain text) for an empty path', async () => {
    for (const path of ['', '%20', '%2F']) {
      const res = await fetch(`${server.url}/kv/subscribe/${path}`);
      expect(res.status).toBe(400);
      expect(res.headers.get('content-type')).toBe('text/plain; charset=utf-8');
      expect(await res.text()).toBe('key path required\n');
    }
  });

  it('treats `..` as part of a key name, never as a path escape', async () => {
    // fetch would resolve the dots itself; a raw request shows the router's 301 to the cleaned path
    const redirected = await rawGet(server.url, '/kv/subscribe/a/../../b');
    expect(redirected.head()).toMatch(/^HTTP\/1\.1 301 /);
    expect(redirected.head()).toMatch(/\r\nlocation: \/kv\/b\r\n/i);
    redirected.close();
    const s = await openStream(`${server.url}/kv/subscribe/%2E%2E%2Fx`);
    expect(s.status).toBe(200);
    await put(server.url, 'a/%2E%2E%2Fx', 'dots');
    await put(server.url, '%2E%2E%2Fx', 'dots');
    await s.waitFor((x) => x.changes().length >= 1);
    expect(s.changes()[0]?.key).toBe('../x');
    s.close();
    const bad = await fetch(`${server.url}/kv/subscribe/%E0%A4%A`);
    expect(bad.status).toBe(400);
  });

  it('writes the events of one batch to a subscriber each as one whole chunk, in revision order', async () => {
    const raw = await rawGet(server.url, '/kv/subscribe/many/*');
    const keys = Array.from({ length: 20 }, (_, i) => `many/k${i}`);
    const res = await fetch(`${server.url}/kv/`, { method: 'POST', body: JSON.stringify(keys.map((key) => ({ key, value: 'v' }))) });
    expect(res.status).toBeLessThan(300);
    await eventually(() => raw.chunks().filter((c) => !c.startsWith(':')).length >= 20);
    const events = raw.chunks().filter((c) => !c.startsWith(':'));
    expect(events).toHaveLength(20);
    for (const chunk of events) expect(chunk).toMatch(EVENT);
    const revisions = events.map((chunk) => Number(EVENT.exec(chunk)?.[1]));
    expect(revisions).toEqual([...revisions].sort((a, b) => a - b));
    expect(events.map((chunk) => /"key":"([^"]+)"/.exec(chunk)?.[1])).toEqual(keys);
    raw.close();
  });

  it('streams an HTTP/1.0 client the bare events, without chunked framing', async () => {
    const { hostname, port } = new URL(server.url);
    const socket = connect(Number(port), hostname);
    let text = '';
    socket.on('data', (data: Buffer) => (text += data.toString('utf8')));
    socket.write(`GET /kv/subscribe/old/* HTTP/1.0\r\nHost: ${hostname}:${port}\r\n\r\n`);
    await eventually(() => text.includes('\r\n\r\n'));
    await put(server.url, 'old/a', '1');
    await put(server.url, 'old/a', '2');
    await eventually(() => (text.match(/event: change/g) ?? []).length >= 2);
    const [head, body] = text.split('\r\n\r\n') as [string, string];
    expect(head).toMatch(/^HTTP\/1\.[01] 200 OK\r\n/);
    expect(head).not.toMatch(/transfer-encoding/i);
    const events = body.split(/(?<=\n\n)/).filter((e) => !e.startsWith(':'));
    expect(events).toHaveLength(2);
    for (const event of events) expect(event).toMatch(EVENT);
    socket.destroy();
  });

  it('writes each event as exactly one HTTP chunk, LF only, fields in order', async () => {
    const raw = await rawGet(server.url, '/kv/subscribe/wire/*');
    expect(raw.head()).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
    expect(raw.head()).toMatch(/\r\ncontent-type: text\/event-stream\r\n/i);
    expect(raw.head()).toMatch(/\r\ntransfer-encoding: chunked/i);
    await put(server.url, 'wire/a', '1');
    await put(server.url, 'wire/a', '2');
    await del(server.url, 'wire/a');
    await raw.waitForChunks(3);
    await eventually(() => raw.chunks().filter((c) => !c.startsWith(':')).length >= 3);
    const events = raw.chunks().filter((c) => !c.startsWith(':'));
    for (const chunk of events) {
      expect(chunk).toMatch(EVENT);
      expect(chunk).not.toContain('\r');
      const [, id, , rev] = EVENT.exec(chunk) ?? [];
      expect(id).toBe(rev);
    }
    expect(events[0]).toMatch(/"action":"create".*"format":"text"\}/);
    expect(events[2]).toMatch(/"action":"delete","timestamp":"[^"]+","revision":\d+\}\n\n$/);
    // what the official TS SDK does: split one network chunk on \n, `event:` then `data:` lines
    for (const chunk of events) {
      const lines = chunk.split('\n');
      expect(lines.find((l) => l.startsWith('event:'))).toBe('event: change');
      expect(JSON.parse(lines.find((l) => l.startsWith('data:'))?.slice(5) ?? '')).toHaveProperty('key', 'wire/a');
    }
    raw.close();
  });

  it('sends `: ping` heartbeats as separate comment chunks', async () => {
    const raw = await rawGet(server.url, '/kv/subscribe/quiet');
    await raw.waitForChunks(2, 3000);
    expect(raw.chunks().slice(0, 2)).toEqual([': ping\n\n', ': ping\n\n']);
    raw.close();
  });

  it('escapes keys like Go does and keeps data on one line', async () => {
    const s = await openStream(`${server.url}/kv/subscribe/esc/*`);
    await put(server.url, 'esc/%3Cb%3E%26%0A%E2%80%A8/x', 'v');
    await s.waitFor((x) => x.changes().length >= 1);
    expect(s.text()).toContain('"key":"esc/\\u003cb\\u003e\\u0026\\n\\u2028/x"');
    expect(s.changes()[0]?.key).toBe('esc/<b>&\n\u2028/x');
    s.close();
  });

  it('counts subscribers and events in the metrics', async () => {
    await eventually(async () => (await metricValue(server.metrics.sseSubscribers)) === 0);
    const sent = await metricValue(server.metrics.sseEventsSent);
    const s = await openStream(`${server.url}/kv/subscribe/metered`);
    await eventually(async () => (await metricValue(server.metrics.sseSubscribers)) === 1);
    await put(server.url, 'metered', 'v');
    await s.waitFor((x) => x.changes().length === 1);
    expect(await metricValue(server.metrics.sseEventsSent)).toBe(sent + 1);
    s.close();
    await eventually(async () => (await metricValue(server.metrics.sseSubscribers)) === 0);
  });

  it('does not count streams against --limits.max-concurrent', async () => {
    const limited = await startTestServer(['--limits.max-concurrent', '2']);
    try {
      const streams = await Promise.all([1, 2, 3].map(() => openStream(`${limited.url}/kv/subscribe/*`)));
      expect(streams.map((s) => s.status)).toEqual([200, 200, 200]);
      expect(await put(limited.url, 'k', 'v')).toBe(201);
      for (const s of streams) s.close();
    } finally {
      await limited.close();
    }
  });

  it('answers HEAD with the stream headers and no body', async () => {
    const res = await fetch(`${server.url}/kv/subscribe/*`, { method: 'HEAD' });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/event-stream');
    expect(await res.text()).toBe('');
  });

  it('serves streams under --server.base-url', async () => {
    const based = await startTestServer(['--server.base-url', '/stash', '--server.shutdown-timeout', '300ms']);
    try {
      const s = await openStream(`${based.url}/stash/kv/subscribe/b/*`);
      expect(s.status).toBe(200);
      await fetch(`${based.url}/stash/kv/b/1`, { method: 'PUT', body: 'v' });
      await s.waitFor((x) => x.changes().length === 1);
      expect(s.changes()[0]?.key).toBe('b/1');
      s.close();
    } finally {
      await based.close();
    }
  });
});

describe('changes gathered for fan-out', () => {
  it('delivers what was committed right before a shutdown ahead of the end of the stream', async () => {
    const closing = await startTestServer(['--server.shutdown-timeout', '300ms']);
    const s = await openStream(`${closing.url}/kv/subscribe/last/*`);
    const revisions: number[] = [];
    for (let i = 0; i < 5; i++) {
      const res = await fetch(`${closing.url}/kv/last/${i}`, { method: 'PUT', body: 'v' });
      revisions.push(Number(res.headers.get('x-stash-revision')));
    }
    await closing.close(); // at once: the last changes may still be gathered for fan-out
    await s.ended;
    expect(s.endState()).toBe('done');
    expect(s.changes().map((c) => c.revision)).toEqual(revisions);
  });

  it('writes a burst of changes to each subscriber in revision order, each event whole', async () => {
    const streams = await Promise.all(Array.from({ length: 5 }, () => openStream(`${server.url}/kv/subscribe/burst/*`)));
    const items = Array.from({ length: 300 }, (_, i) => ({ key: `burst/${i}`, value: String(i) }));
    const res = await fetch(`${server.url}/kv/`, { method: 'POST', body: JSON.stringify(items) });
    expect(res.status).toBe(200);
    const writes = await Promise.all(Array.from({ length: 50 }, (_, i) => put(server.url, `burst/single/${i}`, 'x')));
    expect(writes.every((status) => status === 201)).toBe(true);
    for (const s of streams) {
      await s.waitFor((x) => x.changes().length === 350, 10_000);
      const revs = s.changes().map((c) => c.revision);
      expect(revs).toEqual([...revs].sort((a, b) => a - b));
      expect(new Set(revs).size).toBe(350);
      s.close();
    }
  });
});

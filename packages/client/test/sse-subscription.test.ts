import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ForbiddenError, Subscription, type StreamSource, type SubscriptionEvent } from '@stash/client';

/** A controllable event-stream response. */
function streamResponse(status = 200, headers: Record<string, string> = { 'content-type': 'text/event-stream' }) {
  let controller!: ReadableStreamDefaultController<Uint8Array>;
  const body = new ReadableStream<Uint8Array>({ start: (c) => (controller = c) });
  const enc = new TextEncoder();
  return {
    response: new Response(body, { status, headers }),
    send: (text: string) => controller.enqueue(enc.encode(text)),
    end: () => controller.close(),
    fail: () => controller.error(new TypeError('connection reset')),
  };
}

interface Call {
  at: number;
  url: string;
  headers: Record<string, string>;
}

/** A StreamSource whose fetch answers with the queued behaviours, recording each call. */
function source(behaviours: Array<() => Promise<Response>>): StreamSource & { calls: Call[] } {
  const calls: Call[] = [];
  return {
    calls,
    url: (path) => `http://stash.test${path}`,
    authHeaders: () => ({ authorization: 'Bearer t' }),
    fetch: ((url: string, init: RequestInit) => {
      calls.push({ at: Date.now(), url, headers: init.headers as Record<string, string> });
      const next = behaviours.shift();
      if (!next) return new Promise(() => undefined); // hang: no more scripted answers
      return next();
    }) as typeof fetch,
  };
}

const refused = (): Promise<Response> => Promise.reject(new TypeError('fetch failed'));
const change = (rev: number, key = 'k'): string =>
  `id: ${rev}\nevent: change\ndata: {"key":"${key}","action":"update","timestamp":"2026-01-03T10:30:00Z","revision":${rev},"format":"json"}\n\n`;

async function take(sub: Subscription, n: number): Promise<SubscriptionEvent[]> {
  const out: SubscriptionEvent[] = [];
  const it = sub[Symbol.asyncIterator]();
  while (out.length < n) {
    const r = await it.next();
    if (r.done) break;
    out.push(r.value);
  }
  return out;
}

beforeEach(() => {
  vi.useFakeTimers({ now: 0 });
});
afterEach(() => {
  vi.useRealTimers();
});

describe('Subscription reconnects', () => {
  it('backs off 1 s, 2 s, 4 s ... capped at 30 s while the server is unreachable', async () => {
    const src = source(Array.from({ length: 8 }, () => refused));
    const errors: string[] = [];
    const sub = new Subscription(src, '/kv/subscribe/k', { onError: (e) => errors.push(e.name) });
    await vi.advanceTimersByTimeAsync(200_000);
    const gaps = src.calls.slice(1).map((c, i) => c.at - (src.calls[i]?.at ?? 0));
    expect(gaps.slice(0, 8)).toEqual([1000, 2000, 4000, 8000, 16000, 30000, 30000, 30000].slice(0, gaps.length));
    expect(gaps.length).toBeGreaterThanOrEqual(7);
    expect(errors.every((n) => n === 'ConnectionError')).toBe(true);
    sub.close();
  });

  it('resets the backoff after a successful connect and resumes with Last-Event-ID', async () => {
    const first = streamResponse();
    const second = streamResponse();
    const src = source([refused, refused, async () => first.response, refused, async () => second.response]);
    const sub = new Subscription(src, '/kv/subscribe/k');
    await vi.advanceTimersByTimeAsync(3000); // attempts at 0, 1000, 3000
    expect(src.calls).toHaveLength(3);
    first.send(change(5));
    first.send(change(6).slice(0, 20)); // half an event, then the connection drops
    first.fail();
    await vi.advanceTimersByTimeAsync(999);
    expect(src.calls).toHaveLength(3);
    await vi.advanceTimersByTimeAsync(1); // back to 1 s after the successful connect
    expect(src.calls).toHaveLength(4);
    await vi.advanceTimersByTimeAsync(2000);
    expect(src.calls).toHaveLength(5);
    expect(src.calls[4]?.headers['last-event-id']).toBe('5');
    expect(src.calls[4]?.headers['authorization']).toBe('Bearer t');
    second.send(change(6));
    const events = await take(sub, 2);
    expect(events.map((e) => e.revision)).toEqual([5, 6]);
    expect(events[0]).toEqual({
      type: 'change',
      key: 'k',
      action: 'update',
      timestamp: new Date('2026-01-03T10:30:00Z'),
      revision: 5,
      format: 'json',
    });
    sub.close();
  });

  it('reconnects after the server ends the stream, using ?since= from the start revision header', async () => {
    const first = streamResponse(200, { 'content-type': 'text/event-stream', 'x-stash-revision': '41' });
    const second = streamResponse();
    const src = source([async () => first.response, async () => second.response]);
    const sub = new Subscription(src, '/kv/subscribe/*');
    await vi.advanceTimersByTimeAsync(0);
    first.end(); // graceful shutdown before any event
    await vi.advanceTimersByTimeAsync(1000);
    expect(src.calls[1]?.url).toBe('http://stash.test/kv/subscribe/*?since=41');
    expect(src.calls[1]?.headers['last-event-id']).toBeUndefined();
    sub.close();
  });

  it('surfaces reset as its own event type', async () => {
    const s = streamResponse();
    const sub = new Subscription(source([async () => s.response]), '/kv/subscribe/*', { since: 3 });
    await vi.advanceTimersByTimeAsync(0);
    s.send(': ping\n\nid: 9\nevent: reset\ndata: {"revision":9}\n\nevent: other\ndata: {}\n\n' + change(10));
    const events = await take(sub, 2);
    expect(events).toEqual([{ type: 'reset', revision: 9 }, expect.objectContaining({ type: 'change', revision: 10 })]);
    expect(sub.lastEventId).toBe('10');
    sub.close();
  });

  it('sends ?since= on the first connect only', async () => {
    const a = streamResponse();
    const src = source([async () => a.response, refused]);
    const sub = new Subscription(src, '/kv/subscribe/k', { since: 12 });
    await vi.advanceTimersByTimeAsync(0);
    a.send(change(13));
    a.fail();
    await vi.advanceTimersByTimeAsync(1000);
    expect(src.calls.map((c) => c.url)).toEqual(['http://stash.test/kv/subscribe/k?since=12', 'http://stash.test/kv/subscribe/k']);
    expect(src.calls[1]?.headers['last-event-id']).toBe('13');
    sub.close();
  });

  it('ends with the typed error on 403 instead of retrying', async () => {
    const src = source([async () => new Response('access denied\n', { status: 403 })]);
    const sub = new Subscription(src, '/kv/subscribe/secret');
    await vi.advanceTimersByTimeAsync(0);
    await expect(take(sub, 1)).rejects.toBeInstanceOf(ForbiddenError);
    await vi.advanceTimersByTimeAsync(60_000);
    expect(src.calls).toHaveLength(1);
  });

  it('retries a 503 and a non-event-stream answer', async () => {
    const ok = streamResponse();
    const src = source([
      async () => new Response('', { status: 503 }),
      async () => new Response('<html>', { status: 200, headers: { 'content-type': 'text/html' } }),
      async () => ok.response,
    ]);
    const sub = new Subscription(src, '/kv/subscribe/k');
    await vi.advanceTimersByTimeAsync(3000);
    expect(src.calls).toHaveLength(3);
    sub.close();
  });

  it('close() ends iteration and stops reconnecting; asyncDispose does the same', async () => {
    const s = streamResponse();
    const src = source([async () => s.response]);
    const sub = new Subscription(src, '/kv/subscribe/k');
    await vi.advanceTimersByTimeAsync(0);
    const pending = take(sub, 1);
    sub.close();
    sub.close();
    expect(await pending).toEqual([]);
    await vi.advanceTimersByTimeAsync(60_000);
    expect(src.calls).toHaveLength(1);

    const other = new Subscription(source([refused]), '/kv/subscribe/k');
    await other[Symbol.asyncDispose]();
    expect(other.closed).toBe(true);
  });

  it('reconnects when nothing arrives within idleTimeoutMs', async () => {
    const a = streamResponse();
    const b = streamResponse();
    const src = source([async () => a.response, async () => b.response]);
    const sub = new Subscription(src, '/kv/subscribe/k', { idleTimeoutMs: 5000 });
    await vi.advanceTimersByTimeAsync(4000);
    a.send(': ping\n\n');
    await vi.advanceTimersByTimeAsync(4000);
    expect(src.calls).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1000 + 1000);
    expect(src.calls).toHaveLength(2);
    sub.close();
  });

  it('ends when its client closes, and rejects on an already closed client', async () => {
    const clientClosed = new AbortController();
    const s = streamResponse();
    const src = { ...source([async () => s.response]), closeSignal: clientClosed.signal };
    const sub = new Subscription(src, '/kv/subscribe/k');
    await vi.advanceTimersByTimeAsync(0);
    const pending = take(sub, 1);
    clientClosed.abort();
    expect(await pending).toEqual([]);
    expect(sub.closed).toBe(true);
    const late = new Subscription(src, '/kv/subscribe/k');
    await expect(take(late, 1)).rejects.toThrow('client is closed');
    expect(src.calls).toHaveLength(1);
  });

  it('wakes every pending next() call', async () => {
    const s = streamResponse();
    const sub = new Subscription(source([async () => s.response]), '/kv/subscribe/k');
    await vi.advanceTimersByTimeAsync(0);
    const it = sub[Symbol.asyncIterator]();
    const both = Promise.all([it.next(), it.next()]);
    s.send(change(1) + change(2));
    const [a, b] = await both;
    expect([a.value?.revision, b.value?.revision]).toEqual([1, 2]);
    sub.close();
  });
});


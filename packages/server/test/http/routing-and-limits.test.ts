import { connect, type Socket } from 'node:net';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../helpers/test-server.js';
import { TEXT, expectPlain } from './expect-http.js';
import { httpRequest, parseRawResponse, rawExchange, rawRequest, type RawResponse } from './raw-http.js';


describe('routing (compat 3.3)', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(async () => {
    await server.close();
  });

  it.each(['/ping', '/kv/x/ping', '/anything/at/all/PING', '/ping?x=1', '/kv//ping'])('GET %s answers pong', async (path) => {
    const res = await httpRequest(server.url, path);
    expect({ status: res.status, type: res.headers['content-type'], body: res.text }).toEqual({ status: 200, type: 'text/plain', body: 'pong' });
    expect(res.headers['app-name']).toBe('stash');
  });

  it('ping is GET only, as rest.Ping: HEAD /kv/x/ping reads the key, PUT writes it', async () => {
    expect((await httpRequest(server.url, '/kv/x/ping', { method: 'PUT', body: 'v' })).status).toBe(201);
    expect((await server.store.get('x/ping'))?.value.toString()).toBe('v');
    const head = await httpRequest(server.url, '/kv/x/ping', { method: 'HEAD' });
    expect(head.headers['content-length']).toBe('1');
    expect((await httpRequest(server.url, '/ping', { method: 'HEAD' })).status).toBe(404);
  });

  it('GET /kv redirects 301 to /kv/ keeping the query, with Go\'s HTML body', async () => {
    const res = await httpRequest(server.url, '/kv?prefix=a&b=<1>');
    expect(res.status).toBe(301);
    expect(res.headers['location']).toBe('/kv/?prefix=a&b=<1>');
    expect(res.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(res.text).toBe('<a href="/kv/?prefix=a&amp;b=&lt;1&gt;">Moved Permanently</a>.\n\n');
  });

  it('redirects other methods without a body; PATCH and OPTIONS /kv are 404 as in Go\'s mux', async () => {
    for (const method of ['PUT', 'DELETE', 'POST', 'HEAD']) {
      const res = await httpRequest(server.url, '/kv?x=1', { method, body: method === 'PUT' ? 'x' : undefined });
      expect({ method, status: res.status, location: res.headers['location'], body: res.text }).toEqual({ method, status: 301, location: '/kv/?x=1', body: '' });
    }
    expect((await httpRequest(server.url, '/kv', { method: 'PUT' })).headers['content-type']).toBeUndefined();
    for (const method of ['PATCH', 'OPTIONS']) expectPlain(await httpRequest(server.url, '/kv', { method }), 404, '404 page not found\n');
  });

  const unclean: Array<[string, string]> = [
    ['/kv//a?x=1', '/kv/a?x=1'],
    ['/kv/./a', '/kv/a'],
    ['/kv/../x', '/x'],
    ['/kv/a/../b?q=%20', '/kv/b?q=%20'],
    ['/kv/a/.', '/kv/a'],
    ['/kv/a/b/..', '/kv/a'],
    ['/kv/a/./', '/kv/a/'],
    ['/kv//a/', '/kv/a/'],
    ['//kv/a', '/kv/a'],
    ['/nope//x', '/nope/x'],
  ];
  it.each(unclean)('%s is 301 to %s, for GET and for writes (nothing written)', async (path, location) => {
    const get = await httpRequest(server.url, path);
    expect(get.status).toBe(301);
    expect(get.headers['location']).toBe(location);
    const before = await server.store.currentRevision();
    const put = await httpRequest(server.url, path, { method: 'PUT', body: 'x' });
    expect({ status: put.status, location: put.headers['location'], body: put.text }).toEqual({ status: 301, location, body: '' });
    expect(await server.store.currentRevision()).toBe(before);
  });

  it('escaped slashes are not cleaned: /kv/a%2F%2Fb is the key a//b', async () => {
    expect((await httpRequest(server.url, '/kv/a%2F%2Fb', { method: 'PUT', body: 'x' })).status).toBe(201);
    expect(await server.store.get('a//b')).toBeDefined();
  });

  const notAllowed: Array<[string, string, string]> = [
    ['PATCH', '/kv/some/key', 'DELETE, GET, HEAD, PUT'],
    ['OPTIONS', '/kv/some/key', 'DELETE, GET, HEAD, PUT'],
    ['TRACE', '/kv/some/key', 'DELETE, GET, HEAD, PUT'],
    ['POST', '/kv/some/key', 'DELETE, GET, HEAD, PUT'],
    ['POST', '/kv/history/x', 'DELETE, GET, HEAD, PUT'],
    ['PATCH', '/kv/', 'DELETE, GET, HEAD, POST, PUT'],
    ['OPTIONS', '/kv/', 'DELETE, GET, HEAD, POST, PUT'],
  ];
  it.each(notAllowed)('%s %s is 405 with Allow: %s', async (method, path, allow) => {
    const res = await httpRequest(server.url, path, { method, body: method === 'GET' ? undefined : 'x' });
    expectPlain(res, 405, 'Method Not Allowed\n');
    expect(res.headers['allow']).toBe(allow);
    expect(await server.store.get('some/key')).toBeUndefined();
  });

  it.each(['/nope', '/kvx', '/kv-foo/a', '/KV/a', '/favicon.ico'])('%s is 404 with the text body', async (path) => {
    const res = await httpRequest(server.url, path);
    expectPlain(res, 404, '404 page not found\n');
    expect(res.headers['app-version']).toBe('test');
  });

  it('echoes X-Request-ID or generates 40 hex characters, and sends the AppInfo headers everywhere', async () => {
    const echoed = await fetch(`${server.url}/kv/`, { headers: { 'x-request-id': 'my-trace-42' } });
    expect(echoed.headers.get('x-request-id')).toBe('my-trace-42');
    const a = await fetch(`${server.url}/nope`);
    const b = await fetch(`${server.url}/ping`);
    for (const res of [a, b]) {
      expect(res.headers.get('x-request-id')).toMatch(/^[0-9a-f]{40}$/);
      expect(res.headers.get('author')).toBeNull(); // the original's author did not write this server
      expect(res.headers.get('app-name')).toBe('stash');
      expect(res.headers.get('app-version')).toBe('test');
    }
    expect(a.headers.get('x-request-id')).not.toBe(b.headers.get('x-request-id'));
  });

});

describe('body size limit (compat 3.1 SizeLimit)', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer(['--limits.body-size', '1024']);
  });
  afterAll(async () => {
    await server.close();
  });

  it('accepts a body exactly at the limit', async () => {
    expect((await fetch(`${server.url}/kv/lim/exact`, { method: 'PUT', body: 'x'.repeat(1024) })).status).toBe(201);
  });

  it('answers 413 with an empty body for a Content-Length over the limit', async () => {
    const res = await rawRequest(
      server.url,
      `PUT /kv/lim/big HTTP/1.1\r\nHost: x\r\nContent-Length: 1025\r\nConnection: close\r\n\r\n${'x'.repeat(1025)}`,
    );
    expect(res.status).toBe(413);
    expect(res.text).toBe('');
    expect(res.headers['content-type']).toBeUndefined();
    expect(res.headers['x-request-id']).toMatch(/^[0-9a-f]{40}$/);
    expect(res.headers['author']).toBeUndefined();
    expect(await server.store.get('lim/big')).toBeUndefined();
  });

  it('answers 413 with an empty body for a chunked body that grows over the limit', async () => {
    const chunk = 'y'.repeat(600);
    const res = await rawRequest(
      server.url,
      `PUT /kv/lim/chunked HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n` +
        `258\r\n${chunk}\r\n258\r\n${chunk}\r\n0\r\n\r\n`,
    );
    expect(res.status).toBe(413);
    expect(res.text).toBe('');
    expect(res.headers['content-type']).toBeUndefined();
    expect(res.headers['author']).toBeUndefined();
    expect(await server.store.get('lim/chunked')).toBeUndefined();
  });

  it('applies to batches too', async () => {
    const before = await server.store.currentRevision();
    const res = await fetch(`${server.url}/kv/`, { method: 'POST', body: JSON.stringify([{ key: 'lim/b', value: 'z'.repeat(2000) }]) });
    expect(res.status).toBe(413);
    expect(await res.text()).toBe('');
    expect(await server.store.currentRevision()).toBe(before);
  });

  it('a body longer than its Content-Length: the value is Content-Length bytes, the rest is not a request', async () => {
    const raw = await rawExchange(server.url, 'PUT /kv/lim/long HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabcdef');
    expect(parseRawResponse(raw).status).toBe(201);
    expect(raw.toString('latin1').match(/HTTP\/1\.1 /g)).toHaveLength(1);
    expect((await server.store.get('lim/long'))?.value.toString()).toBe('abc');
  });

  it('a body shorter than its Content-Length (client gone) is the original\'s body read error 503', async () => {
    const res = await rawRequest(server.url, 'PUT /kv/lim/short HTTP/1.1\r\nHost: x\r\nContent-Length: 50\r\nConnection: close\r\n\r\nabc');
    expect(res.status).toBe(503);
    expect(res.text).toBe('');
    expect(await server.store.get('lim/short')).toBeUndefined();
  });
});

/** Poll `check` every 20 ms until it holds; fails with `what` after `timeoutMs`. */
async function until(what: string, check: () => Promise<boolean> | boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('rate limit (compat 3.1 tollbooth)', () => {
  // a server per test: a client's first request finds a full bucket, no waiting for a refill
  let server: TestServer;
  beforeEach(async () => {
    server = await startTestServer(['--limits.requests-per-sec', '5']);
  });
  afterEach(async () => {
    await server.close();
  });

  it('sends the limit headers, then 429 with the original\'s body once the burst is spent', async () => {
    const seen: RawResponse[] = [];
    for (let i = 0; i < 7; i++) seen.push(await httpRequest(server.url, i % 2 ? '/ping' : '/kv/'));
    const first = seen[0] as RawResponse;
    expect(first.status).toBe(200);
    expect(first.headers['x-rate-limit-limit']).toBe('5.00');
    expect(first.headers['x-rate-limit-duration']).toBe('1');
    expect(first.headers['x-rate-limit-request-remote-addr']).toBe('127.0.0.1');
    expect(first.headers['ratelimit-limit']).toBe('5');
    expect(first.headers['ratelimit-reset']).toBe('1');
    expect(first.headers['ratelimit-remaining']).toBe('4');
    expect(first.headers['x-rate-limit-request-forwarded-for']).toBeUndefined();
    const limited = seen.find((r) => r.status === 429);
    expect(limited, JSON.stringify(seen.map((r) => r.status))).toBeDefined();
    expect(seen.slice(0, 5).every((r) => r.status === 200)).toBe(true);
    expect(limited?.headers['content-type']).toBe(TEXT);
    expect(limited?.text).toBe('You have reached maximum request limit.');
    expect(limited?.headers['retry-after']).toBeUndefined();
    expect(limited?.headers['x-rate-limit-limit']).toBe('5.00');
    expect(limited?.headers['ratelimit-remaining']).toBe('0');
    expect(limited?.headers['x-request-id']).toBeUndefined();
  });

  it('refills at the configured rate: a refused client is served again once a token has accrued', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 6; i++) statuses.push((await httpRequest(server.url, '/ping')).status);
    expect(statuses).toEqual([200, 200, 200, 200, 200, 429]);
    // a token takes 200 ms at 5/s (a refused request takes none): poll until one is there
    let last: RawResponse | undefined;
    await until('a refilled token', async () => (last = await httpRequest(server.url, '/ping')).status === 200);
    expect(last?.headers['ratelimit-remaining']).toBe('0');
  });

  it('ignores X-Forwarded-For from an untrusted peer (it cannot dodge the limit)', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 7; i++) {
      const res = await httpRequest(server.url, '/ping', { headers: { 'x-forwarded-for': `203.0.113.${i}` } });
      expect(res.headers['x-rate-limit-request-remote-addr']).toBe('127.0.0.1');
      expect(res.headers['x-rate-limit-request-forwarded-for']).toBeUndefined();
      statuses.push(res.status);
    }
    expect(statuses).toEqual([200, 200, 200, 200, 200, 429, 429]);
  });
});

describe('fractional rate limit', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer(['--limits.requests-per-sec', '2.5']);
  });
  afterAll(async () => {
    await server.close();
  });

  it('uses the integer part as burst (SetBurst(int(rps))) and prints the rate with two decimals', async () => {
    const statuses: number[] = [];
    let first: RawResponse | undefined;
    for (let i = 0; i < 3; i++) {
      const res = await httpRequest(server.url, '/ping');
      first ??= res;
      statuses.push(res.status);
    }
    expect(statuses).toEqual([200, 200, 429]);
    expect(first?.headers['x-rate-limit-limit']).toBe('2.50');
    expect(first?.headers['ratelimit-limit']).toBe('3');
  });
});

describe('concurrency limit (compat 3.1 Throttle)', () => {
  let server: TestServer;
  const sockets: Socket[] = [];
  beforeAll(async () => {
    server = await startTestServer(['--limits.max-concurrent', '2']);
  });
  afterEach(() => {
    for (const s of sockets.splice(0)) s.destroy();
  });
  afterAll(async () => {
    await server.close();
  });

  /** Requests the server counts in flight now (its guard's count, as /metrics reports it). */
  const inFlight = (): number => server.metrics.inFlightNow;

  /** A PUT whose body trickles in: in flight until `finish()` sends the rest. */
  async function slowUpload(key: string): Promise<{ finish: () => Promise<RawResponse> }> {
    const { port } = new URL(server.url);
    const before = inFlight();
    const upload = await new Promise<{ finish: () => Promise<RawResponse> }>((resolve) => {
      const socket = connect(Number(port), '127.0.0.1', () => {
        socket.write(`PUT /kv/${key} HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\nConnection: close\r\n\r\nabcd`);
        const chunks: Buffer[] = [];
        socket.on('data', (c: Buffer) => chunks.push(c));
        const closed = new Promise<RawResponse>((done) => socket.on('close', () => done(parseRawResponse(Buffer.concat(chunks)))));
        resolve({ finish: () => (socket.write('efghij'), closed) });
      });
      sockets.push(socket);
    });
    // the server's guard has admitted this request
    await until(`${key} to be in flight`, () => inFlight() === before + 1);
    return upload;
  }

  it('answers 503 with an empty body while N requests are in flight, then recovers', async () => {
    const a = await slowUpload('conc/a');
    const b = await slowUpload('conc/b');
    for (const path of ['/kv/', '/ping']) {
      const res = await httpRequest(server.url, path);
      expect({ path, status: res.status, body: res.text }).toEqual({ path, status: 503, body: '' });
      expect(res.headers['content-type']).toBeUndefined();
    }
    expect((await a.finish()).status).toBe(201);
    expect((await b.finish()).status).toBe(201);
    expect((await httpRequest(server.url, '/kv/conc/a')).text).toBe('abcdefghij');
  });

  it('frees the slot of a client that disconnects mid-upload', async () => {
    await slowUpload('conc/gone1');
    await slowUpload('conc/gone2');
    expect((await httpRequest(server.url, '/ping')).status).toBe(503);
    for (const s of sockets.splice(0)) s.destroy();
    await until('the slots to be freed', () => inFlight() === 0);
    expect((await httpRequest(server.url, '/ping')).status).toBe(200);
    expect(await server.store.get('conc/gone1')).toBeUndefined();
  });
});

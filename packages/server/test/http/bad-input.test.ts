import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../helpers/test-server.js';
import { JSON_TYPE, expectJsonClientError, expectJsonError } from './expect-http.js';
import { httpRequest, rawExchange, rawRequest } from './raw-http.js';

let server: TestServer;
let seed: number;

beforeAll(async () => {
  server = await startTestServer(['--limits.body-size', '4096']);
  await fetch(`${server.url}/kv/keep/me`, { method: 'PUT', body: 'original', headers: { 'x-stash-format': 'json' } });
  seed = await server.store.currentRevision();
});
afterAll(async () => {
  await server.close();
});

/** Bad input must never change the store. */
async function expectUnchanged(): Promise<void> {
  expect(await server.store.currentRevision()).toBe(seed);
  const kept = await server.store.get('keep/me');
  expect(kept?.value.toString()).toBe('original');
  expect(kept?.format).toBe('json');
}

describe('bad input gets a clear 4xx JSON error and changes nothing', () => {
  it.each(['%zz', '%', '%2', 'a%G0', '%FF', '%C3%28', 'ok/%E2%82'])('invalid percent-encoding /kv/%s', async (bad) => {
    for (const method of ['GET', 'PUT', 'DELETE']) {
      const res = await httpRequest(server.url, `/kv/${bad}`, { method, body: method === 'PUT' ? 'x' : undefined });
      await expectJsonError(res, 400, 'invalid URL escape');
    }
    await expectJsonError(await httpRequest(server.url, `/kv/history/${bad}`), 400, 'invalid URL escape');
    await expectUnchanged();
  });

  it.each(['%20', '%09', '%2F%2F', '%20%2F%0A'])('empty or whitespace key /kv/%s', async (key) => {
    for (const method of ['GET', 'PUT', 'DELETE']) {
      await expectJsonError(await httpRequest(server.url, `/kv/${key}`, { method, body: method === 'PUT' ? 'x' : undefined }), 400, 'key is required');
    }
    await expectUnchanged();
  });

  it('keys with NUL characters (PostgreSQL text cannot hold them)', async () => {
    for (const method of ['GET', 'PUT', 'DELETE']) {
      const res = await httpRequest(server.url, '/kv/a%00b', { method, body: method === 'PUT' ? 'x' : undefined });
      await expectJsonError(res, 400, 'key must not contain NUL characters');
    }
    const batch = await fetch(`${server.url}/kv/`, { method: 'POST', body: JSON.stringify([{ key: 'a\u0000b', value: 'x' }]) });
    await expectJsonClientError(batch, 400, 'invalid batch item 0: key must not contain NUL characters');
    await expectUnchanged();
  });

  const queries: Array<[string, string, string, string]> = [
    ['GET', '/kv/keep/me?revision=abc', '', 'invalid revision parameter'],
    ['GET', '/kv/keep/me?revision=-3', '', 'invalid revision parameter'],
    ['PUT', '/kv/keep/me?cas=abc', 'changed', 'invalid cas parameter'],
    ['PUT', '/kv/keep/me?cas=1.0', 'changed', 'invalid cas parameter'],
    ['DELETE', '/kv/keep/me?cas=x', '', 'invalid cas parameter'],
    ['GET', '/kv/history/keep/me?limit=abc', '', 'invalid limit parameter'],
    ['GET', '/kv/?filter=everything', '', 'invalid filter parameter'],
  ];
  it.each(queries)('%s %s', async (method, path, body, message) => {
    await expectJsonError(await httpRequest(server.url, path, { method, body: body || undefined }), 400, message);
    await expectUnchanged();
  });

  it.each(['abc', '"x"', '*'])('malformed If-Match %s', async (header) => {
    const res = await fetch(`${server.url}/kv/keep/me`, { method: 'PUT', body: 'changed', headers: { 'if-match': header } });
    await expectJsonClientError(res, 400, 'invalid If-Match header');
    await expectUnchanged();
  });

  it.each(['{', '{}', '[]', '[{"key":"keep/me","value":1}]', '[{"key":"keep/me","value":"x","extra":true}]'])('invalid batch %s', async (body) => {
    const res = await fetch(`${server.url}/kv/`, { method: 'POST', body });
    await expectJsonClientError(res, 400, 'invalid batch');
    await expectUnchanged();
  });

  it('oversized bodies are 413 with an empty body, for PUT and batch', async () => {
    const big = 'x'.repeat(5000);
    const put = await fetch(`${server.url}/kv/keep/me`, { method: 'PUT', body: big });
    expect([put.status, await put.text()]).toEqual([413, '']);
    const batch = await fetch(`${server.url}/kv/`, { method: 'POST', body: JSON.stringify([{ key: 'keep/me', value: big }]) });
    expect([batch.status, await batch.text()]).toEqual([413, '']);
    await expectUnchanged();
  });

  it('an unknown format is not bad input: stored as text, 200 on update', async () => {
    const res = await fetch(`${server.url}/kv/fmt/any?format=%zz`, { method: 'PUT', body: 'x', headers: { 'x-stash-format': 'bogus' } });
    expect(res.status).toBe(201);
    expect((await fetch(`${server.url}/kv/fmt/any`)).headers.get('content-type')).toBe('text/plain');
    await fetch(`${server.url}/kv/fmt/any`, { method: 'DELETE' });
    seed = await server.store.currentRevision();
  });

  it.each([
    ['an invalid Content-Length', 'PUT /kv/keep/me HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\nchanged', 400, 'invalid Content-Length header'],
    ['two different Content-Lengths', 'PUT /kv/keep/me HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nContent-Length: 7\r\n\r\nchanged', 400, 'invalid Content-Length header'],
    ['raw non-ASCII bytes in the path', 'GET /kv/ключ HTTP/1.1\r\nHost: x\r\n\r\n', 400, 'invalid request target'],
    ['a space in the path', 'GET /kv/a b HTTP/1.1\r\nHost: x\r\n\r\n', 400, 'malformed HTTP request'],
    ['a control character in a header', 'GET /kv/keep/me HTTP/1.1\r\nHost: x\r\nX-Bad: a\u0001b\r\n\r\n', 400, 'invalid header'],
    ['a bad chunk size', 'PUT /kv/keep/me HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nchanged\r\n0\r\n\r\n', 400, 'invalid chunked body'],
  ] as Array<[string, string, number, string]>)('%s is rejected by the parser with a JSON error', async (_what, request, status, message) => {
    const res = await rawRequest(server.url, Buffer.from(request, 'utf8'));
    expect({ status: res.status, type: res.headers['content-type'], body: res.text, connection: res.headers['connection'] }).toEqual({
      status,
      type: JSON_TYPE,
      body: `${JSON.stringify({ error: message })}\n`,
      connection: 'close',
    });
    await expectUnchanged();
  });

  it('headers over 1 MiB (Go\'s DefaultMaxHeaderBytes) are 431', async () => {
    const res = await rawRequest(server.url, `GET /kv/keep/me HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(1_100_000)}\r\n\r\n`);
    expect(res.status).toBe(431);
    expect(JSON.parse(res.text)).toEqual({ error: 'request header fields too large' });
  });
});

describe('the server survives garbage', () => {
  const rand = (n: number): Buffer => randomBytes(n);
  const printable = (n: number): string => rand(n).toString('base64').replace(/[+/=]/g, '');

  /** What a kind of request must get: `ok` on the status (undefined: the server closed without answering). */
  interface Expectation {
    what: string;
    ok: (status: number | undefined) => boolean;
  }
  const is4xx = (s: number | undefined): boolean => s !== undefined && s >= 400 && s < 500;
  const CLIENT_ERROR: Expectation = { what: 'a 4xx', ok: is4xx };
  const status = (raw: Buffer): number | undefined => {
    const m = /^HTTP\/1\.1 (\d{3}) /.exec(raw.subarray(0, 13).toString('latin1'));
    return m ? Number(m[1]) : undefined;
  };
  /** 40 random bytes with at least one control character and no CR or LF (an invalid header value) */
  const badHeaderValue = (): Buffer => {
    const value = rand(40);
    for (let i = 0; i < value.length; i++) if (value[i] === 0x0a || value[i] === 0x0d) value[i] = 0x01;
    value[value.length >> 1] = 0x01;
    return value;
  };

  it('answers every kind of garbage as it must, then /ping, after a burst on raw sockets', async () => {
    const cases: Array<[string, string | Buffer, Expectation]> = [];
    for (let i = 0; i < 20; i++) cases.push(['random bytes', rand(64 + i * 16), CLIENT_ERROR]);
    for (let i = 0; i < 20; i++) {
      cases.push(['random bytes in the path', Buffer.concat([Buffer.from('GET /kv/'), rand(32), Buffer.from(' HTTP/1.1\r\nHost: x\r\n\r\n')]), CLIENT_ERROR]);
    }
    for (let i = 0; i < 20; i++) {
      const head = Buffer.from(`PUT /kv/junk/${i} HTTP/1.1\r\nHost: x\r\n${printable(8)}: `);
      cases.push(['a control character in a header value', Buffer.concat([head, badHeaderValue(), Buffer.from('\r\nContent-Length: 3\r\n\r\nabc')]), CLIENT_ERROR]);
    }
    for (let i = 0; i < 10; i++) cases.push(['a made-up method', `${printable(6)} /${printable(20)} HTTP/1.1\r\nHost: x\r\n\r\n`, CLIENT_ERROR]);
    // absolute-form is valid HTTP: routed by its path, as the original's Go server does
    cases.push(['absolute-form target', 'GET http://evil.example/kv/keep/me HTTP/1.1\r\nHost: x\r\n\r\n', { what: '200', ok: (s) => s === 200 }]);
    // asterisk-form is for OPTIONS only: anything else is 400, as the original's ServeMux answers
    cases.push(['GET *', 'GET * HTTP/1.1\r\nHost: x\r\n\r\n', { what: '400', ok: (s) => s === 400 }]);
    cases.push(['OPTIONS *', 'OPTIONS * HTTP/1.1\r\nHost: x\r\n\r\n', { what: '200', ok: (s) => s === 200 }]);
    cases.push(['an unsupported HTTP version', 'GET /kv/keep/me HTTP/9.9\r\nHost: x\r\n\r\n', { what: '400 or 505', ok: (s) => s === 400 || s === 505 }]);
    cases.push(['CONNECT', 'CONNECT 127.0.0.1:1 HTTP/1.1\r\nHost: x\r\n\r\n', { what: '405', ok: (s) => s === 405 }]);
    cases.push(['Content-Length with Transfer-Encoding', 'PUT /kv/keep/me HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n', CLIENT_ERROR]);
    cases.push(['3000 bare percent signs', `GET /kv/${'%'.repeat(3000)} HTTP/1.1\r\nHost: x\r\n\r\n`, CLIENT_ERROR]);
    // not garbage: a long key that does not exist, and a read with repeated and odd parameters
    // (the first revision= counts, as Go's Query().Get)
    cases.push(['a long missing key', `GET /kv/${'a/'.repeat(4000)} HTTP/1.1\r\nHost: x\r\n\r\n`, { what: '404', ok: (s) => s === 404 }]);
    cases.push(['repeated parameters', 'GET /kv/keep/me?revision=1&revision=2&cas=&filter[]=x HTTP/1.1\r\nHost: x\r\nIf-None-Match: ,,,\r\n\r\n', { what: '200', ok: (s) => s === 200 }]);
    cases.push(['only empty lines', '\r\n\r\n\r\n', { what: 'no answer or 400', ok: (s) => s === undefined || s === 400 }]);

    const answers = await Promise.all(cases.map(([, request]) => rawExchange(server.url, request, 2000)));
    const wrong = cases
      .map(([kind, , expected], i) => ({ kind, expected: expected.what, got: status(answers[i] as Buffer) ?? 'no answer', ok: expected.ok(status(answers[i] as Buffer)) }))
      .filter((c) => !c.ok);
    expect(wrong).toEqual([]);
    const ping = await fetch(`${server.url}/ping`);
    expect(await ping.text()).toBe('pong');
    expect(await (await fetch(`${server.url}/kv/keep/me`)).text()).toBe('original');
    expect((await server.store.get('keep/me'))?.format).toBe('json');
    expect(await (await fetch(`${server.url}/kv/?prefix=junk/`)).json()).toEqual([]); // no refused PUT wrote
  });

  it('echoes a non-ASCII X-Request-ID byte for byte and ignores a binary X-Forwarded-For', async () => {
    const res = await rawRequest(
      server.url,
      Buffer.concat([
        Buffer.from('GET /kv/keep/me HTTP/1.1\r\nHost: x\r\nConnection: close\r\nX-Request-ID: '),
        Buffer.from([0xff, 0xfe, 0x80]),
        Buffer.from('\r\nX-Forwarded-For: '),
        Buffer.from([0xff, 0x41]),
        Buffer.from('\r\n\r\n'),
      ]),
    );
    expect(res.status).toBe(200);
    expect(Buffer.from(res.headers['x-request-id'] ?? '', 'latin1')).toEqual(Buffer.from([0xff, 0xfe, 0x80]));
  });

  it('keeps serving after random header values on real requests', async () => {
    for (let i = 0; i < 30; i++) {
      const headers: Record<string, string> = {
        'if-match': printable(10),
        'if-none-match': printable(6),
        'x-stash-format': printable(5),
        'x-forwarded-for': printable(12),
        origin: printable(8),
        'x-request-id': printable(30),
      };
      const res = await httpRequest(server.url, `/kv/rand/${printable(6)}?cas=${printable(3)}&revision=${printable(2)}`, {
        method: ['GET', 'PUT', 'DELETE', 'POST', 'PATCH'][i % 5] as string,
        headers,
        body: i % 5 === 0 ? undefined : rand(20),
      });
      // every one is refused: a malformed revision (GET), or an Origin that is not this host
      expect(is4xx(res.status), `${res.status} ${res.text}`).toBe(true);
    }
    expect(await (await fetch(`${server.url}/ping`)).text()).toBe('pong');
  });
});

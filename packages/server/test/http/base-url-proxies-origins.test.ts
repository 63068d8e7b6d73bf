import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../helpers/test-server.js';
import { expectPlain } from './expect-http.js';
import { httpRequest, type RawResponse } from './raw-http.js';


describe('cross-origin protection (Go 1.25 CrossOriginProtection)', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(async () => {
    await server.close();
  });

  const SITE = 'cross-origin request detected from Sec-Fetch-Site header\n';
  const ORIGIN = 'cross-origin request detected, and/or browser is out of date: Sec-Fetch-Site is missing, and Origin does not match Host\n';
  const host = (): string => new URL(server.url).host;

  it.each([
    ['PUT', { 'sec-fetch-site': 'cross-site' }, SITE],
    ['PUT', { 'sec-fetch-site': 'same-site' }, SITE],
    ['DELETE', { 'sec-fetch-site': 'cross-site' }, SITE],
    ['POST', { 'sec-fetch-site': 'cross-site' }, SITE],
    ['PUT', { origin: 'http://evil.example' }, ORIGIN],
    ['PUT', { origin: 'null' }, ORIGIN],
    ['PUT', { origin: 'http://127.0.0.1' }, ORIGIN],
  ] as Array<[string, Record<string, string>, string]>)('%s with %j is 403 and writes nothing', async (method, headers, body) => {
    const before = await server.store.currentRevision();
    const path = method === 'POST' ? '/kv/' : '/kv/xo/key';
    const res = await httpRequest(server.url, path, { method, headers, body: method === 'POST' ? '[{"key":"xo/key","value":"x"}]' : 'x' });
    expectPlain(res, 403, body);
    expect(await server.store.currentRevision()).toBe(before);
  });

  it('lets same-origin, Sec-Fetch-Site none, a matching Origin and header-less requests through', async () => {
    const cases: Array<Record<string, string>> = [
      { 'sec-fetch-site': 'same-origin' },
      { 'sec-fetch-site': 'none', origin: 'http://evil.example' },
      { origin: `http://${host()}` },
      { origin: `https://${host()}/some/path` },
      {},
    ];
    for (const [i, headers] of cases.entries()) {
      const res = await httpRequest(server.url, `/kv/xo/ok${i}`, { method: 'PUT', headers, body: 'x' });
      expect(res.status, JSON.stringify(headers)).toBe(201);
    }
  });

  it('never checks safe methods', async () => {
    await httpRequest(server.url, '/kv/xo/safe', { method: 'PUT', body: 'x' });
    const headers = { 'sec-fetch-site': 'cross-site', origin: 'http://evil.example' };
    expect((await httpRequest(server.url, '/kv/xo/safe', { headers })).status).toBe(200);
    expect((await httpRequest(server.url, '/kv/xo/safe', { method: 'HEAD', headers })).status).toBe(200);
    expect((await httpRequest(server.url, '/kv/xo/safe', { method: 'OPTIONS', headers })).status).toBe(405);
  });
});

describe('trusted proxies (compat 3.1 proxyHeaders + RealIP)', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer(['--limits.requests-per-sec', '5', '--server.trusted-proxies', '127.0.0.1']);
  });
  afterAll(async () => {
    await server.close();
  });
  const addr = async (headers: Record<string, string>): Promise<RawResponse> => httpRequest(server.url, '/ping', { headers });

  it('takes the rightmost public X-Forwarded-For address from a trusted peer', async () => {
    const res = await addr({ 'x-forwarded-for': '203.0.113.7' });
    expect(res.headers['x-rate-limit-request-remote-addr']).toBe('203.0.113.7');
    expect(res.headers['x-rate-limit-request-forwarded-for']).toBe('203.0.113.7');
    const chain = await addr({ 'x-forwarded-for': '198.51.100.1, 198.51.100.2, 10.0.0.1' });
    expect(chain.headers['x-rate-limit-request-remote-addr']).toBe('198.51.100.2');
  });

  it('ignores private forwarded addresses and falls back to X-Real-IP, then the peer', async () => {
    expect((await addr({ 'x-forwarded-for': '10.0.0.5, 192.168.1.1' })).headers['x-rate-limit-request-remote-addr']).toBe('127.0.0.1');
    expect((await addr({ 'x-real-ip': '198.51.100.9' })).headers['x-rate-limit-request-remote-addr']).toBe('198.51.100.9');
  });

  it('limits each forwarded client separately', async () => {
    const statuses = async (ip: string): Promise<number[]> => {
      const out: number[] = [];
      for (let i = 0; i < 7; i++) out.push((await addr({ 'x-forwarded-for': ip })).status);
      return out;
    };
    expect(await statuses('198.51.100.50')).toContain(429);
    expect((await statuses('198.51.100.51')).slice(0, 5)).toEqual([200, 200, 200, 200, 200]);
  });
});

describe('--server.base-url (compat 3.2)', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer(['--server.base-url', '/stash']);
  });
  afterAll(async () => {
    await server.close();
  });

  it('redirects the bare base to base/ (dropping the query, as http.Redirect does)', async () => {
    const res = await httpRequest(server.url, '/stash?x=1');
    expect(res.status).toBe(301);
    expect(res.headers['location']).toBe('/stash/');
    expect(res.text).toBe('<a href="/stash/">Moved Permanently</a>.\n\n');
  });

  it('serves the KV API under the base', async () => {
    expect((await httpRequest(server.url, '/stash/kv/app/cfg', { method: 'PUT', body: 'v' })).status).toBe(201);
    expect((await httpRequest(server.url, '/stash/kv/app/cfg')).text).toBe('v');
    expect(JSON.parse((await httpRequest(server.url, '/stash/kv/')).text)).toHaveLength(1);
    expect((await httpRequest(server.url, '/stash/ping')).text).toBe('pong');
  });

  it('keeps the base in redirects', async () => {
    expect((await httpRequest(server.url, '/stash/kv?p=1')).headers['location']).toBe('/stash/kv/?p=1');
    expect((await httpRequest(server.url, '/stash/kv//app/cfg')).headers['location']).toBe('/stash/kv/app/cfg');
  });

  it.each(['/kv/app/cfg', '/kv/', '/stashx/kv/', '/other/ping', '/'])('%s outside the base is 404', async (path) => {
    const res = await httpRequest(server.url, path);
    expectPlain(res, 404, '404 page not found\n');
    expect(res.headers['app-name']).toBeUndefined();
  });

  it('does not write outside the base', async () => {
    expect((await httpRequest(server.url, '/kv/outside', { method: 'PUT', body: 'x' })).status).toBe(404);
    expect(await server.store.get('outside')).toBeUndefined();
  });
});

import { createServer, type Server } from 'node:http';
import { connect, type Socket } from 'node:net';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { KvService } from '../../src/domain/kv-service.js';
import { OPEN_ACCESS } from '../../src/shared/access.js';
import { createFastRead, type FastRead } from '../../src/http/fast-read.js';
import { GuardChain } from '../../src/http/guard-chain.js';
import { openStore } from '../../src/storage/open-store.js';
import type { Store } from '../../src/storage/store.js';
import { makeTempDir, startTestServer, type TestServer } from '../helpers/test-server.js';
import { createTestDatabase, PG_URL, type TestDatabase } from '../helpers/pg.js';
import { httpRequest, parseRawResponse, type RawResponse } from './raw-http.js';

const AUTH_FILE = join(import.meta.dirname, '..', 'fixtures', 'auth-acl.yml');

describe('fast read path: which requests it answers', () => {
  let store: Store;
  let server: Server;
  let url: string;
  let fast: FastRead;

  beforeAll(async () => {
    store = await openStore(join(makeTempDir(), 'fast.db'), { sync: 'normal' });
    const service = new KvService({ store });
    const chain = new GuardChain({ version: 't', bodyLimit: 1024, requestsPerSec: 0, maxConcurrent: 0, trustedProxies: [] });
    fast = createFastRead({ chain, service, access: OPEN_ACCESS, baseUrl: '' });
    // everything the fast path declines lands here, as it would land in fastify
    const declined = (_req: unknown, res: { writeHead(status: number): { end(body: string): void } }): void => res.writeHead(599).end('declined');
    server = createServer((req, res) => {
      if (!fast(req, res, declined)) declined(req, res);
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const address = server.address();
    url = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
    await store.apply([
      { kind: 'put', key: 'app/held', value: Buffer.from('v1'), format: 'json' },
      { kind: 'put', key: 'app/secrets/token', value: Buffer.from('$ENC$x'), format: 'text' },
      { kind: 'put', key: 'app/cold', value: Buffer.from('c'), format: 'text' },
      { kind: 'put', key: 'history', value: Buffer.from('h'), format: 'text' },
    ]);
    // a read puts a row in memory (writes drop it); app/cold is never read, so never held
    for (const key of ['app/held', 'app/secrets/token', 'history']) await store.get(key);
  });
  afterAll(async () => {
    await new Promise((r) => server.close(r));
    await store.close();
  });

  it('answers a GET of a held key with its value and revision headers', async () => {
    const res = await httpRequest(url, '/kv/app/held');
    expect(res.status).toBe(200);
    expect(res.text).toBe('v1');
    expect(res.headers['content-type']).toBe('application/json');
    expect(res.headers['etag']).toBe('"1"');
    expect(res.headers['x-stash-revision']).toBe('1');
    expect(res.headers['x-request-id']).toMatch(/^[0-9a-f]{40}$/);
    expect(res.headers['app-name']).toBe('stash');
    // a trailing slash names the same key, as on the full path
    expect((await httpRequest(url, '/kv/app/held/')).text).toBe('v1');
  });

  it.each([
    ['a key not held in memory', '/kv/app/cold', {}],
    ['a missing key', '/kv/app/none', {}],
    ['a secret', '/kv/app/secrets/token', {}],
    ['a query string', '/kv/app/held?revision=1', {}],
    ['a percent escape', '/kv/app%2Fheld', {}],
    ['an unclean path', '/kv/app//held', {}],
    ['a ping path', '/kv/app/ping', {}],
    ['the history route', '/kv/history/app/held', {}],
    ['the list', '/kv/', {}],
    ['If-None-Match', '/kv/app/held', { 'if-none-match': '"1"' }],
    ['a request body', '/kv/app/held', { 'content-length': '2' }],
  ])('leaves %s to the full chain', async (_name, path, headers: Record<string, string>) => {
    const res = await httpRequest(url, path, { headers, body: headers['content-length'] ? 'xx' : undefined });
    expect(res.status).toBe(599);
  });

  it('leaves other methods to the full chain', async () => {
    expect((await httpRequest(url, '/kv/app/held', { method: 'HEAD' })).status).toBe(599);
    expect((await httpRequest(url, '/kv/app/held', { method: 'PUT', body: 'x' })).status).toBe(599);
  });

  it('sees a write at once (the held row is dropped on commit)', async () => {
    await store.apply([{ kind: 'put', key: 'app/held', value: Buffer.from('v2'), format: 'text' }]);
    expect((await httpRequest(url, '/kv/app/held')).status).toBe(599);
    await store.get('app/held');
    const res = await httpRequest(url, '/kv/app/held');
    expect(res.text).toBe('v2');
    expect(res.headers['x-stash-revision']).toBe('5');
  });

  it('declines everything once disabled for shutdown', async () => {
    expect((await httpRequest(url, '/kv/history')).status).toBe(200);
    fast.disable();
    expect((await httpRequest(url, '/kv/history')).status).toBe(599);
  });
});

/** Status, headers (the generated request id and the date left out) and body, for comparing two servers. */
function comparable(res: RawResponse): { status: number; headers: Record<string, string>; body: string } {
  const headers = { ...res.headers };
  delete headers['date'];
  if (/^[0-9a-f]{40}$/.test(headers['x-request-id'] ?? '')) headers['x-request-id'] = '<generated>';
  return { status: res.status, headers, body: res.text };
}

/**
 * The same requests against a server with the fast path and one without: every answer must be
 * the same, byte for byte apart from the date and a generated request id.
 */
describe('fast read path: answers exactly as the full chain', () => {
  const pairs: Array<[TestServer, TestServer]> = [];
  const sockets: Socket[] = [];

  async function pair(args: string[]): Promise<[TestServer, TestServer]> {
    const both: [TestServer, TestServer] = [
      await startTestServer(args, { fastReads: true }),
      await startTestServer(args, { fastReads: false }),
    ];
    pairs.push(both);
    for (const s of both) {
      await s.store.apply([
        { kind: 'put', key: 'cfg/app.json', value: Buffer.from('{"a":1}'), format: 'json' },
        { kind: 'put', key: 'cfg/plain', value: Buffer.from('plain'), format: 'text' },
        { kind: 'put', key: 'app/alice/x', value: Buffer.from('ax'), format: 'yaml' },
        { kind: 'put', key: 'odd/a#b', value: Buffer.from('hash'), format: 'text' },
        { kind: 'put', key: 'odd/a;b+c~d@e', value: Buffer.from('punct'), format: 'text' },
        { kind: 'put', key: 'odd/a', value: Buffer.from('a'), format: 'text' },
      ]);
    }
    return both;
  }

  /** Each request twice (the first read puts the row in memory), on both servers in step. */
  async function expectSame(servers: [TestServer, TestServer], path: string, headers: Record<string, string> = {}): Promise<void> {
    for (let round = 0; round < 2; round++) {
      const [fast, full] = await Promise.all(servers.map((s) => httpRequest(s.url, path, { headers })));
      expect(comparable(fast as RawResponse), `${path} round ${round}`).toEqual(comparable(full as RawResponse));
    }
  }

  afterEach(() => {
    for (const s of sockets.splice(0)) s.destroy();
  });
  afterAll(async () => {
    for (const [a, b] of pairs) await Promise.all([a.close(), b.close()]);
  });

  it('plain reads, request ids, formats', async () => {
    const servers = await pair([]);
    await expectSame(servers, '/kv/cfg/app.json');
    await expectSame(servers, '/kv/cfg/plain', { 'x-request-id': 'from-the-client' });
    await expectSame(servers, '/kv/cfg/plain/');
    await expectSame(servers, '/kv/cfg/missing');
    // characters that are not escapes but mean something elsewhere in a URL
    await expectSame(servers, '/kv/odd/a#b');
    await expectSame(servers, '/kv/odd/a;b+c~d@e');
    await expectSame(servers, '/KV/odd/a');
    await expectSame(servers, '/kv//odd/a');
  });

  it('rate limit headers, then the 429 refusal', async () => {
    const servers = await pair(['--limits.requests-per-sec', '2']);
    for (let i = 0; i < 4; i++) await expectSame(servers, '/kv/cfg/plain', { 'x-forwarded-for': '203.0.113.9' });
  });

  it('under a base URL', async () => {
    const servers = await pair(['--server.base-url', '/stash']);
    await expectSame(servers, '/stash/kv/cfg/plain');
    await expectSame(servers, '/kv/cfg/plain');
  });

  it('with access control: granted, unauthorized and forbidden', async () => {
    const servers = await pair(['--auth.file', AUTH_FILE]);
    await expectSame(servers, '/kv/cfg/plain', { 'x-auth-token': 'read-token-5678' });
    await expectSame(servers, '/kv/cfg/plain', { authorization: 'Bearer read-token-5678' });
    await expectSame(servers, '/kv/cfg/plain');
    await expectSame(servers, '/kv/cfg/plain', { 'x-auth-token': 'app-token-abcd' });
    await expectSame(servers, '/kv/app/alice/x', { 'x-auth-token': 'app-token-abcd' });
  });

  it('503 while --limits.max-concurrent requests are in flight', async () => {
    const servers = await pair(['--limits.max-concurrent', '1']);
    for (const s of servers) await httpRequest(s.url, '/kv/cfg/plain'); // hold the row
    // a PUT whose body never completes keeps one request in flight on each server
    for (const s of servers) {
      const socket = connect(Number(new URL(s.url).port), '127.0.0.1', () => {
        socket.write('PUT /kv/slow HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nab');
      });
      sockets.push(socket);
    }
    // until each server's guard has admitted it (its in-flight count, as /metrics reports it)
    const deadline = Date.now() + 5000;
    while (!servers.every((s) => s.metrics.inFlightNow === 1)) {
      if (Date.now() > deadline) throw new Error('the slow PUTs were not admitted in time');
      await new Promise((r) => setTimeout(r, 10));
    }
    const [fast, full] = await Promise.all(servers.map((s) => httpRequest(s.url, '/kv/cfg/plain')));
    expect((fast as RawResponse).status).toBe(503);
    expect(comparable(fast as RawResponse)).toEqual(comparable(full as RawResponse));
  });
});

describe('fast read path: raw framing', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer();
    await server.store.apply([{ kind: 'put', key: 'k', value: Buffer.from('value'), format: 'text' }]);
    await httpRequest(server.url, '/kv/k');
  });
  afterAll(async () => {
    await server.close();
  });

  it('keeps a connection alive across pipelined fast reads', async () => {
    const { port } = new URL(server.url);
    const raw = await new Promise<Buffer>((resolve) => {
      const chunks: Buffer[] = [];
      const socket = connect(Number(port), '127.0.0.1', () => {
        socket.write('GET /kv/k HTTP/1.1\r\nHost: x\r\n\r\nGET /kv/k HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
      });
      socket.on('data', (c: Buffer) => chunks.push(c));
      socket.on('close', () => resolve(Buffer.concat(chunks)));
    });
    const text = raw.toString('latin1');
    expect(text.match(/HTTP\/1\.1 200 OK/g)).toHaveLength(2);
    const first = parseRawResponse(raw);
    expect(first.headers['content-length']).toBe('5');
    expect(text.endsWith('value')).toBe(true);
  });
});

describe.skipIf(!PG_URL)('fast read path on PostgreSQL: answers after the batched read', () => {
  if (!PG_URL) console.warn('skipping the PostgreSQL fast-read checks: STASH_TEST_PG_URL is not set');
  const dbs: TestDatabase[] = [];
  const servers: TestServer[] = [];
  afterAll(async () => {
    for (const s of servers) await s.close();
    for (const db of dbs) await db.drop();
  });

  async function pgServer(fastReads: boolean, args: string[] = []): Promise<TestServer> {
    const db = await createTestDatabase();
    dbs.push(db);
    const server = await startTestServer(['--db', db.url, ...args], { fastReads });
    servers.push(server);
    await server.store.apply([
      { kind: 'put', key: 'cfg/plain', value: Buffer.from('plain'), format: 'text' },
      { kind: 'put', key: 'cfg/app.json', value: Buffer.from('{"a":1}'), format: 'json' },
    ]);
    return server;
  }

  for (const cache of [false, true]) {
    it(`answers byte for byte as the full chain ${cache ? 'with' : 'without'} --cache.enabled, and falls back for absent keys`, async () => {
      const flags = cache ? ['--cache.enabled'] : [];
      const [fast, full] = [await pgServer(true, flags), await pgServer(false, flags)];
      // count the fast path's reads: the full chain reads through service.get(), never getRecord()
      const taken: string[] = [];
      for (const s of [fast, full]) {
        const getRecord = s.service.getRecord.bind(s.service);
        s.service.getRecord = (key) => (taken.push(`${s === fast ? 'fast' : 'full'} ${key}`), getRecord(key));
      }
      for (const path of ['/kv/cfg/plain', '/kv/cfg/app.json', '/kv/cfg/missing', '/kv/cfg/plain', '/kv/cfg/missing/']) {
        const [a, b] = await Promise.all([httpRequest(fast.url, path), httpRequest(full.url, path)]);
        expect(comparable(a), path).toEqual(comparable(b));
      }
      expect(taken).toEqual(['fast cfg/plain', 'fast cfg/app.json', 'fast cfg/missing', 'fast cfg/plain', 'fast cfg/missing']);
    });
  }
});

import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  Client,
  ConflictError,
  ConnectionError,
  ForbiddenError,
  InvalidArgumentError,
  NotFoundError,
  ResponseError,
  StashError,
  UnauthorizedError,
  encodeKeyPath,
  errorFromStatus,
  isConflictError,
  isConnectionError,
  isNotFoundError,
  isResponseError,
  isStashError,
  normalizeBaseUrl,
  parseKeyInfo,
  parseRfc3339,
} from '@stash/client';

describe('normalizeBaseUrl', () => {
  it('drops trailing slashes', () => {
    expect(normalizeBaseUrl('http://h:8080/')).toBe('http://h:8080');
    expect(normalizeBaseUrl('http://h/stash///')).toBe('http://h/stash');
    expect(new Client('https://example.com/base/').baseUrl).toBe('https://example.com/base');
  });

  it.each(['', 'not a url', 'localhost:8080', 'ftp://h/', 'http://h/?x=1'])('rejects %j with a typed error', (url) => {
    expect(() => new Client(url)).toThrow(InvalidArgumentError);
  });
});

describe('encodeKeyPath', () => {
  it('encodes every segment and keeps the slashes', () => {
    expect(encodeKeyPath('app/my key?x#y%z*/ünï')).toBe('app/my%20key%3Fx%23y%25z%2A/%C3%BCn%C3%AF');
    expect(encodeKeyPath("a!'()b")).toBe('a%21%27%28%29b');
    expect(encodeKeyPath('a/./../b')).toBe('a/%2E/%2E%2E/b');
    expect(encodeKeyPath('a//b')).toBe('a/b');
  });
});

describe('parseRfc3339 / parseKeyInfo', () => {
  it('accepts nanoseconds, offsets and no fraction', () => {
    expect(parseRfc3339('2025-01-15T10:30:00.123456789Z').toISOString()).toBe('2025-01-15T10:30:00.123Z');
    expect(parseRfc3339('2025-01-15T10:30:00Z').toISOString()).toBe('2025-01-15T10:30:00.000Z');
    expect(parseRfc3339('2025-01-15T12:30:00.5+02:00').toISOString()).toBe('2025-01-15T10:30:00.500Z');
    expect(parseRfc3339('2025-01-15T05:30:00-0500').toISOString()).toBe('2025-01-15T10:30:00.000Z');
    expect(() => parseRfc3339('yesterday')).toThrow(TypeError);
  });

  it('maps snake_case to camelCase', () => {
    const info = parseKeyInfo({
      key: 'a',
      size: 3,
      format: 'weird',
      secret: false,
      zk_encrypted: true,
      created_at: '2025-01-15T10:30:00.123456Z',
      updated_at: '2025-01-16T10:30:00Z',
      revision: 7,
    });
    expect(info).toEqual({
      key: 'a',
      size: 3,
      format: 'text',
      secret: false,
      zkEncrypted: true,
      createdAt: new Date('2025-01-15T10:30:00.123Z'),
      updatedAt: new Date('2025-01-16T10:30:00Z'),
      revision: 7,
    });
    expect(() => parseKeyInfo({ key: 'a' })).toThrow(TypeError);
  });
});

describe('errors', () => {
  it('maps statuses to typed errors that keep the key', () => {
    const cases: [number, new (...args: never[]) => StashError][] = [
      [404, NotFoundError],
      [401, UnauthorizedError],
      [403, ForbiddenError],
      [412, ConflictError],
      [500, ResponseError],
    ];
    for (const [status, type] of cases) {
      const error = errorFromStatus(status, '{"error":"x","revision":5}', 'app/k');
      expect(error).toBeInstanceOf(type);
      expect(error).toBeInstanceOf(StashError);
      expect(error.key).toBe('app/k');
    }
    expect((errorFromStatus(412, '{"error":"revision mismatch","revision":5}', 'k') as ConflictError).currentRevision).toBe(5);
    expect((errorFromStatus(502, '', 'k') as ResponseError).status).toBe(502);
  });

  it('guards work across copies (brand, not instanceof)', () => {
    const foreign = Object.create(null) as object;
    expect(isStashError(foreign)).toBe(false);
    const error = new ConflictError('m', 3, { key: 'k' });
    // simulate a second copy of the package: a plain object carrying the same registered brand
    const copy = Object.defineProperty({}, Symbol.for('@stash/client.error'), { value: ['StashError', 'ConflictError'] });
    expect(isConflictError(copy)).toBe(true);
    expect(isStashError(copy)).toBe(true);
    expect(isNotFoundError(copy)).toBe(false);
    expect(isConflictError(error) && isStashError(error)).toBe(true);
    expect(error.name).toBe('ConflictError');
  });
});

describe('client against a misbehaving HTTP server', () => {
  let server: Server;
  let url: string;
  let hits = 0;
  let dropped = false;

  beforeAll(async () => {
    server = createServer((req, res) => {
      hits++;
      if (req.method === 'POST') {
        req.socket.destroy();
      } else if (req.url?.startsWith('/kv/?')) {
        res.writeHead(200, { 'content-type': 'text/html' }).end('<html>not json</html>');
      } else if (req.url === '/kv/') {
        res.writeHead(200, { 'content-type': 'application/json' }).end('{"not":"an array"}');
      } else if (req.url === '/ping') {
        res.writeHead(200).end('nope');
      } else if (req.url === '/kv/flaky') {
        res.writeHead(503).end();
      } else if (req.url === '/kv/drop-once') {
        dropped = !dropped;
        if (dropped) req.socket.destroy();
        else res.writeHead(201).end();
      } else if (req.url === '/kv/slow') {
        setTimeout(() => res.writeHead(200).end('late'), 2_000); // a slow server is what the timeout tests need
      } else {
        res.writeHead(418).end('teapot');
      }
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  it('non-JSON list answer -> ResponseError, no unhandled rejection', async () => {
    const client = new Client(url, { retries: 0 });
    const error = await client.list('x').catch((e: unknown) => e);
    expect(isResponseError(error)).toBe(true);
    expect((error as ResponseError).message).toMatch(/invalid list answer/);
    await expect(client.list()).rejects.toThrow(/not a JSON array/);
    await expect(client.info('x')).rejects.toBeInstanceOf(ResponseError);
  });

  it('ping requires "pong"', async () => {
    await expect(new Client(url).ping()).rejects.toBeInstanceOf(ResponseError);
  });

  it('retries 503 for idempotent requests, then reports the status', async () => {
    hits = 0;
    const error = await new Client(url, { retries: 2 }).get('flaky').catch((e: unknown) => e);
    expect((error as ResponseError).status).toBe(503);
    expect(hits).toBe(3);
  });

  it('never retries a conditional write', async () => {
    hits = 0;
    await expect(new Client(url, { retries: 3 }).set('flaky', 'v', { ifRevision: 3 })).rejects.toBeInstanceOf(ResponseError);
    expect(hits).toBe(1);
  });

  it('retries a dropped connection for an unconditional PUT, never for a conditional one', async () => {
    hits = 0;
    dropped = false;
    await expect(new Client(url, { retries: 1 }).set('drop-once', 'v')).resolves.toEqual({ revision: 0, created: true });
    expect(hits).toBe(2);
    hits = 0;
    dropped = false;
    await expect(new Client(url, { retries: 3 }).set('drop-once', 'v', { ifAbsent: true })).rejects.toBeInstanceOf(ConnectionError);
    expect(hits).toBe(1);
    hits = 0;
    await expect(new Client(url, { retries: 3 }).setMany([{ key: 'k', value: 'v' }])).rejects.toBeInstanceOf(ConnectionError);
    expect(hits).toBe(1);
  });

  it('times out each attempt and reports a ConnectionError', async () => {
    const error = await new Client(url, { timeout: 100, retries: 1 }).get('slow').catch((e: unknown) => e);
    expect(isConnectionError(error)).toBe(true);
    expect((error as ConnectionError).message).toMatch(/timed out after 100 ms/);
    expect((error as ConnectionError).key).toBe('slow');
  });

  it('unreachable server -> ConnectionError after retries', async () => {
    const error = await new Client('http://127.0.0.1:1', { retries: 1 }).get('k').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConnectionError);
  });

  it('other statuses -> ResponseError with the status', async () => {
    const error = await new Client(url).get('teapot').catch((e: unknown) => e);
    expect((error as ResponseError).status).toBe(418);
    expect((error as ResponseError).message).toContain('teapot');
  });

  it('rejects bad arguments before sending', async () => {
    const client = new Client(url);
    hits = 0;
    await expect(client.get('')).rejects.toBeInstanceOf(InvalidArgumentError);
    await expect(client.get(' / ')).rejects.toThrow(/key is required/);
    await expect(client.set('k', 'v', { ifRevision: -1 })).rejects.toBeInstanceOf(InvalidArgumentError);
    await expect(client.set('k', 'v', { ifRevision: 1, ifAbsent: true })).rejects.toBeInstanceOf(InvalidArgumentError);
    await expect(client.setMany([])).rejects.toBeInstanceOf(InvalidArgumentError);
    expect(() => new Client(url, { zkKey: 'short' })).toThrow(InvalidArgumentError);
    expect(() => new Client(url, { timeout: 0 })).toThrow(InvalidArgumentError);
    expect(hits).toBe(0);
  });

  it('close() aborts and refuses later calls', async () => {
    const client = new Client(url, { zkKey: 'a-passphrase-of-16+' });
    const pending = client.get('slow').catch((e: unknown) => e);
    client.close();
    const error = await pending;
    expect(isStashError(error)).toBe(true);
    expect((error as Error).message).toMatch(/closed/);
    await expect(client.get('x')).rejects.toThrow(/closed/);
    client.close();
  });
});

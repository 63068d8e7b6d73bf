import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { makeTempDir, startTestServer, type TestServer } from './helpers/test-server.js';

/** The value of one sample of Prometheus text output, matching every given label (undefined if absent). */
function sample(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  for (const line of text.split('\n')) {
    if (line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    const have = Object.fromEntries([...(m[2] ?? '').matchAll(/(\w+)="([^"]*)"/g)].map((l) => [l[1], l[2]]));
    if (Object.entries(labels).every(([k, v]) => have[k] === v)) return Number(m[3]);
  }
  return undefined;
}

describe('GET /metrics', () => {
  let server: TestServer | undefined;
  let dir: string | undefined;

  afterEach(async () => {
    await server?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
    server = dir = undefined;
  });

  const call = async (path: string, init?: RequestInit): Promise<number> => {
    const res = await fetch(`${server?.url}${path}`, init);
    await res.arrayBuffer();
    return res.status;
  };

  it('reports requests per route and status, KV operations, revision and DB latency', async () => {
    server = await startTestServer();
    expect(await call('/kv/app/a', { method: 'PUT', body: 'one' })).toBe(201);
    expect(await call('/kv/app/a', { method: 'PUT', body: 'two' })).toBe(200);
    expect(await call('/kv/app/a', { method: 'PUT', body: 'three', headers: { 'if-match': '"1"' } })).toBe(412);
    expect(await call('/kv/app/a')).toBe(200);
    expect(await call('/kv/app/a')).toBe(200);
    expect(await call('/kv/app/missing')).toBe(404);
    expect(await call('/kv/app/missing', { method: 'DELETE' })).toBe(404);
    const batch = JSON.stringify([{ key: 'app/b', value: 'b' }, { key: 'app/c', value: 'c' }]);
    expect(await call('/kv/', { method: 'POST', body: batch, headers: { 'content-type': 'application/json' } })).toBe(200);
    expect(await call('/kv/?prefix=app/')).toBe(200);
    expect(await call('/kv/?values=true')).toBe(200);
    expect(await call('/kv/history/app/a')).toBe(200);
    expect(await call('/kv/app/b', { method: 'DELETE' })).toBe(204);
    expect(await call('/ping')).toBe(200);

    const res = await fetch(`${server.url}/metrics`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    const text = await res.text();

    const requests = (route: string, status: string): number | undefined =>
      sample(text, 'stash_http_request_duration_seconds_count', { route, status });
    expect(requests('kv.put', '201')).toBe(1);
    expect(requests('kv.put', '200')).toBe(1);
    expect(requests('kv.put', '412')).toBe(1);
    expect(requests('kv.get', '200')).toBe(2);
    expect(requests('kv.get', '404')).toBe(1);
    expect(requests('kv.delete', '404')).toBe(1);
    expect(requests('kv.delete', '204')).toBe(1);
    expect(requests('kv.batch', '200')).toBe(1);
    expect(requests('kv.list', '200')).toBe(1);
    expect(requests('kv.export', '200')).toBe(1);
    expect(requests('kv.history', '200')).toBe(1);
    expect(requests('ping', '200')).toBe(1);
    expect(sample(text, 'stash_http_request_duration_seconds_bucket', { route: 'kv.get', status: '200', le: '+Inf' })).toBe(2);

    const kv = (op: string, result: string): number | undefined => sample(text, 'stash_kv_operations_total', { op, result });
    expect(kv('put', 'ok')).toBe(2);
    expect(kv('put', 'conflict')).toBe(1);
    expect(kv('get', 'ok')).toBe(2);
    expect(kv('get', 'not_found')).toBe(1);
    expect(kv('delete', 'not_found')).toBe(1);
    expect(kv('delete', 'ok')).toBe(1);
    expect(kv('batch', 'ok')).toBe(1);
    expect(kv('list', 'ok')).toBe(1);
    expect(kv('export', 'ok')).toBe(1);
    expect(kv('history', 'ok')).toBe(1);

    expect(sample(text, 'stash_revision')).toBe(await server.store.currentRevision());
    expect(sample(text, 'stash_revision')).toBe(5);
    expect(sample(text, 'stash_db_operation_duration_seconds_count', { op: 'apply' })).toBe(6);
    // the second read of the same key is answered from memory: a KV operation, not a storage read
    expect(sample(text, 'stash_db_operation_duration_seconds_count', { op: 'get' })).toBe(2);
    expect(sample(text, 'stash_db_operation_duration_seconds_sum', { op: 'apply' })).toBeGreaterThan(0);
    expect(sample(text, 'stash_process_resident_memory_bytes')).toBeGreaterThan(0);
    expect(sample(text, 'stash_http_requests_in_flight')).toBe(1); // this scrape
  });

  it('starts the revision gauge at the stored revision of an existing database', async () => {
    dir = makeTempDir('stash-metrics-');
    const db = join(dir, 'stash.db');
    server = await startTestServer(['--db', db]);
    for (const key of ['a', 'b', 'c']) await call(`/kv/${key}`, { method: 'PUT', body: key });
    await server.close();
    server = await startTestServer(['--db', db]);
    expect(sample(await (await fetch(`${server.url}/metrics`)).text(), 'stash_revision')).toBe(3);
  });

  it('is absent with --metrics.enabled=false', async () => {
    server = await startTestServer(['--metrics.enabled=false']);
    expect(await call('/kv/a', { method: 'PUT', body: 'x' })).toBe(201);
    expect(await call('/metrics')).toBe(404);
  });

  it('requires the bearer token given with --metrics.token', async () => {
    server = await startTestServer(['--metrics.token', 's3cret-token']);
    expect(await call('/metrics')).toBe(401);
    expect(await call('/metrics', { headers: { authorization: 'Bearer wrong' } })).toBe(401);
    expect(await call('/metrics', { headers: { authorization: 's3cret-token' } })).toBe(401);
    const res = await fetch(`${server.url}/metrics`, { headers: { authorization: 'Bearer s3cret-token' } });
    expect(res.status).toBe(200);
    expect(await res.text()).toContain('# TYPE stash_kv_operations_total counter');
  });
});

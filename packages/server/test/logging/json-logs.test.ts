import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeTempDir } from '../helpers/test-server.js';
import { buildOnce, freePort, runStash, startStashProcess, waitForPing, type Spawned } from '../helpers/spawned-server.js';

interface JsonLine {
  time: string;
  level: string;
  msg: string;
  request_id?: string;
}

const LEVELS = ['DEBUG', 'INFO', 'WARN', 'ERROR'];

/** Every stdout line must be one JSON object with time, level and msg; anything else fails the test. */
function parseJsonLines(stdout: string): JsonLine[] {
  return stdout
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => {
      const parsed = JSON.parse(line) as JsonLine;
      expect(Object.keys(parsed).slice(0, 3), line).toEqual(['time', 'level', 'msg']);
      expect(new Date(parsed.time).toISOString(), line).toBe(parsed.time);
      expect(LEVELS, line).toContain(parsed.level);
      expect(typeof parsed.msg, line).toBe('string');
      return parsed;
    });
}

/** SIGTERM and wait, so every batched line is on stdout before it is read. */
async function stop(server: Spawned): Promise<void> {
  server.proc.kill('SIGTERM');
  expect(await server.exited).toBe(0);
}

interface Exchange {
  method: string;
  path: string;
  status: number;
  id: string;
}

async function call(url: string, method: string, path: string, init: { body?: string; id?: string } = {}): Promise<Exchange> {
  const res = await fetch(`${url}${path}`, {
    method,
    body: init.body,
    headers: init.id ? { 'x-request-id': init.id } : {},
  });
  await res.arrayBuffer();
  return { method, path, status: res.status, id: res.headers.get('x-request-id') ?? '' };
}

describe('--log.format=json (spawned server)', () => {
  let dir: string;

  beforeAll(async () => {
    await buildOnce();
    dir = makeTempDir('stash-json-logs-');
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('writes only JSON lines, and each request line carries the id its response showed', async () => {
    const server = await startStashProcess(join(dir, 'debug.db'), ['--log.format=json', '--dbg']);
    const exchanges = [
      await call(server.url, 'PUT', '/kv/app/traced', { body: 'v1', id: 'trace-from-the-caller-42' }),
      await call(server.url, 'PUT', '/kv/app/untraced', { body: 'v2' }),
      await call(server.url, 'GET', '/kv/app/traced'),
      await call(server.url, 'GET', '/kv/app/missing'),
      await call(server.url, 'POST', '/kv/', { body: '[{"key":"a","value":"1"},{"key":"b","value":"2"}]' }),
      await call(server.url, 'POST', '/kv/', { body: 'not json' }),
      await call(server.url, 'DELETE', '/kv/app/untraced'),
      await call(server.url, 'GET', '/ping'),
    ];
    await stop(server);
    const lines = parseJsonLines(server.stdout());
    expect(server.stderr()).toBe('');

    expect(exchanges.map((e) => e.status)).toEqual([201, 201, 200, 404, 200, 400, 204, 200]);
    expect(exchanges[0]?.id).toBe('trace-from-the-caller-42');
    const ids = exchanges.map((e) => e.id);
    expect(new Set(ids).size).toBe(ids.length); // generated ids differ
    for (const e of exchanges) {
      const own = lines.filter((l) => l.request_id === e.id);
      // the access line at debug level: method, target, status
      expect(own.map((l) => `${l.level} ${l.msg.split(' ').slice(0, 3).join(' ')}`), e.path).toContain(`DEBUG ${e.method} ${e.path} ${e.status}`);
    }
    // the handlers' own lines name the same request
    const byId = (id: string | undefined): string[] => lines.filter((l) => l.request_id === id && l.level === 'INFO').map((l) => l.msg);
    expect(byId(exchanges[0]?.id)).toEqual(['set app/traced (create, revision 1)']);
    expect(byId(exchanges[4]?.id)).toEqual(['batch of 2 writes (revision 4)']);
    expect(byId(exchanges[6]?.id)).toEqual(['deleted app/untraced (revision 5)']);
    // lines that belong to no request carry no id
    const startUp = lines.filter((l) => l.msg.startsWith('stash server listening') || l.msg.startsWith('stash v'));
    expect(startUp).toHaveLength(2);
    expect(startUp.every((l) => l.request_id === undefined)).toBe(true);
  });

  it('STASH_LOG_FORMAT=json selects it too; without --dbg there are no access lines', async () => {
    const port = await freePort();
    const server = runStash(
      ['server', `--db=${join(dir, 'env.db')}`, `--server.address=127.0.0.1:${port}`, '--limits.requests-per-sec=0'],
      { STASH_LOG_FORMAT: 'json' },
    );
    await waitForPing(`http://127.0.0.1:${port}`, server);
    const put = await call(`http://127.0.0.1:${port}`, 'PUT', '/kv/env/key', { body: 'x' });
    await stop(server);
    const lines = parseJsonLines(server.stdout());
    expect(lines.some((l) => l.level === 'DEBUG')).toBe(false);
    expect(lines.filter((l) => l.request_id === put.id).map((l) => l.msg)).toEqual(['set env/key (create, revision 1)']);
  });

  it('the default stays the original text format, with the request id at the end of request lines', async () => {
    const server = await startStashProcess(join(dir, 'text.db'));
    const put = await call(server.url, 'PUT', '/kv/text/key', { body: 'x', id: 'text-trace-7' });
    await stop(server);
    const lines = server.stdout().split('\n').filter((l) => l !== '');
    expect(lines[0]).toMatch(/^stash v?\S+$/);
    for (const line of lines.slice(1)) expect(line).toMatch(/^\d{4}\/\d\d\/\d\d \d\d:\d\d:\d\d \[(DEBUG|INFO|WARN|ERROR)\] /);
    expect(put.id).toBe('text-trace-7');
    expect(lines.filter((l) => l.includes('set text/key'))).toEqual([expect.stringMatching(/\[INFO\] set text\/key \(create, revision 1\) \(request text-trace-7\)$/)]);
  });

  it('an unknown format stops start-up with a clear message', async () => {
    const p = runStash(['server', `--db=${join(dir, 'bad.db')}`, '--log.format=xml']);
    expect(await p.exited).toBe(1);
    expect(p.stdout()).toContain('invalid --log.format "xml": expected text or json');
  });
});

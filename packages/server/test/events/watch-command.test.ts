import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Client } from '@stash/client';
import { parseClientArgs } from '../../src/cli/client/client-args.js';
import type { CommandContext } from '../../src/cli/client/command.js';
import type { CliIo } from '../../src/cli/client/terminal.js';
import { runWatch } from '../../src/cli/client/watch-command.js';
import { startTestServer, type TestServer } from '../helpers/test-server.js';
import { buildOnce, runStash } from '../helpers/spawned-server.js';
import { eventually, metricValue, put } from './sse-helpers.js';

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer(['--server.shutdown-timeout', '300ms']);
});
afterAll(async () => {
  await server.close();
});

/** Run `stash watch ...args` in-process until `stop` aborts; returns what it printed. */
function watch(args: string[]): { out: string[]; err: string[]; stop: AbortController; done: Promise<number>; client: Client } {
  const out: string[] = [];
  const err: string[] = [];
  const io: CliIo = {
    out: (d) => out.push(typeof d === 'string' ? d : new TextDecoder().decode(d)),
    err: (t) => err.push(t),
    readStdin: () => Promise.resolve(new Uint8Array()),
    stdoutIsTTY: false,
    stderrIsTTY: false,
    stdinIsTTY: false,
  };
  const client = new Client(server.url);
  const ctx: CommandContext = { args: parseClientArgs(['watch', ...args]), io, env: {}, client: () => client };
  const stop = new AbortController();
  return { out, err, stop, done: runWatch(ctx, stop.signal), client };
}

/** Resolves once `fn` holds; fails the test after 5 s. */
const until = (fn: () => boolean): Promise<void> => eventually(() => fn(), 5000);

/**
 * Resolves once the server holds exactly `n` open change streams. The handler registers a
 * stream before it reads the revision the stream starts after, in the same turn, so every write
 * sent once the count shows the watch's stream reaches it.
 */
const openStreams = (n: number): Promise<void> =>
  eventually(async () => (await metricValue(server.metrics.sseSubscribers)) === n, 10_000);

describe('stash watch', () => {
  it('prints one line per change under a prefix until interrupted', async () => {
    await openStreams(0);
    const w = watch(['cfg/*']);
    await openStreams(1);
    await put(server.url, 'cfg/a', '1');
    await put(server.url, 'other', '1');
    await put(server.url, 'cfg/a', '2');
    await until(() => w.out.length >= 2);
    w.stop.abort();
    expect(await w.done).toBe(0);
    expect(w.out).toHaveLength(2);
    expect(w.out[0]).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ create cfg\/a \(revision \d+\)\n$/);
    expect(w.out[1]).toMatch(/ update cfg\/a \(revision \d+\)\n$/);
    w.client.close();
  });

  it('--json prints one JSON object per line for an exact key', async () => {
    await openStreams(0); // the previous test's watch has gone
    const w = watch(['exact', '--json']);
    await openStreams(1);
    await put(server.url, 'exact/child', '1');
    await put(server.url, 'exact', '1');
    await fetch(`${server.url}/kv/exact`, { method: 'DELETE' });
    await until(() => w.out.length >= 2);
    w.stop.abort();
    expect(await w.done).toBe(0);
    const lines = w.out.map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines.map((l) => [l['type'], l['key'], l['action']])).toEqual([
      ['change', 'exact', 'create'],
      ['change', 'exact', 'delete'],
    ]);
    expect(lines[0]).toHaveProperty('format', 'text');
    expect(lines[1]).not.toHaveProperty('format');
    w.client.close();
  });

  it('the built bin watches every key and exits 0 on SIGINT', async () => {
    await buildOnce();
    await openStreams(0);
    const proc = runStash(['watch', '--url', server.url, '--json']);
    await openStreams(1);
    await put(server.url, 'from-bin', 'v');
    await until(() => proc.stdout().includes('from-bin'));
    proc.proc.kill('SIGINT');
    expect(await proc.exited).toBe(0);
    expect(JSON.parse(proc.stdout().trim().split('\n').at(-1) ?? '')).toMatchObject({ key: 'from-bin', action: 'create' });
  }, 120_000);
});

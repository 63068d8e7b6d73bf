import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runClientCommand } from '../../src/cli/client/run.js';
import type { CliIo } from '../../src/cli/client/terminal.js';
import { makeTempDir, startTestServer, type TestServer } from '../helpers/test-server.js';

// the same commands as the spawned bin, run in-process: fast, and able to fake a terminal
const ZK_KEY = 'cli-test-passphrase-16';

interface RunOptions {
  env?: Record<string, string>;
  stdin?: string | Buffer;
  tty?: boolean;
}

async function run(args: string[], options: RunOptions = {}) {
  const out: Buffer[] = [];
  let stderr = '';
  const io: CliIo = {
    out: (data) => void out.push(Buffer.from(data)),
    err: (text) => void (stderr += text),
    readStdin: () => Promise.resolve(new Uint8Array(Buffer.from(options.stdin ?? ''))),
    stdoutIsTTY: options.tty === true,
    stderrIsTTY: options.tty === true,
    stdinIsTTY: options.stdin === undefined,
  };
  const code = await runClientCommand(args, options.env ?? {}, io);
  const stdoutBytes = Buffer.concat(out);
  return { code, stdout: stdoutBytes.toString('utf8'), stdoutBytes, stderr };
}

describe('stash client commands (in-process)', () => {
  let server: TestServer;
  let env: Record<string, string>;
  const cli = (args: string[], stdin?: string | Buffer) => run(args, stdin === undefined ? { env } : { env, stdin });

  beforeAll(async () => {
    server = await startTestServer();
    env = { STASH_URL: server.url };
  });

  afterAll(async () => {
    await server?.close();
  });

  it('ls: tab-separated when piped, --json', async () => {
    await cli(['set', 'ls/one', '1']);
    await cli(['set', 'ls/two', '22', '--format=yaml']);
    const ls = await cli(['ls', 'ls/']);
    expect(ls.code).toBe(0);
    const rows = ls.stdout.trim().split('\n').map((line) => line.split('\t'));
    expect(rows.map((r) => r[0]).sort()).toEqual(['ls/one', 'ls/two']);
    expect(rows.find((r) => r[0] === 'ls/two')?.slice(1, 3)).toEqual(['2', 'yaml']);
    expect(rows.every((r) => r.length === 6)).toBe(true);
    const json = JSON.parse((await cli(['ls', 'ls/', '--json'])).stdout) as { key: string; zk_encrypted: boolean }[];
    expect(json.map((k) => k.key).sort()).toEqual(['ls/one', 'ls/two']);
    expect(json[0]).toHaveProperty('zk_encrypted', false);
  });

  it('history and rollback (conditional)', async () => {
    await cli(['set', 'rb/k', 'first', '--format', 'json']);
    await cli(['set', 'rb/k', 'second']);
    const history = JSON.parse((await cli(['history', 'rb/k', '--json'])).stdout) as { revision: number; operation: string }[];
    expect(history.map((h) => h.operation)).toEqual(['update', 'create']);
    const first = history[1]!.revision;
    const table = await cli(['history', 'rb/k', '--limit', '1']);
    expect(table.stdout.trim().split('\n')).toHaveLength(1);
    const rollback = await cli(['rollback', 'rb/k', '--to', String(first)]);
    expect(rollback.code).toBe(0);
    expect(rollback.stderr).toMatch(/rolled back rb\/k to revision/);
    expect((await cli(['get', 'rb/k'])).stdout).toBe('first');
    expect((await server.service.get('rb/k')).format).toBe('json');
    expect((await cli(['rollback', 'rb/k', '--to', '999999'])).code).toBe(1);
    await cli(['rm', 'rb/k']);
    expect((await cli(['rollback', 'rb/k', '--to', String(first)])).code).toBe(0);
    expect((await cli(['get', 'rb/k'])).stdout).toBe('first');
  });

  it('--zk-key / STASH_ZK_KEY encrypt client-side', async () => {
    expect((await cli(['set', 'zk/k', 'secret value', '--zk-key', ZK_KEY])).code).toBe(0);
    expect((await cli(['get', 'zk/k'])).stdout.startsWith('$ZK$')).toBe(true);
    const plain = await run(['get', 'zk/k'], { env: { ...env, STASH_ZK_KEY: ZK_KEY } });
    expect(plain.stdout).toBe('secret value');
    const wrong = await cli(['get', 'zk/k', '--zk-key', 'another-passphrase-16']);
    expect(wrong.code).toBe(5);
    expect(wrong.stderr).toMatch(/decrypt/);
    const short = await cli(['get', 'zk/k', '--zk-key', 'short']);
    expect(short.code).toBe(2);
    expect(short.stderr).toMatch(/at least 16/);
  });

  it('ls on a terminal: aligned table with a header', async () => {
    await cli(['set', 'tty/a', '1']);
    await cli(['set', 'tty/longer-key-name', '12345', '--format', 'json']);
    const res = await run(['ls', 'tty/'], { env, tty: true });
    const lines = res.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^KEY\s+SIZE\s+FORMAT\s+FLAGS\s+UPDATED\s+REVISION$/);
    expect(lines).toHaveLength(3);
    expect(res.stdout).not.toContain('\t');
    const sizeColumn = lines.map((line) => line.indexOf(line.includes('KEY') ? 'SIZE' : line.split(/\s+/)[1]!));
    expect(new Set(sizeColumn).size).toBe(1);
  });

  it('progress bar on a terminal for many keys, nothing extra when piped', async () => {
    const items = Array.from({ length: 30 }, (_, i) => ({ key: `many/k${i}`, value: `v${i}` }));
    await server.service.batch(items.map((i) => ({ key: i.key, value: Buffer.from(i.value), format: 'text' as const })), '');
    const tty = await run(['export', 'many/'], { env, tty: true });
    expect(tty.stderr).toMatch(/\rexport \[#+\] 30\/30/);
    expect(JSON.parse(tty.stdout)).toHaveLength(30);
    const piped = await run(['export', 'many/'], { env });
    expect(piped.stderr).toBe('exported 30 keys at revision ' + piped.stderr.match(/revision (\d+)/)![1] + '\n');
    const few = await run(['export', 'tty/'], { env, tty: true });
    expect(few.stderr).not.toContain('[');
  });

  it('usage errors exit 2 with a usage line', async () => {
    const cases = [
      ['get'],
      ['get', 'a', 'b'],
      ['get', 'a', '--bogus'],
      ['get', 'a', '--format', 'json'],
      ['get', 'a', '--url'],
      ['ls', '--json=yes'],
      ['rollback', 'k'],
      ['rollback', 'k', '--to', 'x'],
      ['set', 'k', 'v', '--format', 'nope'],
      ['set', 'k', 'v', '--if-revision', '-1'],
      ['get', '/'],
      ['nonsense'],
    ];
    for (const args of cases) {
      const res = await cli(args);
      expect(res.code, args.join(' ')).toBe(2);
      expect(res.stderr, args.join(' ')).toMatch(/^(stash|Unknown command)/);
    }
    expect((await run(['set', 'k'], { env })).stderr).toMatch(/missing VALUE/);
    expect((await run(['get', 'k'], { env: { STASH_URL: 'not a url' } })).code).toBe(2);
  });

  it('--help prints the command usage and exits 0', async () => {
    const help = await cli(['ls', '--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/Usage: stash ls \[PREFIX\] \[--json\]/);
    expect(help.stdout).toMatch(/--url URL .*\[\$STASH_URL\]/);
  });

  it('--if-revision on set and rm: conflict exits 4', async () => {
    await cli(['set', 'cas/k', 'v1']);
    const current = (await server.service.get('cas/k')).revision;
    expect((await cli(['set', 'cas/k', 'v2', '--if-revision', String(current)])).code).toBe(0);
    const stale = await cli(['set', 'cas/k', 'v3', '--if-revision', String(current)]);
    expect(stale.code).toBe(4);
    expect((await cli(['set', 'cas/k', 'v3', '--if-revision', '0'])).code).toBe(4);
    expect((await cli(['rm', 'cas/k', '--if-revision', String(current)])).code).toBe(4);
    expect((await cli(['rm', 'cas/k', '--if-revision', String(current + 1)])).code).toBe(0);
  });

  it('import of an unreadable or non-JSON file exits 5', async () => {
    const missing = await cli(['import', '/nonexistent/file.json']);
    expect(missing.code).toBe(5);
    expect(missing.stderr).toMatch(/cannot read .*ENOENT/);
    const dir = makeTempDir('stash-cli-import-');
    try {
      writeFileSync(join(dir, 'x.json'), 'not json');
      const bad = await cli(['import', join(dir, 'x.json')]);
      expect(bad.code).toBe(5);
      expect(bad.stderr).toMatch(/not valid JSON/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

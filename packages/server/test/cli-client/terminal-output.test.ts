import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeTempDir, startTestServer, type TestServer } from '../helpers/test-server.js';
import { SCRIPT_BIN, buildOnce, runCli, runCliInPty } from './run-cli.js';

// A real terminal for the built bin: util-linux `script` gives the command a pseudo-terminal on
// stdin, stdout and stderr. The terminal turns "\n" into "\r\n", and both streams arrive merged.
const ESC = '\x1b[';
// SGR and cursor sequences, to read the text a terminal would show
const ANSI = new RegExp(`${String.fromCharCode(27)}\\[[0-9;]*[A-Za-z]`, 'g');
if (SCRIPT_BIN === undefined) console.warn('script (util-linux) is not installed: skipping the pseudo-terminal tests');

describe.skipIf(SCRIPT_BIN === undefined)('stash on a terminal and piped (built bin)', () => {
  let server: TestServer;
  let dir: string;
  let env: Record<string, string>;
  const put = (key: string, value: string | Buffer) => server.service.put(key, Buffer.from(value), 'text', { actor: '' });

  beforeAll(async () => {
    await buildOnce();
    server = await startTestServer();
    env = { STASH_URL: server.url };
    dir = makeTempDir('stash-cli-tty-');
    await put('t/plain', 'hello');
    await put('t/newline', 'line\n');
    await put('t/multi', 'a\nb');
    await put('t/bin', Buffer.from([0xff, 0x00, 0x0a, 0x41]));
  });

  afterAll(async () => {
    await server?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('get: a newline is added on a terminal only when the value lacks one; piped output is byte-exact', async () => {
    expect((await runCliInPty(['get', 't/plain'], { env })).stdout).toBe('hello\r\n');
    expect((await runCliInPty(['get', 't/newline'], { env })).stdout).toBe('line\r\n'); // not a second one
    expect((await runCliInPty(['get', 't/multi'], { env })).stdout).toBe('a\r\nb\r\n');
    expect((await runCli(['get', 't/plain'], { env })).stdoutBytes.equals(Buffer.from('hello'))).toBe(true);
    expect((await runCli(['get', 't/multi'], { env })).stdoutBytes.equals(Buffer.from('a\nb'))).toBe(true);
    expect((await runCli(['get', 't/bin'], { env })).stdoutBytes.equals(Buffer.from([0xff, 0x00, 0x0a, 0x41]))).toBe(true);
  });

  it('ls: a bold header and aligned columns on a terminal, tab-separated without a header when piped', async () => {
    const tty = await runCliInPty(['ls', 't/'], { env });
    const lines = tty.stdout.trimEnd().split('\r\n');
    expect(lines[0]).toContain(`${ESC}1mKEY`);
    const plain = lines.map((l) => l.replaceAll(ANSI, ''));
    expect(plain[0]).toMatch(/^KEY\s+SIZE\s+FORMAT\s+FLAGS\s+UPDATED\s+REVISION$/);
    expect(plain.slice(1).map((l) => l.split(/\s+/)[0]).sort()).toEqual(['t/bin', 't/multi', 't/newline', 't/plain']);
    const sizeAt = plain.map((l, i) => (i === 0 ? l.indexOf('SIZE') : l.search(/(?<=\s)\d+(?=\s)/)));
    expect(new Set(sizeAt).size).toBe(1); // one column
    expect(tty.stdout).not.toContain('\t');

    const piped = await runCli(['ls', 't/'], { env });
    expect(piped.stdout).not.toContain('KEY');
    expect(piped.stdout).not.toContain(ESC);
    const rows = piped.stdout.trimEnd().split('\n').map((l) => l.split('\t'));
    expect(rows).toHaveLength(4);
    expect(rows.every((r) => r.length === 6)).toBe(true);
  });

  it('NO_COLOR (and TERM=dumb) turn colour off on a terminal; the table stays', async () => {
    for (const extra of [{ NO_COLOR: '1' }, { TERM: 'dumb' }] as Record<string, string>[]) {
      const res = await runCliInPty(['ls', 't/'], { env: { ...env, ...extra } });
      expect(res.stdout, JSON.stringify(extra)).not.toContain(ESC);
      expect(res.stdout).toMatch(/^KEY\s+SIZE/);
    }
    const history = await runCliInPty(['history', 't/plain'], { env: { ...env, NO_COLOR: '1' } });
    expect(history.stdout).toMatch(/^REVISION\s+TIMESTAMP\s+OPERATION/);
    expect(history.stdout).not.toContain(ESC);
  });

  it('--json is plain JSON on a terminal too', async () => {
    for (const args of [['ls', 't/', '--json'], ['history', 't/plain', '--json'], ['set', 't/json', 'v', '--json']]) {
      const res = await runCliInPty(args, { env });
      expect(res.stdout, args.join(' ')).not.toContain(ESC);
      const jsonText = res.stdout.replaceAll('\r\n', '\n').split('\n').filter((l) => !/^created /.test(l)).join('\n');
      expect(() => JSON.parse(jsonText) as unknown, args.join(' ')).not.toThrow();
    }
    const set = await runCli(['set', 't/json', 'v2', '--json'], { env });
    expect(JSON.parse(set.stdout)).toMatchObject({ key: 't/json', created: false });
    expect(set.stdout.trim().split('\n')).toHaveLength(1);
  });

  it('progress bars on a terminal for export and import of many keys; none when piped', async () => {
    const items = Array.from({ length: 40 }, (_, i) => ({ key: `bulk/k${String(i).padStart(2, '0')}`, value: `v${i}` }));
    const file = join(dir, 'bulk.json');
    writeFileSync(file, JSON.stringify(items));
    const imported = await runCliInPty(['import', file, '--yes'], { env });
    expect(imported.code).toBe(0);
    expect(imported.stdout).toMatch(/\rimport \[[#.]+\] 0\/40/);
    expect(imported.stdout).toContain('imported 40 keys');
    const exported = await runCliInPty(['export', 'bulk/'], { env });
    expect(exported.stdout).toMatch(/\rexport \[#+\] 40\/40/);

    writeFileSync(file, JSON.stringify(items.map((i) => ({ ...i, value: `${i.value}!` }))));
    const piped = await runCli(['import', file], { env });
    expect(piped.code).toBe(0);
    expect(piped.stderr).not.toContain('[');
    expect(piped.stderr).not.toContain('\r');
    expect(piped.stderr).toMatch(/^imported 40 keys \(revision \d+\): 0 created, 40 updated, 0 left alone\n$/);
    const pipedExport = await runCli(['export', 'bulk/'], { env });
    expect(pipedExport.stderr).toMatch(/^exported 40 keys at revision \d+\n$/);
  });

  it('import on a terminal shows the plan and asks; only "y" writes', async () => {
    const file = join(dir, 'ask.json');
    writeFileSync(file, JSON.stringify([{ key: 'ask/new', value: 'n' }, { key: 't/plain', value: 'hello' }, { key: 't/newline', value: 'changed' }]));
    const no = await runCliInPty(['import', file], { env, stdin: 'n\n' });
    expect(no.code).toBe(5);
    const plain = no.stdout.replaceAll(ANSI, '');
    expect(plain).toMatch(/CHANGE\s+KEY\s+FORMAT\s+SIZE/);
    expect(plain).toMatch(/create\s+ask\/new/);
    expect(plain).toMatch(/update\s+t\/newline/);
    expect(plain).not.toMatch(/unchanged\s+t\/plain/); // left-alone rows are counted, not listed
    expect(plain).toContain('1 to create, 1 to update, 1 left alone');
    expect(plain).toContain('write these 2 keys in one batch? [y/N]');
    expect(plain).toContain('import cancelled: nothing was written');
    expect(no.stdout).toContain(`${ESC}32mcreate`); // coloured on a terminal
    await expect(server.service.get('ask/new')).rejects.toThrow();

    const yes = await runCliInPty(['import', file], { env, stdin: 'y\n' });
    expect(yes.code).toBe(0);
    expect(yes.stdout).toContain('imported 2 keys');
    expect(Buffer.from((await server.service.get('ask/new')).value).toString()).toBe('n');
    expect(Buffer.from((await server.service.get('t/newline')).value).toString()).toBe('changed');
  });
});

import { execFile } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readEnvFile, readValDirectory } from '../../src/cli/client/import-sources.js';
import { makeTempDir, startTestServer, type TestServer } from '../helpers/test-server.js';

const BIN = fileURLToPath(new URL('../../bin/stash.js', import.meta.url));

function stash(args: string[], url: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [BIN, ...args], { env: { ...process.env, STASH_URL: url } }, (error, stdout, stderr) => {
      resolve({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr });
    });
  });
}

describe('import sources: .env files and directories of .val files', () => {
  let tmp: string;
  let server: TestServer;

  beforeAll(async () => {
    tmp = makeTempDir('stash-import-');
    server = await startTestServer();
  });
  afterAll(async () => {
    await server.close();
    rmSync(tmp, { recursive: true, force: true });
  });

  const write = (rel: string, content: string | Buffer): string => {
    const path = join(tmp, rel);
    mkdirSync(join(path, '..'), { recursive: true });
    writeFileSync(path, content);
    return path;
  };
  const keys = async (): Promise<string[]> => (await server.store.list()).map((k) => k.key).sort();

  it('parses .env syntax: comments, export, quotes, escapes, multi-line values', async () => {
    const path = write(
      'parse/.env',
      [
        '# comment',
        '',
        'PLAIN=value # trailing comment',
        'export EXPORTED=yes',
        'EMPTY=',
        `SINGLE='literal \\n # not a comment'`,
        'DOUBLE="line1\\nline2 \\"q\\""',
        'MULTI="first',
        'second"',
        'URL=postgres://u:p@h/db?x=1#frag',
      ].join('\r\n'),
    );
    expect(await readEnvFile(path)).toEqual([
      { key: 'PLAIN', value: 'value', format: 'text' },
      { key: 'EXPORTED', value: 'yes', format: 'text' },
      { key: 'EMPTY', value: '', format: 'text' },
      { key: 'SINGLE', value: 'literal \\n # not a comment', format: 'text' },
      { key: 'DOUBLE', value: 'line1\nline2 "q"', format: 'text' },
      { key: 'MULTI', value: 'first\nsecond', format: 'text' },
      { key: 'URL', value: 'postgres://u:p@h/db?x=1#frag', format: 'text' },
    ]);
  });

  it('rejects broken .env files with the line number', async () => {
    await expect(readEnvFile(write('bad1/.env', 'OK=1\nnot a pair\n'))).rejects.toThrow(/\.env:2: expected KEY=VALUE/);
    await expect(readEnvFile(write('bad2/.env', 'A=1\nA=2\n'))).rejects.toThrow(/:2: duplicate key "A" \(first on line 1\)/);
    await expect(readEnvFile(write('bad3/.env', 'A="open\n'))).rejects.toThrow(/:1: unterminated " quote/);
  });

  it('reads a directory of .val files (nested keys, .git skipped, UTF-8 required)', async () => {
    write('vals/app/db/url.val', 'postgres://x');
    write('vals/top.val', 'v');
    write('vals/.git/config.val', 'ignored');
    write('vals/notes.txt', 'ignored');
    expect(await readValDirectory(join(tmp, 'vals'))).toEqual([
      { key: 'app/db/url', value: 'postgres://x', format: 'text' },
      { key: 'top', value: 'v', format: 'text' },
    ]);
    write('binvals/bad.val', Buffer.from([0xc3, 0x28]));
    await expect(readValDirectory(join(tmp, 'binvals'))).rejects.toThrow(/bad\.val: not valid UTF-8 text/);
  });

  it('stash import FILE.env and stash import DIR write one batch each', async () => {
    const env = write('app.env', 'DB_HOST=db\nDB_PORT=5432\n');
    const envRun = await stash(['import', env], server.url);
    expect(envRun.stderr).toContain('imported 2 keys');
    expect(envRun.code).toBe(0);
    write('tree/svc/a.val', 'A');
    write('tree/svc/b.val', 'B');
    const dirRun = await stash(['import', join(tmp, 'tree')], server.url);
    expect(dirRun.code).toBe(0);
    expect(await keys()).toEqual(['DB_HOST', 'DB_PORT', 'svc/a', 'svc/b']);
    expect(Buffer.from((await server.store.get('DB_PORT'))?.value ?? []).toString()).toBe('5432');
  });

  it('all or nothing: one refused key (a secret without --secrets.key) writes nothing', async () => {
    const before = await keys();
    write('mixed/ok/one.val', '1');
    write('mixed/app/secrets/pw.val', 'p');
    const run = await stash(['import', join(tmp, 'mixed')], server.url);
    expect(run.code).not.toBe(0);
    expect(await keys()).toEqual(before);
    write('mixed2/ok/two.val', '2');
    write('mixed2/bad.val', Buffer.from([0xff]));
    const bad = await stash(['import', join(tmp, 'mixed2')], server.url);
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toContain('not valid UTF-8');
    expect(await keys()).toEqual(before);
  });
});

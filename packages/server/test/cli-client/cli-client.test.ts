import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeTempDir, startTestServer, type TestServer } from '../helpers/test-server.js';
import { freePort } from '../helpers/spawned-server.js';
import { buildOnce, runCli } from './run-cli.js';

// each spawn costs a Node start-up, so values are checked through the service where the spawn adds nothing
describe('stash client commands', () => {
  let server: TestServer;
  let dir: string;
  let env: Record<string, string>;
  const cli = (args: string[], stdin?: string | Buffer) => runCli(args, stdin === undefined ? { env } : { env, stdin });
  const stored = async (key: string): Promise<Buffer> => Buffer.from((await server.service.get(key)).value);
  const put = (key: string, value: string | Buffer, format: 'text' | 'yaml' = 'text') =>
    server.service.put(key, Buffer.from(value), format, { actor: '' });

  beforeAll(async () => {
    await buildOnce();
    server = await startTestServer();
    dir = makeTempDir('stash-cli-client-');
    env = { STASH_URL: server.url };
  });

  afterAll(async () => {
    await server?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('set, get, rm with exit codes', async () => {
    const set = await cli(['set', 'app/cfg', '{"a":1}', '--format', 'json']);
    expect(set.code).toBe(0);
    expect(set.stderr).toMatch(/created app\/cfg \(revision \d+\)/);
    const get = await cli(['get', 'app/cfg']);
    expect(get).toMatchObject({ code: 0, stdout: '{"a":1}' });
    expect((await server.service.get('app/cfg')).format).toBe('json');
    expect((await cli(['rm', 'app/cfg'])).code).toBe(0);
    const missing = await cli(['get', 'app/cfg']);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/not found/);
  });

  it('takes flags before the command too', async () => {
    await put('pre/flag', 'v1');
    const get = await runCli(['--url', server.url, 'get', 'pre/flag'], { env: {} });
    expect(get).toMatchObject({ code: 0, stdout: 'v1' });
    expect(get.stdout).not.toMatch(/^stash /); // no server banner: it ran as a client command
  });

  it('set reads the value from stdin with "-" (binary safe)', async () => {
    const bytes = Buffer.from([0, 1, 2, 255, 10, 13]);
    expect((await cli(['set', 'bin/v', '-'], bytes)).code).toBe(0);
    expect((await stored('bin/v')).equals(bytes)).toBe(true);
    const get = await cli(['get', 'bin/v']);
    expect(get.stdoutBytes.equals(bytes)).toBe(true);
  });

  it('--url and --token flags win over the environment; keys with odd characters', async () => {
    const res = await runCli(['set', 'odd/a b?#%*ü', 'x', `--url=${server.url}/`], { env: { STASH_URL: 'http://127.0.0.1:1' } });
    expect(res.code).toBe(0);
    expect((await stored('odd/a_b?#%*ü')).toString()).toBe('x');
  });

  it('export > file, import file round-trips values, formats and bytes', async () => {
    await put('exp/text', 'hello ü', 'yaml');
    await put('exp/bin', Buffer.from([0xff, 0xfe, 0]));
    const exported = await cli(['export', 'exp/']);
    expect(exported.code).toBe(0);
    const items = JSON.parse(exported.stdout) as { key: string; value: string; format: string; encoding: string }[];
    expect(items.find((i) => i.key === 'exp/text')).toEqual({ key: 'exp/text', value: 'hello ü', format: 'yaml', encoding: 'text' });
    expect(items.find((i) => i.key === 'exp/bin')).toEqual({ key: 'exp/bin', value: '//4A', format: 'text', encoding: 'base64' });
    const file = join(dir, 'export.json');
    writeFileSync(file, exported.stdout.replaceAll('exp/', 'imp/'));
    const imported = await cli(['import', file]);
    expect(imported.code).toBe(0);
    expect(imported.stderr).toMatch(/imported 2 keys/);
    expect((await stored('imp/text')).toString()).toBe('hello ü');
    expect((await stored('imp/bin')).equals(Buffer.from([0xff, 0xfe, 0]))).toBe(true);
    expect((await server.service.get('imp/text')).format).toBe('yaml');
  });

  it('import is all or nothing: an item the server rejects writes nothing', async () => {
    const file = join(dir, 'bad.json');
    // a secret path without --secrets.key is refused by the server inside the batch
    writeFileSync(file, JSON.stringify([{ key: 'aon/ok', value: 'v' }, { key: 'aon/secrets/x', value: 'v' }]));
    const res = await cli(['import', file]);
    expect(res.code).toBe(5);
    expect(res.stderr).toMatch(/secrets not configured/);
    expect(await server.service.list('aon/', 'all')).toEqual([]);
  });

  it('import rejects a malformed file before sending anything', async () => {
    const file = join(dir, 'malformed.json');
    writeFileSync(file, JSON.stringify([{ key: 'mal/ok', value: 'v' }, { key: 'mal/bad', value: 'v', format: 'nope' }]));
    const res = await cli(['import', file]);
    expect(res.code).toBe(5);
    expect(res.stderr).toMatch(/item 1 \("mal\/bad"\): unknown format/);
    expect(await server.service.list('mal/', 'all')).toEqual([]);
  });

  it('usage errors exit 2 (details in cli-client-inprocess.test.ts)', async () => {
    const res = await cli(['get', 'a', '--bogus']);
    expect(res.code).toBe(2);
    expect(res.stderr).toMatch(/unknown flag --bogus/);
  });

  it('an unreachable server exits 6', async () => {
    const port = await freePort(); // nobody listens there: connection refused
    const down = await runCli(['get', 'k'], { env: { STASH_URL: `http://127.0.0.1:${port}` } });
    expect(down.code).toBe(6);
    expect(down.stderr).toContain(`stash get: GET http://127.0.0.1:${port}/kv/k`);
  });
});

describe('stash client commands with auth', () => {
  let server: TestServer;
  let dir: string;

  beforeAll(async () => {
    await buildOnce();
    dir = makeTempDir('stash-cli-auth-');
    const file = join(dir, 'auth.yml');
    writeFileSync(file, ['tokens:', '  - token: cli-token', '    permissions:', '      - prefix: "app/*"', '        access: rw'].join('\n'));
    server = await startTestServer(['--auth.file', file]);
  });

  afterAll(async () => {
    await server?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('401/403 exit 3, a failed --if-revision exits 4', async () => {
    const env = { STASH_URL: server.url, STASH_TOKEN: 'cli-token' };
    expect((await runCli(['set', 'app/k', 'v'], { env })).code).toBe(0);
    expect((await runCli(['get', 'app/k'], { env: { STASH_URL: server.url } })).code).toBe(3);
    const forbidden = await runCli(['set', 'other/k', 'v'], { env });
    expect(forbidden.code).toBe(3);
    expect(forbidden.stderr).toMatch(/forbidden/);
    const conflict = await runCli(['set', 'app/k', 'v2', '--if-revision', '999'], { env });
    expect(conflict.code).toBe(4);
    expect(conflict.stderr).toMatch(/revision mismatch .*current revision is 1/);
  });
});

import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ResponseError } from '@stash/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EXIT, EXIT_CODE_LINES } from '../../src/cli/client/exit-codes.js';
import { exitCodeFor } from '../../src/cli/client/run.js';
import { freePort } from '../helpers/spawned-server.js';
import { makeTempDir, startTestServer, type TestServer } from '../helpers/test-server.js';
import { buildOnce, runCli } from './run-cli.js';

const CLI_DOC = fileURLToPath(new URL('../../../../docs/cli.md', import.meta.url));

describe('exit codes, one per class (built bin, auth on)', () => {
  let server: TestServer;
  let dir: string;
  const as = (token: string | undefined): Record<string, string> => (token === undefined ? { STASH_URL: server.url } : { STASH_URL: server.url, STASH_TOKEN: token });

  beforeAll(async () => {
    await buildOnce();
    dir = makeTempDir('stash-cli-exit-');
    const auth = join(dir, 'auth.yml');
    const grants = ['      - prefix: "app/secrets/*"', '        access: rw', '      - prefix: "app/*"', '        access: rw'];
    writeFileSync(auth, ['tokens:', '  - token: app-token', '    permissions:', ...grants].join('\n'));
    server = await startTestServer(['--auth.file', auth]);
    await server.service.put('app/k', Buffer.from('v'), 'text', { actor: '' });
  });

  afterAll(async () => {
    await server?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('0 success, 1 not found, 2 usage', async () => {
    expect((await runCli(['get', 'app/k'], { env: as('app-token') })).code).toBe(EXIT.ok);
    expect((await runCli(['get', 'app/missing'], { env: as('app-token') })).code).toBe(EXIT.notFound);
    expect((await runCli(['rollback', 'app/k', '--to', '999999'], { env: as('app-token') })).code).toBe(EXIT.notFound);
    expect((await runCli(['get'], { env: as('app-token') })).code).toBe(EXIT.usage);
    expect((await runCli(['get', 'app/k', '--limit', '3'], { env: as('app-token') })).code).toBe(EXIT.usage);
    expect((await runCli(['nosuchcommand'])).code).toBe(EXIT.usage);
  });

  it('3 unauthorized (401) and forbidden (403)', async () => {
    const missingToken = await runCli(['get', 'app/k'], { env: as(undefined) });
    expect(missingToken.code).toBe(EXIT.auth);
    expect(missingToken.stderr).toMatch(/unauthorized/);
    const forbidden = await runCli(['set', 'other/k', 'v'], { env: as('app-token') });
    expect(forbidden.code).toBe(EXIT.auth);
    expect(forbidden.stderr).toMatch(/forbidden/);
  });

  it('4 conflict (412); a 409 maps to 4 as well', async () => {
    const current = (await server.service.get('app/k')).revision;
    const stale = await runCli(['set', 'app/k', 'v2', '--if-revision', String(current + 100)], { env: as('app-token') });
    expect(stale.code).toBe(EXIT.conflict);
    expect(stale.stderr).toMatch(/revision mismatch/);
    // no /kv route answers 409 today; the client's own error class for it must still land on 4
    expect(exitCodeFor(new ResponseError('HTTP 409: conflict', 409))).toBe(EXIT.conflict);
    expect(exitCodeFor(new ResponseError('HTTP 500', 500))).toBe(EXIT.other);
  });

  it('5 any other error: a server-side refusal, an unusable file', async () => {
    const secret = await runCli(['set', 'app/secrets/x', 'v'], { env: as('app-token') });
    expect(secret.code).toBe(EXIT.other);
    expect(secret.stderr).toMatch(/secrets not configured/);
    const bad = join(dir, 'bad.json');
    writeFileSync(bad, '{"not": "an array"}');
    expect((await runCli(['import', bad, '--from', 'consul'], { env: as('app-token') })).code).toBe(EXIT.other);
  });

  it('6 cannot reach the server', async () => {
    const port = await freePort();
    const down = await runCli(['ls'], { env: { STASH_URL: `http://127.0.0.1:${port}` } });
    expect(down.code).toBe(EXIT.connection);
    expect(down.stderr).toMatch(/stash ls: /);
    const unknownHost = await runCli(['ls'], { env: { STASH_URL: 'http://stash.invalid:8080' } });
    expect(unknownHost.code).toBe(EXIT.connection);
  });

  it('every code is distinct and documented the same way in `stash help` and docs/cli.md', async () => {
    const codes = Object.values(EXIT);
    expect(new Set(codes).size).toBe(codes.length);
    const help = (await runCli(['help', 'exit-codes'])).stdout;
    const doc = readFileSync(CLI_DOC, 'utf8');
    for (const [code, meaning] of EXIT_CODE_LINES) {
      expect(help).toContain(`  ${code}  ${meaning}`);
      expect(doc, `docs/cli.md row for ${code}`).toMatch(new RegExp(`^\\| \`${code}\` \\| ${meaning.replace(/[()/]/g, '\\$&')} \\|`, 'm'));
    }
  });
});

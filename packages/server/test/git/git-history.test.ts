import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import bcrypt from 'bcryptjs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { makeTempDir, startTestServer, type TestServer } from '../helpers/test-server.js';
import { commitCount, git, makeOriginalStyleRepo, waitFor } from './git-helpers.js';

const SECRETS_KEY = 'git-history-test-master-key';

interface HistoryEntry {
  hash: string;
  timestamp: string;
  author: string;
  operation: string;
  format: string;
  value: string;
  revision?: number;
}

describe('history and authors from git', () => {
  let server: TestServer | undefined;
  let tmp: string;
  let repo: string;

  beforeEach(() => {
    tmp = makeTempDir('stash-git-history-');
    repo = join(tmp, 'history');
  });
  afterEach(async () => {
    await server?.close();
    server = undefined;
    rmSync(tmp, { recursive: true, force: true });
  });

  const history = async (key: string, headers: Record<string, string> = {}): Promise<HistoryEntry[]> => {
    const res = await fetch(`${server?.url}/kv/history/${key}`, { headers });
    expect(res.status).toBe(200);
    return (await res.json()) as HistoryEntry[];
  };

  it('answers GET /kv/history from git with short hashes, operations, formats, values and revisions', async () => {
    server = await startTestServer(['--git.enabled', '--git.path', repo, '--secrets.key', SECRETS_KEY]);
    const url = `${server.url}/kv/app/cfg`;
    await fetch(url, { method: 'PUT', body: 'one', headers: { 'X-Stash-Format': 'yaml' } });
    await fetch(url, { method: 'PUT', body: 'two' });
    await fetch(url, { method: 'DELETE' });
    await fetch(`${server.url}/kv/app/secrets/token`, { method: 'PUT', body: 's3cret' });
    await waitFor(() => commitCount(repo) === 5);
    const entries = await history('app/cfg');
    const hashes = git(repo, 'log', '--format=%h', '--abbrev=7', 'HEAD~1').trim().split('\n');
    expect(entries.map((e) => e.hash)).toEqual(hashes.slice(0, 3));
    expect(entries.map((e) => [e.operation, e.format, Buffer.from(e.value, 'base64').toString(), e.author])).toEqual([
      ['delete', 'text', '', 'stash'],
      ['update', 'text', 'two', 'stash'],
      ['create', 'yaml', 'one', 'stash'],
    ]);
    const revisions = (await server.store.history('app/cfg', 10)).map((e) => e.revision);
    expect(entries.map((e) => e.revision)).toEqual(revisions);
    expect(entries[0]?.timestamp).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    const secret = await history('app/secrets/token');
    expect(Buffer.from(secret[0]?.value ?? '', 'base64').toString()).toBe('s3cret');
    expect(await history('never/written')).toEqual([]);
  });

  it('reads history of commits written by the original (set operation, no revision line)', async () => {
    makeOriginalStyleRepo(repo, { 'legacy/key': { value: 'old', format: 'json' } });
    server = await startTestServer(['--git.enabled', '--git.path', repo]);
    const [entry] = await history('legacy/key');
    expect(entry).toEqual({
      hash: git(repo, 'rev-parse', '--short=7', 'HEAD').trim(),
      timestamp: '2025-01-02T03:04:05Z',
      author: 'alice',
      operation: 'set',
      format: 'json',
      value: Buffer.from('old').toString('base64'),
    });
  });

  it('commits as the user (name <name@stash>) and the token (token:abcd**** <token:abcd****@stash>)', async () => {
    const authFile = join(tmp, 'auth.yml');
    const hash = bcrypt.hashSync('pw-alice', 4);
    writeFileSync(
      authFile,
      [
        'users:',
        '  - name: alice',
        `    password: "${hash}"`,
        '    permissions:',
        '      - prefix: "*"',
        '        access: rw',
        'tokens:',
        '  - token: abcd1234secret',
        '    permissions:',
        '      - prefix: "*"',
        '        access: rw',
      ].join('\n'),
    );
    server = await startTestServer(['--git.enabled', '--git.path', repo, '--auth.file', authFile]);
    const login = await fetch(`${server.url}/login`, {
      method: 'POST',
      body: new URLSearchParams({ username: 'alice', password: 'pw-alice' }),
      redirect: 'manual',
    });
    expect(login.status).toBe(303);
    const cookie = (login.headers.get('set-cookie') ?? '').split(';')[0] ?? '';
    expect((await fetch(`${server.url}/kv/by/user`, { method: 'PUT', body: 'u', headers: { cookie } })).status).toBe(201);
    const token = { 'X-Auth-Token': 'abcd1234secret' };
    expect((await fetch(`${server.url}/kv/by/token`, { method: 'PUT', body: 't', headers: token })).status).toBe(201);
    await waitFor(() => commitCount(repo) === 3);
    expect(git(repo, 'log', '-2', '--format=%an <%ae>|%cn <%ce>').trim().split('\n')).toEqual([
      'token:abcd**** <token:abcd****@stash>|token:abcd**** <token:abcd****@stash>',
      'alice <alice@stash>|alice <alice@stash>',
    ]);
    expect((await history('by/user', token))[0]?.author).toBe('alice');
  });
});

import { existsSync, readFileSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { makeTempDir, startTestServer, type TestServer } from '../helpers/test-server.js';
import { commitCount, git, gitShowBytes, waitFor } from './git-helpers.js';

const SECRETS_KEY = 'git-mirror-test-master-key';
const ZK = `$ZK$${Buffer.alloc(48, 7).toString('base64')}`;

describe('git mirror', () => {
  let server: TestServer;
  let tmp: string;
  let repo: string;

  beforeEach(async () => {
    tmp = makeTempDir('stash-git-');
    repo = join(tmp, 'history');
    server = await startTestServer(['--git.enabled', '--git.path', repo, '--secrets.key', SECRETS_KEY]);
  });
  afterEach(async () => {
    await server?.close();
    rmSync(tmp, { recursive: true, force: true });
  });

  const put = (key: string, body: string, format?: string): Promise<Response> =>
    fetch(`${server.url}/kv/${key}`, { method: 'PUT', body, headers: format ? { 'X-Stash-Format': format } : {} });

  // node:http sends the path verbatim (fetch would resolve `%2E%2E` segments before sending)
  const rawPut = (path: string, body: string): Promise<number> =>
    new Promise((resolve, reject) => {
      const { hostname, port } = new URL(server.url);
      const req = request({ host: hostname, port, method: 'PUT', path, agent: false }, (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      });
      req.on('error', reject);
      req.end(body);
    });

  it('creates the repository with the original initial commit on the branch', () => {
    expect(git(repo, 'log', '--format=%an <%ae>|%B').trim()).toBe('stash <stash@localhost>|initial commit');
    expect(git(repo, 'ls-tree', '-r', '--name-only', 'HEAD').trim()).toBe('.gitkeep');
    expect(git(repo, 'symbolic-ref', '--short', 'HEAD').trim()).toBe('master');
  });

  it('commits key a/b/c as a/b/c.val with the exact message, author and time', async () => {
    expect((await put('app/db/url', 'postgres://x', 'text')).status).toBe(201);
    expect((await put('app/db/url', '{"a":1}', 'json')).status).toBe(200);
    await waitFor(() => commitCount(repo) === 3);
    const [update, create] = git(repo, 'log', '-2', '--format=%an|%ae|%at|%ct|%B%x00').split('\0\n');
    const ts = /timestamp: (\S+)/.exec(create ?? '')?.[1] ?? '';
    expect(ts).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    const epoch = String(Date.parse(ts) / 1000);
    const entries = await server.store.history('app/db/url', 10);
    expect(create).toBe(
      `stash|stash@localhost|${epoch}|${epoch}|create app/db/url\n\ntimestamp: ${ts}\noperation: create\nkey: app/db/url\nformat: text\nrevision: ${entries[1]?.revision}`,
    );
    expect(update).toMatch(/^stash\|stash@localhost\|\d+\|\d+\|update app\/db\/url\n\ntimestamp: \S+\noperation: update\nkey: app\/db\/url\nformat: json\nrevision: \d+$/);
    // the work tree follows the commit (written by git itself)
    await waitFor(() => readFileSync(join(repo, 'app/db/url.val'), 'utf8') === '{"a":1}');
    await waitFor(() => git(repo, 'status', '--porcelain') === '');
  });

  it('commits secrets as $ENC$ + the stored envelope and ZK values unchanged', async () => {
    expect((await put('app/secrets/pw', 'hunter2')).status).toBe(201);
    expect((await put('secrets/zk', ZK)).status).toBe(201);
    await waitFor(() => commitCount(repo) === 3);
    const blob = gitShowBytes(repo, 'HEAD~1:app/secrets/pw.val').toString('latin1');
    expect(blob.startsWith('$ENC$')).toBe(true);
    expect(blob).not.toContain('hunter2');
    const stored = await server.store.get('app/secrets/pw');
    expect(blob).toBe(`$ENC$${Buffer.from(stored?.value ?? []).toString('latin1')}`);
    expect(gitShowBytes(repo, 'HEAD:secrets/zk.val').toString()).toBe(ZK);
  });

  it('deletes remove the file with a delete commit without format line', async () => {
    await put('a/b', 'v');
    expect((await fetch(`${server.url}/kv/a/b`, { method: 'DELETE' })).status).toBe(204);
    await waitFor(() => commitCount(repo) === 3);
    expect(git(repo, 'log', '-1', '--format=%B').trim()).toMatch(/^delete a\/b\n\ntimestamp: \S+\noperation: delete\nkey: a\/b\nrevision: \d+$/);
    await waitFor(() => !existsSync(join(repo, 'a')));
    expect(git(repo, 'ls-tree', '-r', '--name-only', 'HEAD').trim()).toBe('.gitkeep');
  });

  it('refuses keys escaping the repository while the API write stands', async () => {
    for (const key of ['x/%2E%2E/%2E%2E/escape', 'x/.git/config', 'y/.GIT/hooks', 'z/%2E%2E']) {
      expect(await rawPut(`/kv/${key}`, 'evil')).toBe(201);
    }
    expect((await put('ok', 'fine')).status).toBe(201);
    // key `ok.val/x` would need a directory where key `ok` has its file: refused, `ok` stays intact
    expect((await put('ok.val/x', 'clash')).status).toBe(201);
    expect((await put('done', '1')).status).toBe(201);
    await waitFor(() => commitCount(repo) === 3);
    expect(git(repo, 'ls-tree', '-r', '--name-only', 'HEAD').trim().split('\n').sort()).toEqual(['.gitkeep', 'done.val', 'ok.val']);
    expect(existsSync(join(tmp, 'escape.val'))).toBe(false);
    expect((await server.store.list()).map((k) => k.key).sort()).toEqual(
      ['done', 'ok', 'ok.val/x', 'x/../../escape', 'x/.git/config', 'y/.GIT/hooks', 'z/..'].sort(),
    );
    const metrics = await (await fetch(`${server.url}/metrics`)).text();
    expect(metrics).toMatch(/stash_git_failures_total\{op="refused"\} 5/);
  });

  it('a broken repository never fails the API and counts failures in /metrics', async () => {
    await put('before', '1');
    await waitFor(() => commitCount(repo) === 2);
    rmSync(join(repo, '.git', 'objects'), { recursive: true, force: true });
    rmSync(join(repo, '.git', 'refs'), { recursive: true, force: true });
    expect((await put('after', '2')).status).toBe(201);
    expect((await fetch(`${server.url}/kv/after`)).status).toBe(200);
    await waitFor(async () => /stash_git_failures_total\{op="commit"\} [1-9]/.test(await (await fetch(`${server.url}/metrics`)).text()));
    expect((await fetch(`${server.url}/kv/after`)).status).toBe(200);
  });
});

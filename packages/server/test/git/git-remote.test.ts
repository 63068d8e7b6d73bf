import { execFileSync } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/logger.js';
import { makeTempDir, startTestServer, type TestServer } from '../helpers/test-server.js';
import { commitCount, git, makeBareRemote, makeOriginalStyleRepo, waitFor } from './git-helpers.js';

describe('git remote: pull then push, never forced', () => {
  let server: TestServer | undefined;
  let tmp: string;
  let repo: string;
  let bare: string;
  let lines: string[];

  beforeEach(() => {
    tmp = makeTempDir('stash-git-remote-');
    repo = join(tmp, 'history');
    bare = makeBareRemote(tmp);
    lines = [];
  });
  afterEach(async () => {
    await server?.close();
    server = undefined;
    rmSync(tmp, { recursive: true, force: true });
  });

  const start = async (): Promise<TestServer> => {
    const log = createLogger({ write: (line) => lines.push(line) });
    server = await startTestServer(['--git.enabled', '--git.path', repo, '--git.remote', 'origin', '--git.push'], { log });
    return server;
  };
  const put = (key: string, body: string): Promise<Response> => fetch(`${server?.url}/kv/${key}`, { method: 'PUT', body });
  const remoteTip = (): string => git(bare, 'rev-parse', 'refs/heads/master').trim();
  const otherClone = (name: string): string => {
    const dir = join(tmp, name);
    execFileSync('git', ['clone', '-q', bare, dir]);
    return dir;
  };
  const commitInClone = (dir: string, file: string, content: string): void => {
    writeFileSync(join(dir, file), content);
    git(dir, 'add', file);
    git(dir, '-c', 'user.name=other', '-c', 'user.email=other@x', 'commit', '-q', '-m', `edit ${file}`);
    git(dir, 'push', '-q', 'origin', 'master');
  };

  it('pushes every commit to a bare remote (the branch is created there)', async () => {
    execFileSync('git', ['clone', '-q', bare, repo], { stdio: 'ignore' }); // empty clone: origin set, no commits
    await start();
    await put('k1', 'v1');
    await put('k2', 'v2');
    await waitFor(() => commitCount(repo) === 3);
    await server?.close();
    expect(remoteTip()).toBe(git(repo, 'rev-parse', 'HEAD').trim());
    expect(git(bare, 'show', 'master:k2.val')).toBe('v2');
  });

  it('pulls commits made elsewhere before committing on top of them', async () => {
    execFileSync('git', ['clone', '-q', bare, repo], { stdio: 'ignore' });
    await start();
    await put('first', '1');
    await waitFor(() => commitCount(repo) === 2 && remoteTip() === git(repo, 'rev-parse', 'HEAD').trim());
    const other = otherClone('other');
    commitInClone(other, 'README.md', 'hello');
    await put('second', '2');
    await server?.close();
    expect(git(bare, 'log', '--format=%s', 'master').trim().split('\n')).toEqual([
      'create second',
      'edit README.md',
      'create first',
      'initial commit',
    ]);
    expect(readFileSync(join(repo, 'README.md'), 'utf8')).toBe('hello');
  });

  it('a diverged remote is logged with what to do and never force-pushed', async () => {
    execFileSync('git', ['clone', '-q', bare, repo], { stdio: 'ignore' });
    await start();
    await put('a', '1');
    await waitFor(() => commitCount(repo) === 2 && remoteTip() === git(repo, 'rev-parse', 'HEAD').trim());
    // diverge: the remote gains a commit the server cannot see before it commits locally
    git(repo, 'remote', 'set-url', 'origin', join(tmp, 'missing.git'));
    await put('b', '2');
    await waitFor(() => commitCount(repo) === 3);
    const other = otherClone('other');
    commitInClone(other, 'other.txt', 'x');
    const theirs = remoteTip();
    git(repo, 'remote', 'set-url', 'origin', bare);
    expect((await put('c', '3')).status).toBe(201);
    await server?.close();
    expect(remoteTip()).toBe(theirs);
    const log = lines.join('');
    expect(log).toMatch(/\[ERROR\] git: branch master on remote origin has diverged .* never force-pushes/);
    expect(commitCount(repo)).toBe(4);
  });

  it('moving over: an existing .history in the original layout keeps growing with well-formed commits', async () => {
    makeOriginalStyleRepo(repo, { 'app/name': { value: 'demo', format: 'text' } });
    git(repo, 'remote', 'add', 'origin', bare);
    git(repo, 'push', '-q', 'origin', 'master');
    await start();
    expect((await put('app/name', 'demo2')).status).toBe(201);
    await server?.close();
    const log = git(repo, 'log', '--format=%s|%an', 'master').trim().split('\n');
    expect(log).toEqual(['create app/name|stash', 'set app/name|alice', 'initial commit|stash']);
    expect(git(repo, 'show', 'HEAD:app/name.val')).toBe('demo2');
    expect(remoteTip()).toBe(git(repo, 'rev-parse', 'HEAD').trim());
  });
});

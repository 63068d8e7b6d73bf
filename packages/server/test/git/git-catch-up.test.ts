import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeTempDir, startTestServer } from '../helpers/test-server.js';
import { commitCount, git, waitFor } from './git-helpers.js';

describe('git mirror catches up at startup', () => {
  let tmp: string;
  beforeAll(() => {
    tmp = makeTempDir('stash-git-catchup-');
  });
  afterAll(() => rmSync(tmp, { recursive: true, force: true }));

  it('commits the revisions written while git was off, in revision order', async () => {
    const db = join(tmp, 'stash.db');
    const repo = join(tmp, 'history');
    const withGit = ['--db', db, '--git.enabled', '--git.path', repo];
    let server = await startTestServer(withGit);
    await fetch(`${server.url}/kv/a`, { method: 'PUT', body: '1' });
    await server.close();
    expect(commitCount(repo)).toBe(2);

    server = await startTestServer(['--db', db]);
    await fetch(`${server.url}/kv/b`, { method: 'PUT', body: '2' });
    await fetch(`${server.url}/kv/a`, { method: 'DELETE' });
    const missed = (await server.store.changesSince(1, 10)).map((e) => `${e.action} ${e.key} ${e.revision}`);
    await server.close();

    server = await startTestServer(withGit);
    await waitFor(() => commitCount(repo) === 4);
    await server.close();
    const log = git(repo, 'log', '-3', '--reverse', '--format=%B%x00').split('\0').map((m) => m.trim()).filter((m) => m !== '');
    const summary = log.map((m) => `${m.split('\n')[0]} ${/revision: (\d+)/.exec(m)?.[1]}`);
    expect(summary.slice(1)).toEqual(missed);
    expect(git(repo, 'ls-tree', '-r', '--name-only', 'HEAD').trim().split('\n')).toEqual(['.gitkeep', 'b.val']);
  });
});

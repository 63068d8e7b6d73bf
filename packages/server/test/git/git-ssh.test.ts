import { chmodSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeTempDir, startTestServer } from '../helpers/test-server.js';
import { git, makeBareRemote } from './git-helpers.js';

describe('--git.ssh-key', () => {
  let tmp: string;
  let savedPath: string | undefined;

  beforeAll(() => {
    tmp = makeTempDir('stash-git-ssh-');
    // a stand-in `ssh` first on PATH: records its arguments, then runs the git command locally
    const bin = join(tmp, 'bin');
    mkdirSync(bin);
    writeFileSync(
      join(bin, 'ssh'),
      `#!/bin/sh\necho "$@" >> "${join(tmp, 'ssh.log')}"\nfor last; do :; done\nexec sh -c "$last"\n`,
    );
    chmodSync(join(bin, 'ssh'), 0o755);
    savedPath = process.env['PATH'];
    process.env['PATH'] = `${bin}:${savedPath ?? ''}`;
  });
  afterAll(() => {
    process.env['PATH'] = savedPath;
    rmSync(tmp, { recursive: true, force: true });
  });

  it('pulls and pushes over SSH with the key, never prompting', async () => {
    const bare = makeBareRemote(tmp);
    const repo = join(tmp, 'history');
    const key = join(tmp, 'deploy key');
    writeFileSync(key, 'not a real key: the stand-in ssh never reads it');
    const server = await startTestServer(['--git.enabled', '--git.path', repo, '--git.remote', 'origin', '--git.push', '--git.ssh-key', key]);
    git(repo, 'remote', 'add', 'origin', `ssh://git.example/${bare}`);
    await fetch(`${server.url}/kv/over/ssh`, { method: 'PUT', body: 'yes' });
    await server.close();
    expect(git(bare, 'show', 'master:over/ssh.val')).toBe('yes');
    const calls = readFileSync(join(tmp, 'ssh.log'), 'utf8').trim().split('\n');
    expect(calls.length).toBeGreaterThanOrEqual(2); // fetch, push
    for (const call of calls) expect(call).toMatch(new RegExp(`^-i ${key} -o IdentitiesOnly=yes -o BatchMode=yes .*git\\.example`));
  });
});

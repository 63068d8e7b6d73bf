import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeTempDir, startTestServer } from '../helpers/test-server.js';
import { git } from './git-helpers.js';

describe('git repository at startup', () => {
  let tmp: string;
  beforeAll(() => {
    tmp = makeTempDir('stash-git-startup-');
  });
  afterAll(() => rmSync(tmp, { recursive: true, force: true }));

  it('creates the configured branch from the initial commit', async () => {
    const repo = join(tmp, 'branchy');
    const server = await startTestServer(['--git.enabled', '--git.path', repo, '--git.branch', 'config-history']);
    await server.close();
    expect(git(repo, 'symbolic-ref', '--short', 'HEAD').trim()).toBe('config-history');
    expect(git(repo, 'branch', '--format=%(refname:short)').trim().split('\n').sort()).toEqual(['config-history', 'master']);
  });

  it('refuses to start on a corrupt repository, an invalid branch, or a branch that cannot be checked out', async () => {
    const corrupt = join(tmp, 'corrupt');
    mkdirSync(join(corrupt, '.git'), { recursive: true });
    writeFileSync(join(corrupt, '.git', 'HEAD'), 'garbage');
    await expect(startTestServer(['--git.enabled', '--git.path', corrupt])).rejects.toThrow(/not a usable git repository at .*corrupt/);

    await expect(startTestServer(['--git.enabled', '--git.path', join(tmp, 'b1'), '--git.branch', 'bad..name'])).rejects.toThrow(
      /invalid git branch name "bad\.\.name"/,
    );

    // an untracked file in the way of the branch's files blocks the checkout
    const blocked = join(tmp, 'blocked');
    const first = await startTestServer(['--git.enabled', '--git.path', blocked]);
    await first.close();
    git(blocked, 'checkout', '-q', '-b', 'other');
    writeFileSync(join(blocked, 'x.val'), 'tracked on other');
    git(blocked, 'add', 'x.val');
    git(blocked, '-c', 'user.name=t', '-c', 'user.email=t@x', 'commit', '-q', '-m', 'x');
    git(blocked, 'checkout', '-q', 'master');
    writeFileSync(join(blocked, 'x.val'), 'untracked in the way');
    await expect(startTestServer(['--git.enabled', '--git.path', blocked, '--git.branch', 'other'])).rejects.toThrow(
      /cannot check out branch "other"/,
    );
  });
});

import { describe, expect, it } from 'vitest';
import { authorFor, parseCommitMessage } from '../../src/git/commit-format.js';
import { keyToPath, pathToKey, UnsafeKeyError } from '../../src/git/git-paths.js';
import { TreePaths } from '../../src/git/tree-paths.js';

describe('key paths, authors and message parsing', () => {
  it('maps keys to .val files and refuses anything that could escape or reach .git', () => {
    expect(keyToPath('a/b/c')).toBe('a/b/c.val');
    expect(keyToPath('with space_and*?[x]')).toBe('with space_and*?[x].val');
    expect(pathToKey('a/b/c.val')).toBe('a/b/c');
    expect(pathToKey('.gitkeep')).toBeUndefined();
    for (const bad of ['', '/abs', 'C:/x', 'a/../b', '..', 'a/./b', 'a//b', 'a/', '.git/x', 'x/.GIT', 'x/.git./y', 'a\\b', 'new\nline', 'tab\tx', 'del\u007f']) {
      expect(() => keyToPath(bad), JSON.stringify(bad)).toThrow(UnsafeKeyError);
    }
    expect(keyToPath('a..b/.gitignore')).toBe('a..b/.gitignore.val');
  });

  it('derives authors as compat 6.5 says', () => {
    expect(authorFor('')).toEqual({ name: 'stash', email: 'stash@localhost' });
    expect(authorFor('alice')).toEqual({ name: 'alice', email: 'alice@stash' });
    expect(authorFor('token:abcd****')).toEqual({ name: 'token:abcd****', email: 'token:abcd****@stash' });
    expect(authorFor('ev<il>')).toEqual({ name: 'evil', email: 'evil@stash' });
  });

  it('parses operation, format and revision, with the original fallbacks', () => {
    expect(parseCommitMessage('set k\n\ntimestamp: t\noperation: set\nkey: k\nformat: yaml')).toEqual({ operation: 'set', format: 'yaml', revision: undefined });
    expect(parseCommitMessage('delete k\n\noperation: delete\nkey: k\nrevision: 12')).toEqual({ operation: 'delete', format: 'text', revision: 12 });
    expect(parseCommitMessage('update something by hand')).toEqual({ operation: 'update', format: 'text', revision: undefined });
    expect(parseCommitMessage('x\n\nformat: bogus').format).toBe('text');
  });

  it('tracks files and directories of the branch to refuse file/directory collisions', () => {
    const tree = new TreePaths(['.gitkeep', 'a.val', 'd/e.val']);
    expect(tree.collision('a.val/b.val')).toMatch(/a\.val is another key's file/);
    expect(tree.collision('d.val')).toBeUndefined();
    tree.add('x/y/z.val');
    expect(tree.collision('x/y')).toMatch(/directory/);
    tree.remove('x/y/z.val');
    expect(tree.collision('x/y')).toBeUndefined();
  });
});

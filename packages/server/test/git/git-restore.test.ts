import { execFile } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SecretsVault } from '../../src/crypto/secrets-vault.js';
import { openStore } from '../../src/storage/open-store.js';
import { makeTempDir, startTestServer } from '../helpers/test-server.js';
import { commitCount, git, waitFor } from './git-helpers.js';

// the built bin (run `npx tsc -b` first), as an operator runs it
const BIN = fileURLToPath(new URL('../../bin/stash.js', import.meta.url));
const KEY = 'git-restore-test-master-key';
const ZK = `$ZK$${Buffer.alloc(48, 9).toString('base64')}`;

interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

function restore(args: string[]): Promise<RunResult> {
  return new Promise((resolve) => {
    execFile(process.execPath, [BIN, 'restore', ...args], (error, stdout, stderr) => {
      resolve({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr });
    });
  });
}

describe('stash restore --rev', () => {
  let tmp: string;
  let repo: string;
  let db: string;
  let r1: string;

  /** Every key with format and stored value, for "nothing changed" comparisons. */
  async function dbSnapshot(): Promise<string[]> {
    const store = await openStore(db, { sync: 'normal' });
    try {
      const { revision, items } = await store.exportValues('');
      return [`rev ${revision}`, ...items.map((i) => `${i.key}|${i.format}|${Buffer.from(i.value).toString('base64')}`).sort()];
    } finally {
      await store.close();
    }
  }

  /** Add a commit by hand (what a teammate or the original could have pushed). */
  function commitFile(path: string, content: Buffer | string): string {
    const file = join(repo, path);
    mkdirSync(join(file, '..'), { recursive: true });
    writeFileSync(file, content);
    git(repo, 'add', path);
    git(repo, '-c', 'user.name=t', '-c', 'user.email=t@x', 'commit', '-q', '-m', `set ${path}`);
    const head = git(repo, 'rev-parse', 'HEAD').trim();
    git(repo, 'reset', '-q', '--hard', 'HEAD~1');
    return head;
  }

  beforeAll(async () => {
    tmp = makeTempDir('stash-git-restore-');
    repo = join(tmp, 'history');
    db = join(tmp, 'stash.db');
    const server = await startTestServer(['--db', db, '--git.enabled', '--git.path', repo, '--secrets.key', KEY]);
    const put = (key: string, body: string, format = 'text'): Promise<Response> =>
      fetch(`${server.url}/kv/${key}`, { method: 'PUT', body, headers: { 'X-Stash-Format': format } });
    await put('app/config', '{"v":1}', 'json');
    await put('app/gone-later', 'x');
    await put('app/secrets/pw', 'hunter2');
    await put('secrets/zk', ZK);
    await waitFor(() => commitCount(repo) === 5);
    r1 = git(repo, 'rev-parse', 'HEAD').trim();
    await put('app/config', '{"v":2}', 'yaml');
    await fetch(`${server.url}/kv/app/gone-later`, { method: 'DELETE' });
    await put('app/new', 'n');
    await server.close();
  });
  afterAll(() => rmSync(tmp, { recursive: true, force: true }));

  const base = (): string[] => ['--db', db, '--git.path', repo];

  it('a revision that does not exist is an error and changes nothing', async () => {
    const before = await dbSnapshot();
    const result = await restore([...base(), '--secrets.key', KEY, '--rev', 'deadbeefcafe']);
    expect(result.code).toBe(1);
    expect(result.stdout).toContain(`revision "deadbeefcafe" not found`);
    expect(await dbSnapshot()).toEqual(before);
  });

  it('a missing repository or a missing --rev is a clear error', async () => {
    const noRepo = await restore(['--db', db, '--git.path', join(tmp, 'nowhere'), '--rev', 'master']);
    expect(noRepo.code).toBe(1);
    expect(noRepo.stdout).toContain(`no git repository at ${join(tmp, 'nowhere')}`);
    const noRev = await restore(base());
    expect(noRev.code).toBe(1);
    expect(noRev.stdout).toContain("the required flag `--rev' was not specified");
  });

  it('secret keys without --secrets.key are refused before the database is touched', async () => {
    const before = await dbSnapshot();
    const result = await restore([...base(), '--rev', r1]);
    expect(result.code).toBe(1);
    expect(result.stdout).toContain('repository holds secret key "app/secrets/pw", --secrets.key is required to restore it');
    expect(await dbSnapshot()).toEqual(before);
  });

  it('a wrong --secrets.key cannot decrypt $ENC$ and changes nothing', async () => {
    const before = await dbSnapshot();
    const result = await restore([...base(), '--secrets.key', 'another-key-of-16+chars', '--rev', r1]);
    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(/cannot decrypt secret "app\/secrets\/pw"/);
    expect(await dbSnapshot()).toEqual(before);
  });

  it('a malformed $ZK$ secret fails the whole restore (the original dropped it after clearing the DB)', async () => {
    const bad = commitFile('secrets/broken.val', '$ZK$not-base64!!');
    const before = await dbSnapshot();
    const result = await restore([...base(), '--secrets.key', KEY, '--rev', bad]);
    expect(result.code).toBe(1);
    expect(result.stdout).toContain('secret key "secrets/broken" holds a malformed $ZK$ value');
    expect(await dbSnapshot()).toEqual(before);
  });

  it('a .val file that is not UTF-8 is a clear error', async () => {
    const bad = commitFile('bin/blob.val', Buffer.from([0xff, 0xfe, 0x00, 0x80]));
    const before = await dbSnapshot();
    const result = await restore([...base(), '--secrets.key', KEY, '--rev', bad]);
    expect(result.code).toBe(1);
    expect(result.stdout).toContain('file "bin/blob.val" is not valid UTF-8 text');
    expect(await dbSnapshot()).toEqual(before);
  });

  it('restores every key, format and secret of the revision in one transaction, leaving the work tree alone', async () => {
    const head = git(repo, 'rev-parse', 'HEAD').trim();
    const short = r1.slice(0, 7);
    const result = await restore([...base(), '--secrets.key', KEY, '--git.remote', 'nowhere', '--rev', short]);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/\[WARN\] git pull from nowhere failed, restoring from the local repository/);
    expect(result.stdout).toContain(`restored 4 keys from revision ${short}\n`);
    expect(git(repo, 'rev-parse', 'HEAD').trim()).toBe(head);
    expect(git(repo, 'status', '--porcelain')).toBe('');

    const store = await openStore(db, { sync: 'normal' });
    try {
      const { items } = await store.exportValues('');
      const text = (k: string): string => Buffer.from(items.find((i) => i.key === k)?.value ?? []).toString();
      expect(items.map((i) => `${i.key}|${i.format}`).sort()).toEqual([
        'app/config|json',
        'app/gone-later|text',
        'app/secrets/pw|text',
        'secrets/zk|text',
      ]);
      expect(text('app/config')).toBe('{"v":1}');
      expect(text('secrets/zk')).toBe(ZK);
      const sealed = items.find((i) => i.key === 'app/secrets/pw')?.value ?? new Uint8Array();
      expect(Buffer.from(await new SecretsVault({ masterKey: KEY }).open(sealed)).toString()).toBe('hunter2');
      const log = await store.changesSince(0, 100);
      expect(log.at(-1)?.actor).toBe('restore');
      expect(log.filter((e) => e.actor === 'restore').map((e) => `${e.action} ${e.key}`).sort()).toEqual([
        'create app/gone-later',
        'delete app/new',
        'update app/config',
      ]);
    } finally {
      await store.close();
    }
  });
});

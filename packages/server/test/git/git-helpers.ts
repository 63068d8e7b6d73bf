import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

// a clean environment: the tests' git calls must not inherit a GIT_DIR from anywhere
const gitEnv = (): NodeJS.ProcessEnv => {
  const env: NodeJS.ProcessEnv = { ...process.env, LC_ALL: 'C', GIT_TERMINAL_PROMPT: '0' };
  delete env['GIT_DIR'];
  delete env['GIT_WORK_TREE'];
  return env;
};

/** Run the real git binary in `dir`, returning stdout. */
export function git(dir: string, ...args: string[]): string {
  return execFileSync('git', ['-C', dir, ...args], { env: gitEnv(), encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

/** Raw bytes of `git show <rev>:<path>`. */
export function gitShowBytes(dir: string, spec: string): Buffer {
  return execFileSync('git', ['-C', dir, 'show', spec], { env: gitEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
}

/** Number of commits on HEAD. */
export function commitCount(dir: string): number {
  return Number(git(dir, 'rev-list', '--count', 'HEAD').trim());
}

/** Poll until `check` returns true (the mirror commits behind the API write). */
export async function waitFor(check: () => boolean | Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    try {
      if (await check()) return;
    } catch {
      // not there yet
    }
    if (Date.now() > until) throw new Error('condition not reached in time');
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** A bare repository to use as the remote, registered as `origin` of `repo` when given. */
export function makeBareRemote(parent: string, name = 'remote.git'): string {
  const bare = join(parent, name);
  execFileSync('git', ['init', '-q', '--bare', '--initial-branch=master', bare], { env: gitEnv() });
  return bare;
}

/** A repository in the original's layout, made by hand with the git binary (moving-over tests). */
export function makeOriginalStyleRepo(dir: string, files: Record<string, { value: string; format: string }>): void {
  mkdirSync(dir, { recursive: true });
  git(dir, 'init', '-q', '--initial-branch=master');
  const commit = (message: string, author: string, email: string, date: string): void => {
    execFileSync('git', ['-C', dir, 'commit', '-q', '--allow-empty', '--cleanup=verbatim', '-m', message], {
      env: {
        ...gitEnv(),
        GIT_AUTHOR_NAME: author,
        GIT_AUTHOR_EMAIL: email,
        GIT_AUTHOR_DATE: date,
        GIT_COMMITTER_NAME: author,
        GIT_COMMITTER_EMAIL: email,
        GIT_COMMITTER_DATE: date,
      },
    });
  };
  writeFileSync(join(dir, '.gitkeep'), '');
  git(dir, 'add', '.gitkeep');
  commit('initial commit', 'stash', 'stash@localhost', '2025-01-01T00:00:00Z');
  for (const [key, { value, format }] of Object.entries(files)) {
    const path = join(dir, `${key}.val`);
    mkdirSync(join(path, '..'), { recursive: true });
    writeFileSync(path, value);
    git(dir, 'add', `${key}.val`);
    const ts = '2025-01-02T03:04:05Z';
    commit(`set ${key}\n\ntimestamp: ${ts}\noperation: set\nkey: ${key}\nformat: ${format}`, 'alice', 'alice@stash', ts);
  }
}

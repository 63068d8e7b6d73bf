import type { Logger } from '../logger.js';
import { GitCommandError } from './git-runner.js';
import type { GitRepo } from './git-repo.js';

/** One readable line for a git failure (git's own stderr when there is one). */
export function describeGitError(error: unknown): string {
  if (error instanceof GitCommandError) return error.message.replace(/\s*\n\s*/g, '; ');
  return error instanceof Error ? error.message : String(error);
}

/**
 * Fetch the branch from the remote and fast-forward to it. 'absent' when the remote has no such
 * branch yet (a fresh remote: the push creates it).
 * @throws GitCommandError when fetching fails or the histories diverged
 */
export async function pullFastForward(repo: GitRepo, remote: string): Promise<'updated' | 'absent'> {
  const fetched = await repo.git.run(['fetch', '-q', '--end-of-options', remote, repo.branchRef], { okCodes: [128] });
  if (fetched.code !== 0) {
    if (/couldn't find remote ref/i.test(fetched.stderr)) return 'absent';
    throw new GitCommandError(['fetch'], fetched.code, fetched.stderr);
  }
  await repo.git.run(['merge', '-q', '--ff-only', 'FETCH_HEAD']);
  return 'updated';
}

export interface SyncOptions {
  log: Logger;
  onFailure(op: 'pull' | 'push'): void;
}

function advice(repo: GitRepo, remote: string): string {
  return (
    `the server never force-pushes: in ${repo.path} run \`git pull ${remote} ${repo.branch}\`, ` +
    `resolve the merge, then \`git push ${remote} ${repo.branch}\``
  );
}

/**
 * Pull before committing (fast-forward only), so commits land on top of what the remote has.
 * False when the remote cannot be pulled or has diverged: pushing would be rejected, and the
 * server never forces, so the failure is logged with what to do.
 */
export async function pullForPush(repo: GitRepo, remote: string, options: SyncOptions): Promise<boolean> {
  try {
    await pullFastForward(repo, remote);
    return true;
  } catch (error) {
    options.onFailure('pull');
    const diverged = error instanceof GitCommandError && error.args[0] === 'merge';
    options.log.error(
      diverged
        ? `git: branch ${repo.branch} on remote ${remote} has diverged from the local history, not pushing; ${advice(repo, remote)}`
        : `git: pull from ${remote} failed, not pushing: ${describeGitError(error)}`,
    );
    return false;
  }
}

/** Push the branch (never forced); a rejection is logged with what to do. */
export async function pushBranch(repo: GitRepo, remote: string, options: SyncOptions): Promise<boolean> {
  try {
    await repo.git.run(['push', '-q', '--end-of-options', remote, `${repo.branchRef}:${repo.branchRef}`]);
    return true;
  } catch (error) {
    options.onFailure('push');
    const rejected = error instanceof GitCommandError && /rejected|non-fast-forward|fetch first/i.test(error.stderr);
    options.log.error(`git: push to ${remote} failed: ${describeGitError(error)}${rejected ? `; ${advice(repo, remote)}` : ''}`);
    return false;
  }
}

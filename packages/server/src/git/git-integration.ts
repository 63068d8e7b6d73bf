import type { ServerConfig } from '../config/server-config.js';
import type { ValueVault } from '../domain/ports.js';
import type { HistoryProvider } from '../shared/ports.js';
import type { Logger } from '../logger.js';
import type { Metrics } from '../metrics/metrics.js';
import type { Store } from '../storage/store.js';
import { parseCommitMessage } from './commit-format.js';
import { createGitHistory } from './git-history.js';
import { GitMirror } from './git-mirror.js';
import { GitRepo } from './git-repo.js';

export interface GitIntegrationDeps {
  log: Logger;
  metrics: Metrics;
  store: Pick<Store, 'changesSince' | 'currentRevision'>;
  vault?: ValueVault | undefined;
}

/** What the composition root wires: the mirror (a ChangePublisher), the history source, and the flush on close. */
export interface GitIntegration {
  repo: GitRepo;
  mirror: GitMirror;
  history: HistoryProvider;
  /** wait for every queued commit (and push) */
  close(): Promise<void>;
}

// changes replayed at startup at most; a larger gap is logged instead of held in memory
const MAX_CATCH_UP = 10_000;
const PAGE = 500;

/**
 * Open (or create) the history repository, check out the branch, and queue the changes the
 * database committed after the newest mirrored revision (a crash or a git outage left them out).
 * @throws GitRepositoryError when the repository is unusable or the branch cannot be checked out
 */
export async function startGitIntegration(config: ServerConfig['git'], deps: GitIntegrationDeps): Promise<GitIntegration> {
  const repo = await GitRepo.init({ path: config.path, branch: config.branch, sshKey: config.sshKey });
  const mirror = new GitMirror({ repo, log: deps.log, metrics: deps.metrics, remote: config.remote, push: config.push });
  await catchUp(repo, mirror, deps);
  deps.log.info(
    `git versioning enabled: ${repo.path} on branch ${config.branch}` +
      (config.push && config.remote !== '' ? `, pushing to ${config.remote}` : ''),
  );
  return { repo, mirror, history: createGitHistory(repo, deps.vault), close: () => mirror.flush() };
}

async function catchUp(repo: GitRepo, mirror: GitMirror, deps: GitIntegrationDeps): Promise<void> {
  const tip = await repo.tip();
  if (!tip) return;
  const message = (await repo.git.run(['log', '-1', '--format=%B', tip])).stdout.toString('utf8');
  const mirrored = parseCommitMessage(message).revision;
  if (mirrored === undefined) return; // the tip was not written by us (the original, or the initial commit)
  const current = await deps.store.currentRevision();
  if (current <= mirrored) return;
  if (current - mirrored > MAX_CATCH_UP) {
    deps.log.warn(`git: revisions ${mirrored + 1}..${current} are not in the history repository (too many to replay)`);
    return;
  }
  let after = mirrored;
  for (;;) {
    const page = await deps.store.changesSince(after, PAGE);
    if (page.length === 0) break;
    mirror.publish(page);
    after = page[page.length - 1]?.revision ?? current;
    if (page.length < PAGE) break;
  }
  deps.log.info(`git: replaying revisions ${mirrored + 1}..${after} into the history repository`);
}

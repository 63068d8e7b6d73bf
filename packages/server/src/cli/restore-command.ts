import type { ServerConfig } from '../config/server-config.js';
import { SecretsVault } from '../crypto/secrets-vault.js';
import { GitRepo } from '../git/git-repo.js';
import { ProgressBar } from '../git/progress-bar.js';
import { describeGitError, pullFastForward } from '../git/remote-sync.js';
import { readRevision, RestoreError, type RestoredKey } from '../git/revision-reader.js';
import type { Logger } from '../logger.js';
import { openStore } from '../storage/open-store.js';
import type { Store, WriteOp } from '../storage/store.js';

/** Change-log actor of the restore's writes (and git author when a server mirrors them later). */
const RESTORE_ACTOR = 'restore';

/**
 * `stash restore --rev=REV`: pull when a remote is set (a failure only warns), read and validate
 * every key of REV without checking it out, and only then replace the database contents in one
 * transaction. Any failure before the commit leaves the database exactly as it was.
 */
export async function runRestore(config: ServerConfig, rev: string, log: Logger): Promise<number> {
  if (rev === '') throw new RestoreError("the required flag `--rev' was not specified");
  const vault = config.secrets.key === '' ? undefined : new SecretsVault({ masterKey: config.secrets.key });
  const repo = await GitRepo.open({ path: config.git.path, branch: config.git.branch, sshKey: config.git.sshKey });
  if (config.git.remote !== '') {
    try {
      await pullFastForward(repo, config.git.remote);
    } catch (error) {
      log.warn(`git pull from ${config.git.remote} failed, restoring from the local repository: ${describeGitError(error)}`);
    }
  }
  const commit = await repo.resolveCommit(rev);
  if (!commit) throw new RestoreError(`revision "${rev}" not found in ${repo.path}`);

  const bar = new ProgressBar(process.stderr, 'reading keys');
  let keys: RestoredKey[];
  try {
    keys = await readRevision(repo, commit, { vault, onProgress: (done, total) => bar.update(done, total) });
  } finally {
    bar.finish();
  }

  const store = await openStore(config.db, { sync: config.dbSync });
  try {
    const changed = await replaceContents(store, keys);
    log.info(`restore of ${commit.slice(0, 7)}: ${changed.puts} keys written, ${changed.deletes} deleted, ${keys.length - changed.puts} unchanged`);
  } finally {
    await store.close();
  }
  process.stdout.write(`restored ${keys.length} keys from revision ${rev}\n`);
  return 0;
}

/**
 * One Store.apply: delete what the revision lacks, put what differs. Going through the store keeps
 * revisions and the change log right, so a running server's history and SSE catch up normally.
 */
async function replaceContents(store: Store, keys: readonly RestoredKey[]): Promise<{ puts: number; deletes: number }> {
  const { items: current } = await store.exportValues('');
  const byKey = new Map(current.map((item) => [item.key, item]));
  const wanted = new Set(keys.map((k) => k.key));
  const ops: WriteOp[] = [];
  for (const item of current) if (!wanted.has(item.key)) ops.push({ kind: 'delete', key: item.key });
  const deletes = ops.length;
  for (const k of keys) {
    const existing = byKey.get(k.key);
    if (existing && existing.format === k.format && Buffer.from(existing.value).equals(Buffer.from(k.value))) continue;
    ops.push({ kind: 'put', key: k.key, value: k.value, format: k.format });
  }
  if (ops.length > 0) await store.apply(ops, RESTORE_ACTOR);
  return { puts: ops.length - deletes, deletes };
}

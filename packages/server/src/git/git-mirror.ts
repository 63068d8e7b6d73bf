import type { ChangePublisher } from '../domain/ports.js';
import type { Logger } from '../logger.js';
import type { Metrics } from '../metrics/metrics.js';
import type { ChangeEntry } from '../storage/store.js';
import { authorFor, commitMessage } from './commit-format.js';
import { keyToPath, quoteFastImportPath, UnsafeKeyError } from './git-paths.js';
import type { GitRepo } from './git-repo.js';
import { describeGitError, pullForPush, pushBranch, type SyncOptions } from './remote-sync.js';
import { toGitBlob } from './secret-blobs.js';
import { TreePaths } from './tree-paths.js';

export interface GitMirrorOptions {
  repo: GitRepo;
  log: Logger;
  metrics: Metrics;
  /** remote name for pull+push; empty = local only */
  remote?: string | undefined;
  push?: boolean | undefined;
}

// one fast-import run commits up to this many changes, each its own commit
const MAX_BATCH = 500;

interface PreparedChange {
  entry: ChangeEntry;
  path: string;
  blob?: Uint8Array | undefined;
}

/**
 * Mirrors committed changes into the history repository, one commit per change, in revision
 * order. `publish` only queues: the API write never waits for git, and a git failure is logged
 * and counted, never surfaced to the writer (the database is the source of truth).
 */
export class GitMirror implements ChangePublisher {
  private readonly repo: GitRepo;
  private readonly log: Logger;
  private readonly metrics: Metrics;
  private readonly remote: string;
  private readonly push: boolean;
  private pending: ChangeEntry[] = [];
  private running: Promise<void> | undefined;
  private lastRevision = 0;
  /** files of the branch at `treeTip`, updated as changes are prepared */
  private tree: TreePaths | undefined;
  private treeTip: string | undefined;

  constructor(options: GitMirrorOptions) {
    this.repo = options.repo;
    this.log = options.log;
    this.metrics = options.metrics;
    this.remote = options.remote ?? '';
    this.push = (options.push ?? false) && this.remote !== '';
  }

  /** Queue committed changes for the mirror; returns at once. */
  publish(changes: readonly ChangeEntry[]): void {
    if (changes.length === 0) return;
    this.pending.push(...changes);
    this.running ??= this.drain();
  }

  /** Resolves once every change published so far is committed (and pushed) or has failed. */
  async flush(): Promise<void> {
    while (this.running) await this.running;
  }

  private async drain(): Promise<void> {
    try {
      while (this.pending.length > 0) {
        // concurrent requests may publish out of order; git must see revision order
        this.pending.sort((a, b) => a.revision - b.revision);
        const batch = this.pending.splice(0, MAX_BATCH);
        // pull first so the commits land on top of the remote; push them all at once after
        const pulled = this.push && (await pullForPush(this.repo, this.remote, this.sync));
        const committed = await this.commitBatch(batch);
        if (committed && pulled) await pushBranch(this.repo, this.remote, this.sync);
      }
    } catch (error) {
      // commitBatch, pull and push handle their own failures; this guards the queue itself
      this.log.error(`git mirror: ${describeGitError(error)}`);
      this.metrics.gitFailures.inc({ op: 'commit' });
    } finally {
      this.running = undefined;
      if (this.pending.length > 0) this.running = this.drain();
    }
  }

  private async commitBatch(batch: ChangeEntry[]): Promise<boolean> {
    let tip: string | undefined;
    let tree: TreePaths;
    try {
      tip = await this.repo.tip();
      // the file list follows the branch; reload it whenever someone else moved the branch
      if (!this.tree || tip !== this.treeTip) this.tree = new TreePaths(tip ? await this.repo.listPaths(tip) : []);
      tree = this.tree;
    } catch (error) {
      this.tree = undefined;
      this.metrics.gitFailures.inc({ op: 'commit' }, batch.length);
      this.log.error(`git: cannot read branch ${this.repo.branch}, ${batch.length} changes stay in the database only: ${describeGitError(error)}`);
      return false;
    }
    const prepared: PreparedChange[] = [];
    for (const entry of batch) {
      // stores make revisions visible in order, so this should not happen; keep the change anyway
      if (entry.revision <= this.lastRevision) {
        this.log.warn(`git: revision ${entry.revision} arrived after ${this.lastRevision}, committed out of order`);
      }
      const change = this.prepare(entry, tree);
      if (change) prepared.push(change);
    }
    if (prepared.length === 0) return false;
    const first = prepared[0]?.entry.revision;
    const last = prepared[prepared.length - 1]?.entry.revision ?? 0;
    try {
      await this.repo.fastImport(buildFastImportStream(this.repo.branchRef, tip, prepared));
      const newTip = await this.repo.tip();
      if (!newTip) throw new Error(`branch ${this.repo.branch} vanished after fast-import`);
      this.treeTip = newTip;
      this.lastRevision = Math.max(this.lastRevision, last);
      await this.repo.checkout(tip, newTip);
      this.log.debug(`git: committed revisions ${first}..${last} (${prepared.length} commits)`);
      return true;
    } catch (error) {
      this.tree = undefined; // unknown state: reload from the branch next time
      this.metrics.gitFailures.inc({ op: 'commit' }, prepared.length);
      this.log.error(`git: commit of revisions ${first}..${last} failed, the database keeps them: ${describeGitError(error)}`);
      return false;
    }
  }

  /** Check the key's path against the branch's files; undefined when the change is skipped. */
  private prepare(entry: ChangeEntry, tree: TreePaths): PreparedChange | undefined {
    try {
      const path = keyToPath(entry.key);
      if (entry.action === 'delete') {
        // a key written before git was enabled has no file: nothing to commit
        if (!tree.has(path)) return undefined;
        tree.remove(path);
        return { entry, path };
      }
      const collision = tree.collision(path);
      if (collision) throw new UnsafeKeyError(entry.key, collision);
      tree.add(path);
      return { entry, path, blob: toGitBlob(entry.key, entry.value ?? new Uint8Array()) };
    } catch (error) {
      this.metrics.gitFailures.inc({ op: 'refused' });
      this.log.warn(`git: ${describeGitError(error)}; revision ${entry.revision} stays in the database only`);
      return undefined;
    }
  }

  private get sync(): SyncOptions {
    return { log: this.log, onFailure: (op) => this.metrics.gitFailures.inc({ op }) };
  }
}

/** One fast-import stream: a commit per change on top of `tip`, author and time from the change. */
export function buildFastImportStream(ref: string, tip: string | undefined, changes: readonly PreparedChange[]): Buffer {
  const parts: Buffer[] = [];
  let first = true;
  for (const { entry, path, blob } of changes) {
    const author = authorFor(entry.actor);
    const ident = `${author.name} <${author.email}> ${Math.floor(entry.timestamp.getTime() / 1000)} +0000`;
    const message = Buffer.from(commitMessage(entry));
    let header = `commit ${ref}\nauthor ${ident}\ncommitter ${ident}\ndata ${message.length}\n`;
    parts.push(Buffer.from(header), message, Buffer.from('\n'));
    header = first && tip ? `from ${tip}\n` : '';
    first = false;
    if (blob) {
      header += `M 100644 inline ${quoteFastImportPath(path)}\ndata ${blob.length}\n`;
      parts.push(Buffer.from(header), Buffer.from(blob.buffer, blob.byteOffset, blob.byteLength), Buffer.from('\n\n'));
    } else {
      parts.push(Buffer.from(`${header}D ${quoteFastImportPath(path)}\n\n`));
    }
  }
  return Buffer.concat(parts);
}

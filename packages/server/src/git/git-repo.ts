import { existsSync, mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { DEFAULT_AUTHOR } from './commit-format.js';
import { GitCommandError, GitRunner } from './git-runner.js';

/** The repository at --git.path is missing, corrupt, or its branch cannot be checked out. */
export class GitRepositoryError extends Error {
  override readonly name = 'GitRepositoryError';
}

export interface GitRepoOptions {
  path: string;
  branch: string;
  sshKey?: string | undefined;
}

/** One commit touching a path, newest first, as `git log` reports it. */
export interface GitLogEntry {
  hash: string;
  authorTime: number;
  authorName: string;
  message: string;
}

/** A regular file in a commit's tree. */
export interface GitTreeFile {
  path: string;
  blob: string;
}

/** A history repository: the work tree at --git.path, one branch mirrored. */
export class GitRepo {
  private constructor(
    readonly git: GitRunner,
    readonly path: string,
    readonly branch: string,
  ) {}

  get branchRef(): string {
    return `refs/heads/${this.branch}`;
  }

  /**
   * Open the repository, creating it (with the original's `.gitkeep` "initial commit") when
   * missing, and check out the branch, creating it from HEAD when new.
   * @throws GitRepositoryError
   */
  static async init(options: GitRepoOptions): Promise<GitRepo> {
    const repo = GitRepo.forPath(options);
    mkdirSync(repo.path, { recursive: true }); // git runs inside it
    await repo.checkBranchName();
    if (!existsSync(resolve(repo.path, '.git'))) {
      await repo.must(['init', '-q', '--initial-branch=master'], 'cannot create the git repository');
    }
    await repo.must(['rev-parse', '--git-dir'], 'not a usable git repository');
    const head = await repo.git.run(['rev-parse', '--verify', '-q', 'HEAD'], { okCodes: [1] });
    if (head.code === 1) await repo.initialCommit();
    await repo.checkoutBranch();
    return repo;
  }

  /**
   * Open an existing repository without changing it (restore).
   * @throws GitRepositoryError
   */
  static async open(options: GitRepoOptions): Promise<GitRepo> {
    const repo = GitRepo.forPath(options);
    if (!existsSync(resolve(repo.path, '.git'))) throw new GitRepositoryError(`no git repository at ${repo.path}`);
    await repo.must(['rev-parse', '--git-dir'], 'not a usable git repository');
    return repo;
  }

  private static forPath(options: GitRepoOptions): GitRepo {
    const path = resolve(options.path);
    return new GitRepo(new GitRunner(path, options.sshKey ?? ''), path, options.branch);
  }

  /** The commit the branch points at, or undefined for an unborn branch. */
  async tip(): Promise<string | undefined> {
    const result = await this.git.run(['rev-parse', '--verify', '-q', this.branchRef], { okCodes: [1] });
    return result.code === 0 ? result.stdout.toString('utf8').trim() : undefined;
  }

  /** Full hash of a commit-ish (hash, short hash, tag, branch), or undefined when it does not exist. */
  async resolveCommit(rev: string): Promise<string | undefined> {
    if (rev === '') return undefined;
    const result = await this.git.run(['rev-parse', '--verify', '-q', '--end-of-options', `${rev}^{commit}`], {
      okCodes: [1, 128],
    });
    return result.code === 0 ? result.stdout.toString('utf8').trim() : undefined;
  }

  /** Feed a fast-import stream (many commits, one process); refuses non-fast-forward branch updates. */
  async fastImport(stream: Buffer): Promise<void> {
    await this.git.run(['fast-import', '--quiet', '--date-format=raw'], { input: stream });
  }

  /**
   * Bring index and work tree from `from` to `to` after fast-import moved the branch: only changed
   * files are written, by git itself (which never writes through a symlink or into `.git`).
   * Local edits in the way are overwritten: the work tree belongs to the mirror.
   */
  async checkout(from: string | undefined, to: string): Promise<void> {
    if (from) {
      const merged = await this.git.run(['read-tree', '-m', '-u', from, to], { okCodes: [128] });
      if (merged.code === 0) return;
    }
    await this.git.run(['reset', '-q', '--hard', to]);
  }

  /** Every path of a commit's tree (files, links, submodules). */
  async listPaths(commit: string): Promise<string[]> {
    const out = await this.git.run(['ls-tree', '-r', '-z', '--name-only', '--full-tree', commit]);
    return out.stdout.toString('utf8').split('\0').filter((p) => p !== '');
  }

  /** Commits of the branch touching `path`, newest first. */
  async log(path: string, limit: number): Promise<GitLogEntry[]> {
    const out = await this.git.run(['log', '-z', `-n${limit}`, '--format=%H%n%at%n%an%n%B', this.branchRef, '--', path]);
    const entries: GitLogEntry[] = [];
    for (const record of out.stdout.toString('utf8').split('\0')) {
      const [hash, time, name, ...body] = record.replace(/^\n/, '').split('\n');
      if (!hash || !time) continue;
      entries.push({ hash, authorTime: Number(time), authorName: name ?? '', message: body.join('\n').trimEnd() });
    }
    return entries;
  }

  /** Every regular file of a commit's tree, read without touching the work tree. */
  async listFiles(commit: string): Promise<GitTreeFile[]> {
    const out = await this.git.run(['ls-tree', '-r', '-z', '--full-tree', commit]);
    const files: GitTreeFile[] = [];
    for (const record of out.stdout.toString('utf8').split('\0')) {
      const m = /^(\d+) (\w+) ([0-9a-f]+)\t(.*)$/s.exec(record);
      if (m && m[2] === 'blob' && (m[1] === '100644' || m[1] === '100755')) files.push({ path: m[4] ?? '', blob: m[3] ?? '' });
    }
    return files;
  }

  /** Contents of objects (`<hash>` or `<commit>:<path>`) in one `cat-file --batch`; undefined when missing. */
  async readObjects(names: readonly string[]): Promise<(Buffer | undefined)[]> {
    if (names.length === 0) return [];
    const out = (await this.git.run(['cat-file', '--batch'], { input: `${names.join('\n')}\n` })).stdout;
    const results: (Buffer | undefined)[] = [];
    let pos = 0;
    for (let i = 0; i < names.length; i++) {
      const eol = out.indexOf(0x0a, pos);
      if (eol < 0) throw new GitCommandError(['cat-file'], 0, 'truncated output');
      const header = out.subarray(pos, eol).toString('utf8');
      pos = eol + 1;
      const m = / (\w+) (\d+)$/.exec(header);
      if (!m || header.endsWith(' missing') || header.endsWith(' ambiguous')) {
        results.push(undefined);
        continue;
      }
      const size = Number(m[2]);
      results.push(m[1] === 'blob' ? Buffer.from(out.subarray(pos, pos + size)) : undefined);
      pos += size + 1;
    }
    return results;
  }

  /** Newest-first (commit message, changed paths) pairs reachable from `commit`, for restoring formats. */
  async changedPaths(commit: string): Promise<{ message: string; paths: string[] }[]> {
    const out = await this.git.run(['log', '-z', '--no-renames', '--name-only', '--format=%x01%B', commit]);
    const commits: { message: string; paths: string[] }[] = [];
    for (const chunk of out.stdout.toString('utf8').split('\x01').slice(1)) {
      // with -z the message ends in NUL, then the NUL-separated paths follow
      const [message = '', ...paths] = chunk.split('\0');
      commits.push({ message, paths: paths.map((p) => p.replace(/^\n/, '')).filter((p) => p !== '') });
    }
    return commits;
  }

  private async initialCommit(): Promise<void> {
    const headRef = (await this.git.text(['symbolic-ref', '-q', 'HEAD'], { okCodes: [1] })) || 'refs/heads/master';
    const now = Math.floor(Date.now() / 1000);
    const ident = `${DEFAULT_AUTHOR.name} <${DEFAULT_AUTHOR.email}> ${now} +0000`;
    const message = 'initial commit';
    const stream = [
      `commit ${headRef}`,
      `author ${ident}`,
      `committer ${ident}`,
      `data ${Buffer.byteLength(message)}`,
      message,
      'M 100644 inline .gitkeep',
      'data 0',
      '',
      '',
    ].join('\n');
    await this.must(['fast-import', '--quiet', '--date-format=raw'], 'cannot create the initial commit', stream);
    await this.must(['reset', '-q', '--hard'], 'cannot check out the initial commit');
  }

  private async checkBranchName(): Promise<void> {
    const check = await this.git.run(['check-ref-format', '--branch', this.branch], { okCodes: [1, 128] });
    if (check.code !== 0 || this.branch.startsWith('-')) throw new GitRepositoryError(`invalid git branch name "${this.branch}"`);
  }

  private async checkoutBranch(): Promise<void> {
    const current = await this.git.run(['symbolic-ref', '-q', '--short', 'HEAD'], { okCodes: [1] });
    if (current.stdout.toString('utf8').trim() === this.branch) return;
    const exists = (await this.tip()) !== undefined;
    const args = exists ? ['checkout', '-q', this.branch, '--'] : ['checkout', '-q', '-b', this.branch];
    await this.must(args, `cannot check out branch "${this.branch}"`);
  }

  private async must(args: string[], what: string, input?: string): Promise<void> {
    try {
      await this.git.run(args, { input });
    } catch (error) {
      const detail = error instanceof GitCommandError ? error.stderr.trim() || error.message : String(error);
      throw new GitRepositoryError(`${what} at ${this.path}: ${detail}`);
    }
  }
}

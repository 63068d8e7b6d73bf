import { spawn } from 'node:child_process';

/** A git command that exited non-zero (or could not start); `stderr` holds git's own words. */
export class GitCommandError extends Error {
  override readonly name = 'GitCommandError';
  constructor(
    readonly args: readonly string[],
    readonly code: number | null,
    readonly stderr: string,
  ) {
    super(`git ${args[0] ?? ''} failed${code === null ? '' : ` (exit ${code})`}: ${stderr.trim() || 'no output'}`);
  }
}

export interface GitRunOptions {
  /** bytes written to git's stdin */
  input?: Uint8Array | string | undefined;
  /** exit codes that are not failures (e.g. 1 for `rev-parse --verify -q`) */
  okCodes?: readonly number[] | undefined;
}

export interface GitResult {
  code: number;
  stdout: Buffer;
  stderr: string;
}

/**
 * Runs the `git` binary against one repository with its git dir and work tree pinned, so a
 * repository nested inside another never falls through to the outer one. Git runs in its own
 * process: committing never blocks the server's event loop.
 */
export class GitRunner {
  private readonly env: NodeJS.ProcessEnv;

  constructor(
    readonly workTree: string,
    sshKey = '',
  ) {
    this.env = {
      ...process.env,
      GIT_DIR: `${workTree}/.git`,
      GIT_WORK_TREE: workTree,
      GIT_TERMINAL_PROMPT: '0',
      // keys may hold `*`, `?`, `[`: paths are never globs
      GIT_LITERAL_PATHSPECS: '1',
      LC_ALL: 'C',
    };
    // isomorphic-git has no SSH transport; the binary does, and the key goes in through ssh -i
    if (sshKey !== '') {
      this.env['GIT_SSH_COMMAND'] = `ssh -i ${shellQuote(sshKey)} -o IdentitiesOnly=yes -o BatchMode=yes`;
    }
  }

  /** Run `git <args>`; rejects with GitCommandError unless the exit code is 0 or listed in okCodes. */
  run(args: readonly string[], options: GitRunOptions = {}): Promise<GitResult> {
    return new Promise((resolve, reject) => {
      const child = spawn('git', ['-c', 'core.quotepath=off', ...args], {
        cwd: this.workTree,
        env: this.env,
        stdio: ['pipe', 'pipe', 'pipe'],
      });
      const out: Buffer[] = [];
      const err: Buffer[] = [];
      child.stdout.on('data', (c: Buffer) => out.push(c));
      child.stderr.on('data', (c: Buffer) => err.push(c));
      child.on('error', (e) => reject(new GitCommandError(args, null, e.message)));
      child.stdin.on('error', () => {}); // git may exit before reading all input; the exit code tells
      child.on('close', (code) => {
        const stderr = Buffer.concat(err).toString('utf8');
        const exit = code ?? -1;
        if (exit === 0 || options.okCodes?.includes(exit)) {
          resolve({ code: exit, stdout: Buffer.concat(out), stderr });
        } else {
          reject(new GitCommandError(args, code, stderr));
        }
      });
      child.stdin.end(options.input ?? '');
    });
  }

  /** `git <args>` stdout as trimmed UTF-8. */
  async text(args: readonly string[], options: GitRunOptions = {}): Promise<string> {
    return (await this.run(args, options)).stdout.toString('utf8').trim();
  }
}

function shellQuote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

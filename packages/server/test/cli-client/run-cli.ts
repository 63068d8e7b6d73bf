import { spawn, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const BIN = fileURLToPath(new URL('../../bin/stash.js', import.meta.url));
// one locked `tsc -b` for every test file that spawns the bin
export { buildOnce } from '../helpers/spawned-server.js';

export interface CliResult {
  code: number | null;
  stdout: string;
  stdoutBytes: Buffer;
  stderr: string;
}

/** Run `stash <args>` with a clean client environment plus `env`, optionally feeding stdin. */
export function runCli(args: string[], options: { env?: Record<string, string>; stdin?: string | Buffer } = {}): Promise<CliResult> {
  const env: NodeJS.ProcessEnv = { PATH: process.env['PATH'], HOME: process.env['HOME'], ...options.env };
  return collect(spawn(process.execPath, [BIN, ...args], { env, stdio: ['pipe', 'pipe', 'pipe'] }), options.stdin);
}

/** util-linux `script`, which runs a command on a fresh pseudo-terminal; undefined when missing. */
export const SCRIPT_BIN: string | undefined = (() => {
  const found = spawnSync('sh', ['-c', 'command -v script'], { encoding: 'utf8' });
  return found.status === 0 && found.stdout.trim() !== '' ? found.stdout.trim() : undefined;
})();

const shellQuote = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`;

/**
 * Run `stash <args>` on a pseudo-terminal (`script -qec CMD /dev/null`): stdin, stdout and
 * stderr are all the terminal, so both streams arrive merged in `stdout`, with the terminal's
 * `\r\n` line ends. `stdin` is typed into the terminal (answers to prompts).
 */
export function runCliInPty(args: string[], options: { env?: Record<string, string>; stdin?: string } = {}): Promise<CliResult> {
  if (SCRIPT_BIN === undefined) throw new Error('script (util-linux) is not installed');
  const env: NodeJS.ProcessEnv = { PATH: process.env['PATH'], HOME: process.env['HOME'], ...options.env };
  const command = [process.execPath, BIN, ...args].map(shellQuote).join(' ');
  const child = spawn(SCRIPT_BIN, ['-qec', command, '/dev/null'], { env, stdio: [options.stdin === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'] });
  return collect(child, options.stdin);
}

function collect(child: ReturnType<typeof spawn>, stdin: string | Buffer | undefined): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout?.on('data', (c: Buffer) => out.push(c));
    child.stderr?.on('data', (c: Buffer) => err.push(c));
    child.on('error', reject);
    child.on('close', (code) => {
      const stdoutBytes = Buffer.concat(out);
      resolve({ code, stdout: stdoutBytes.toString('utf8'), stdoutBytes, stderr: Buffer.concat(err).toString('utf8') });
    });
    if (child.stdin) {
      if (stdin !== undefined) child.stdin.end(stdin);
      else child.stdin.end();
    }
  });
}

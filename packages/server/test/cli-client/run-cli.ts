import { execFile, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const ROOT = fileURLToPath(new URL('../../../../', import.meta.url));
export const BIN = fileURLToPath(new URL('../../bin/stash.js', import.meta.url));

export interface CliResult {
  code: number | null;
  stdout: string;
  stdoutBytes: Buffer;
  stderr: string;
}

/** Build the workspace once (tsc -b), so the spawned bin runs the current sources. */
export async function buildOnce(): Promise<void> {
  try {
    await promisify(execFile)('npx', ['tsc', '-b'], { cwd: ROOT, timeout: 120_000 });
  } catch (error) {
    // other packages' unfinished files may fail typechecking; tsc -b still emits ours
    console.warn(`tsc -b reported errors:\n${String((error as { stdout?: string }).stdout ?? error).slice(0, 2000)}`);
  }
}

/** Run `stash <args>` with a clean client environment plus `env`, optionally feeding stdin. */
export function runCli(args: string[], options: { env?: Record<string, string>; stdin?: string | Buffer } = {}): Promise<CliResult> {
  const env: NodeJS.ProcessEnv = { PATH: process.env['PATH'], HOME: process.env['HOME'], ...options.env };
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { env, stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (c: Buffer) => out.push(c));
    child.stderr.on('data', (c: Buffer) => err.push(c));
    child.on('error', reject);
    child.on('close', (code) => {
      const stdoutBytes = Buffer.concat(out);
      resolve({ code, stdout: stdoutBytes.toString('utf8'), stdoutBytes, stderr: Buffer.concat(err).toString('utf8') });
    });
    if (options.stdin !== undefined) child.stdin.end(options.stdin);
    else child.stdin.end();
  });
}

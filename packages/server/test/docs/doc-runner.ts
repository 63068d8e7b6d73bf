import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { build } from 'esbuild';
import { BIN, ROOT, startStashProcess } from '../helpers/spawned-server.js';
import { slug, type DocBlock } from './doc-blocks.js';

export interface RunResult {
  /** exit code, or the signal name, or `timeout` */
  code: number | string;
  stdout: string;
  stderr: string;
}

/** Run a command in its own process group, so a timeout also ends what it started in the background. */
export function run(cmd: string, args: readonly string[], options: { cwd: string; env: Record<string, string>; timeoutMs: number }): Promise<RunResult> {
  return new Promise((resolve) => {
    const proc = spawn(cmd, args, { cwd: options.cwd, env: options.env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    proc.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    proc.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const killGroup = (): void => {
      try {
        process.kill(-(proc.pid as number), 'SIGKILL');
      } catch {
        // already gone
      }
    };
    const timer = setTimeout(() => {
      timedOut = true;
      killGroup();
    }, options.timeoutMs);
    proc.once('close', (code, signal) => {
      clearTimeout(timer);
      killGroup(); // background jobs of the block
      resolve({ code: timedOut ? 'timeout' : (code ?? signal ?? -1), stdout, stderr });
    });
  });
}

/**
 * A directory with `stash` (the repository's bin) and `npx` (only `npx stash`, so a block can
 * never make npx fetch a package from the registry) for the PATH of shell blocks.
 */
export function makeBinDir(dir: string): string {
  mkdirSync(dir, { recursive: true });
  const stash = join(dir, 'stash');
  writeFileSync(stash, `#!/bin/sh\nexec "${process.execPath}" "${BIN}" "$@"\n`);
  const npx = join(dir, 'npx');
  writeFileSync(npx, '#!/bin/sh\nif [ "$1" = stash ]; then shift; exec stash "$@"; fi\necho "docs test: only npx stash is available" >&2\nexit 127\n');
  chmodSync(stash, 0o755);
  chmodSync(npx, 0o755);
  return dir;
}

export interface DocServer {
  url: string;
  /** everything the server wrote, for failure messages */
  output(): string;
  close(): Promise<void>;
}

/** Split marker flags on whitespace, honouring simple single or double quotes. */
export function splitArgs(text: string): string[] {
  return [...text.matchAll(/"([^"]*)"|'([^']*)'|(\S+)/g)].map((m) => m[1] ?? m[2] ?? m[3] ?? '');
}

/** Start the built `stash server` in `cwd` (relative paths in flags resolve there), answering /ping. */
export async function startDocServer(cwd: string, db: string, args: readonly string[]): Promise<DocServer> {
  const namesDb = args.some((a) => a === '--db' || a.startsWith('--db=') || a === '-d');
  const server = await startStashProcess(namesDb ? undefined : db, args, { cwd, timeoutMs: 15_000 });
  return {
    url: server.url,
    output: () => `${server.stdout()}${server.stderr()}`,
    close: async () => {
      if (server.proc.exitCode === null) server.proc.kill('SIGTERM');
      await server.exited;
    },
  };
}

/** Put the test server's address where a page says localhost:8080 or 127.0.0.1:8080. */
export const pointAt = (code: string, url: string): string =>
  code.replace(/(?:localhost|127\.0\.0\.1):8080/g, url.replace(/^http:\/\//, ''));

export interface CompiledTs {
  /** bundled ES module, `@stash/client` included, keyed by block */
  modules: Map<DocBlock, string>;
  /** type or syntax errors, keyed by block */
  errors: Map<DocBlock, string>;
}

/**
 * Type-check every TypeScript block with one tsc run (against the client's published
 * declarations), then bundle each with esbuild into a self-contained .mjs for Node 20.
 */
export async function compileTsBlocks(blocks: readonly DocBlock[], dir: string): Promise<CompiledTs> {
  mkdirSync(dir, { recursive: true });
  const byFile = new Map<string, DocBlock>();
  for (const block of blocks) {
    const file = join(dir, `${slug(block)}.ts`);
    writeFileSync(file, `${block.code}\nexport {};\n`);
    byFile.set(`${slug(block)}.ts`, block);
  }
  const errors = new Map<DocBlock, string>();
  if (blocks.length === 0) return { modules: new Map(), errors };
  writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify({
    compilerOptions: {
      target: 'ES2022', lib: ['ES2023', 'DOM', 'ESNext.Disposable'], module: 'ESNext', moduleResolution: 'Bundler',
      strict: true, noEmit: true, skipLibCheck: true, types: ['node'], typeRoots: [join(ROOT, 'node_modules/@types')],
      paths: { '@stash/client': [join(ROOT, 'packages/client/dist/index.d.ts')] },
    },
    include: ['*.ts'],
  }));
  const tsc = spawnSync(process.execPath, [join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', dir], { cwd: dir, encoding: 'utf8' });
  for (const line of `${tsc.stdout}${tsc.stderr}`.split('\n')) {
    const m = /^(.*?\.ts)\((\d+),(\d+)\): (.*)$/.exec(line.trim());
    const block = m ? byFile.get(m[1]?.split('/').pop() ?? '') : undefined;
    if (!m || !block) continue;
    const at = `line ${block.line + Number(m[2])}: ${m[4]}`;
    errors.set(block, errors.has(block) ? `${errors.get(block)}\n${at}` : at);
  }
  const modules = new Map<DocBlock, string>();
  const ready = blocks.filter((b) => !errors.has(b));
  const bundle = (entries: readonly DocBlock[]) =>
    build({
      entryPoints: entries.map((b) => join(dir, `${slug(b)}.ts`)), outdir: join(dir, 'out'), bundle: true,
      platform: 'node', format: 'esm', target: 'node20', write: false, logLevel: 'silent',
      nodePaths: [join(ROOT, 'node_modules')],
      // bundled CommonJS dependencies call require()
      banner: { js: "import { createRequire as __docsRequire } from 'node:module'; const require = __docsRequire(import.meta.url);" },
    });
  const collect = (files: readonly { path: string; text: string }[], entries: readonly DocBlock[]): void => {
    for (const block of entries) {
      const file = files.find((f) => f.path.endsWith(`/${slug(block)}.js`));
      if (file) modules.set(block, file.text);
      else errors.set(block, 'esbuild produced no output');
    }
  };
  try {
    collect((await bundle(ready)).outputFiles, ready); // one run for all, the usual case
  } catch {
    for (const block of ready) {
      try {
        collect((await bundle([block])).outputFiles, [block]);
      } catch (e) {
        errors.set(block, (e as Error).message);
      }
    }
  }
  return { modules, errors };
}

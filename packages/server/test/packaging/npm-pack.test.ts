import { readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { build } from 'esbuild';
import { chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chooseChromium, chromiumExecutable } from '../helpers/chromium.js';
import { ROOT, buildOnce, freePort, waitForPing, type Spawned } from '../helpers/spawned-server.js';
import { makeTempDir, startTestServer, type TestServer } from '../helpers/test-server.js';
import { emptyProject, localSqlitePrebuild, ok, packWorkspaces, run, spawnInstalled, type PackedFile } from './pack-helpers.js';

// the packed packages, installed where the workspace cannot help: an empty project in a temp folder,
// from npm's cache only (filled by `npm ci`), no registry
const WORK = makeTempDir('stash-pack-');
const TSC = join(ROOT, 'node_modules/typescript/bin/tsc');
const NPM_QUIET = ['--no-audit', '--no-fund', '--loglevel=error'];
const CHROMIUM = chooseChromium('packed client in Chromium');
const BUILT_ASSETS = ['app.js', 'zk.js', 'style.css', 'logo.svg', 'favicon.svg'];

let client: PackedFile;
let server: PackedFile;
let packStarted: number;

beforeAll(async () => {
  await buildOnce();
  packStarted = Date.now();
  const packed = await packWorkspaces(WORK, ['packages/client', 'packages/server']);
  client = packed.find((p) => p.name === '@stash/client') as PackedFile;
  server = packed.find((p) => p.name === '@stash/server') as PackedFile;
  console.info(`npm pack of both packages: ${Date.now() - packStarted} ms`);
}, 150_000);
afterAll(() => rmSync(WORK, { recursive: true, force: true }));

describe('npm pack', () => {
  it('packs the client with its build, types, README and LICENSE only', () => {
    const files = client.files;
    for (const f of ['package.json', 'README.md', 'LICENSE', 'dist/index.js', 'dist/index.d.ts', 'dist/core.js', 'dist/core.d.ts']) {
      expect(files, f).toContain(f);
    }
    expect(files.filter((f) => !/^(dist|src)\//.test(f) && !['package.json', 'README.md', 'LICENSE'].includes(f))).toEqual([]);
    expect(files.filter((f) => f.endsWith('.tsbuildinfo') || f.includes('test/'))).toEqual([]);
  });

  it('packs the server with bin, dist, the built web assets, README and LICENSE, and no sources', () => {
    const files = server.files;
    for (const f of ['package.json', 'README.md', 'LICENSE', 'bin/stash.js', 'dist/cli/main.js', ...BUILT_ASSETS.map((a) => `web-assets/${a}`)]) {
      expect(files, f).toContain(f);
    }
    expect(files.filter((f) => !/^(bin|dist|web-assets)\//.test(f) && !['package.json', 'README.md', 'LICENSE'].includes(f))).toEqual([]);
    expect(files.filter((f) => /\.(map|d\.ts|ts)$/.test(f) && !f.endsWith('.js'))).toEqual([]);
    // the prepack script rebuilt the gitignored web assets
    const appJs = statSync(join(ROOT, 'packages/server/web-assets/app.js'));
    expect(appJs.mtimeMs).toBeGreaterThanOrEqual(packStarted - 1000);
  });

  it('declares MIT in every package.json, as the LICENSE files say', () => {
    const license = readFileSync(join(ROOT, 'LICENSE'), 'utf8');
    expect(license).toMatch(/^MIT License\n\nCopyright \(c\) 2026 the Stash in TypeScript authors\n/);
    for (const dir of ['.', 'packages/client', 'packages/server']) {
      const pkg = JSON.parse(readFileSync(join(ROOT, dir, 'package.json'), 'utf8')) as { license?: string };
      expect(pkg.license, dir).toBe('MIT');
      if (dir !== '.') expect(readFileSync(join(ROOT, dir, 'LICENSE'), 'utf8'), dir).toBe(license);
    }
  });
});

/**
 * Dependency tarballs come from the cache `npm ci` filled; the lockfile records no download
 * addresses, so npm still needs each dependency's registry metadata to resolve the packed
 * packages' version ranges, which a fresh machine's cache does not hold (`--offline` fails there).
 */
const PREFER_CACHE = ['--prefer-offline'];

describe('@stash/client installed from its tarball', () => {
  const project = join(WORK, 'client-consumer');
  let stash: TestServer;

  beforeAll(async () => {
    emptyProject(project);
    const install = ok(await run('npm', ['install', client.filename, ...PREFER_CACHE, ...NPM_QUIET], { cwd: project }), 'npm install of the client');
    console.info(`npm install of the packed client (tarballs from the npm cache): ${install.ms} ms`);
    stash = await startTestServer();
  }, 60_000);
  afterAll(async () => {
    await stash?.close();
  });

  it('works from Node ESM: plain and zero-knowledge values against a real server', async () => {
    writeFileSync(
      join(project, 'check.mjs'),
      `import { Client, NotFoundError } from '@stash/client';
import { normalizeKey } from '@stash/client/core';
const url = process.argv[2];
const plain = new Client(url);
const zk = new Client(url, { zkKey: 'packed-client-passphrase' });
await plain.ping();
const created = (await plain.set('pack/plain', 'from the packed client', 'text')).created;
await zk.set('pack/zk', 'zero-knowledge ✓');
let missing = false;
try { await plain.get('pack/none'); } catch (e) { missing = e instanceof NotFoundError; }
console.log(JSON.stringify({
  created, missing,
  plain: await plain.get('pack/plain'),
  stored: (await plain.get('pack/zk')).slice(0, 4),
  decrypted: await zk.get('pack/zk'),
  keys: (await plain.list('pack/')).map((k) => k.key).sort(),
  normalized: normalizeKey(' /a b/ '),
}));
`,
    );
    const result = ok(await run(process.execPath, ['check.mjs', stash.url], { cwd: project }), 'node check.mjs');
    expect(JSON.parse(result.stdout)).toEqual({
      created: true,
      missing: true,
      plain: 'from the packed client',
      stored: '$ZK$',
      decrypted: 'zero-knowledge ✓',
      keys: ['pack/plain', 'pack/zk'],
      normalized: 'a_b',
    });
  });

  it('type-checks from TypeScript with its own declarations (real types, not any)', async () => {
    writeFileSync(
      join(project, 'typed.ts'),
      `import { Client, NotFoundError, type KeyInfo } from '@stash/client';
import { normalizeKey } from '@stash/client/core';
const client = new Client('http://localhost:8080', { timeout: 1000, retries: 0 });
export const value: Promise<string> = client.get('a');
export const keys: Promise<KeyInfo[]> = client.list('a/');
export const key: string = normalizeKey(' a ');
export const isMissing = (e: unknown): boolean => e instanceof NotFoundError;
// @ts-expect-error keys are strings
void client.get(42);
// @ts-expect-error no such option
void new Client('http://x', { tiemout: 1 });
`,
    );
    // strict, declarations checked too (skipLibCheck off); and the lib that tsc --init gives
    const configs = {
      'tsconfig.strict.json': { lib: ['ES2023', 'DOM', 'ESNext.Disposable'], skipLibCheck: false },
      'tsconfig.default.json': { lib: ['ES2022', 'DOM'], skipLibCheck: true },
    };
    for (const [file, extra] of Object.entries(configs)) {
      const compilerOptions = { module: 'NodeNext', moduleResolution: 'NodeNext', target: 'ES2022', strict: true, noEmit: true, types: [], ...extra };
      writeFileSync(join(project, file), JSON.stringify({ compilerOptions, files: ['typed.ts'] }));
      ok(await run(process.execPath, [TSC, '-p', file], { cwd: project }), `tsc -p ${file}`);
    }
  });

  it('bundles for the browser without Node builtins, and runs in Chromium when there is one', async () => {
    writeFileSync(join(project, 'browser.js'), `export * from '@stash/client';\n`);
    const bundled = await build({
      absWorkingDir: project,
      entryPoints: ['browser.js'],
      bundle: true,
      platform: 'browser',
      format: 'iife',
      globalName: 'StashClient',
      target: 'es2022',
      write: false,
      metafile: true,
      logLevel: 'silent',
    });
    const inputs = Object.keys(bundled.metafile.inputs);
    expect(inputs.filter((f) => f.startsWith('node:'))).toEqual([]);
    // every module came from the installed package and its dependency, none from the repository
    expect(inputs.filter((f) => f !== 'browser.js' && !/^node_modules\/(@stash\/client|hash-wasm)\//.test(f))).toEqual([]);
    const code = bundled.outputFiles[0]?.text ?? '';
    expect(code).not.toMatch(/from\s*["']node:|require\(["']node:/);
    if (!CHROMIUM.run) return;
    const browser = await chromium.launch({ executablePath: chromiumExecutable(CHROMIUM), args: ['--no-sandbox', '--disable-gpu'] });
    try {
      const page = await browser.newPage();
      await page.goto(`${stash.url}/ping`); // same origin as the API
      await page.addScriptTag({ content: code });
      const seen = await page.evaluate(async () => {
        const { Client } = (globalThis as unknown as { StashClient: { Client: new (url: string) => { set(k: string, v: string): Promise<unknown>; get(k: string): Promise<string> } } }).StashClient;
        const c = new Client(location.origin);
        await c.set('pack/browser', 'from Chromium');
        return c.get('pack/browser');
      });
      expect(seen).toBe('from Chromium');
    } finally {
      await browser.close();
    }
  });
});

describe('@stash/server installed globally from its tarball', () => {
  const prefix = join(WORK, 'global');
  const data = join(WORK, 'server-data');
  let proc: Spawned | undefined;

  afterAll(async () => {
    if (proc && proc.proc.exitCode === null) {
      proc.proc.kill('SIGTERM');
      await proc.exited;
    }
  });

  it('`npm install -g` works from the tarballs, and its `stash server` answers /ping, / and the API', async () => {
    const env = await localSqlitePrebuild(join(WORK, 'prebuilds'));
    // the client tarball satisfies the server's @stash/client dependency (it is not on the registry)
    const args = ['install', '-g', '--prefix', prefix, client.filename, server.filename, ...PREFER_CACHE, '--allow-scripts=argon2,better-sqlite3', ...NPM_QUIET];
    const install = ok(await run('npm', args, { cwd: WORK, env, timeoutMs: 150_000 }), 'npm install -g of the server');
    console.info(`npm install -g of the packed server and client (tarballs from the npm cache, native modules included): ${install.ms} ms`);

    const bin = join(prefix, 'bin', 'stash');
    const version = await run(bin, ['--version'], { cwd: WORK });
    expect(version.stdout.trim()).toBe('stash v0.1.0');

    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    proc = spawnInstalled(bin, ['server', `--db=${join(data, 'stash.db')}`, `--server.address=127.0.0.1:${port}`, '--secrets.key=packed-server-secrets-key'], data);
    await waitForPing(url, proc, 20_000);

    expect(await (await fetch(`${url}/ping`)).text()).toBe('pong');
    const page = await fetch(`${url}/`);
    expect(page.status).toBe(200);
    const html = await page.text();
    expect(html).toContain('<title>Stash</title>');
    const script = /src="(\/static\/app\.js\?v=[0-9a-f]+)"/.exec(html)?.[1];
    expect(script).toBeDefined();
    const asset = await fetch(`${url}${script}`);
    expect(asset.status).toBe(200);
    expect(await asset.text()).toBe(readFileSync(join(prefix, 'lib/node_modules/@stash/server/web-assets/app.js'), 'utf8'));
    // SQLite (better-sqlite3) and a secret (argon2), both native modules of the installed copy
    expect((await fetch(`${url}/kv/pack/secrets/token`, { method: 'PUT', body: 's3cret' })).status).toBe(201);
    expect(await (await fetch(`${url}/kv/pack/secrets/token`)).text()).toBe('s3cret');
  }, 180_000);
});

import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GLOBAL_OPTIONS } from '../../src/config/options.js';
import { makeTempDir } from '../helpers/test-server.js';
import { BIN, ROOT, buildOnce, freePort, runStash, waitForPing, type Spawned } from '../helpers/spawned-server.js';
import {
  dockerIgnore,
  execForm,
  findAll,
  nginxSeconds,
  parseDockerfile,
  parseNginx,
  quickStartCommands,
  type NginxBlock,
} from './deploy-parsers.js';

// images cannot be built here (no Docker daemon): the files are checked against the code they deploy
const read = (path: string): string => readFileSync(join(ROOT, path), 'utf8');
const KNOWN_ENV = new Set(GLOBAL_OPTIONS.flatMap((o) => (o.env ? [o.env] : [])));
const stashEnvNames = (names: Iterable<string>): string[] => [...names].filter((n) => n.startsWith('STASH_'));

interface ComposeService {
  image?: string;
  build?: unknown;
  depends_on?: string[] | Record<string, unknown>;
  environment?: Record<string, string>;
  networks?: string[] | Record<string, { ipv4_address?: string } | null>;
}

const compose = parseYaml(read('deploy/docker-compose.yml'), { merge: true }) as { services: Record<string, ComposeService> };
const nginx = parseNginx(read('deploy/nginx.conf'));
const dockerfile = parseDockerfile(read('Dockerfile'));
const rootPackage = JSON.parse(read('package.json')) as { scripts: Record<string, string> };
const services = compose.services;
const stashServices = Object.entries(services).filter(([, s]) => s.build !== undefined);
const directive = (block: NginxBlock, name: string): string[] | undefined => block.children.find((c) => c.name === name)?.args;

describe('deploy/docker-compose.yml and deploy/nginx.conf', () => {
  it('parse, and every depends_on names a service of the file', () => {
    expect(Object.keys(services).sort()).toEqual(['postgres', 'proxy', 'stash-1', 'stash-2']);
    for (const [name, service] of Object.entries(services)) {
      const deps = Array.isArray(service.depends_on) ? service.depends_on : Object.keys(service.depends_on ?? {});
      for (const dep of deps) expect(Object.keys(services), `${name} depends on ${dep}`).toContain(dep);
    }
    expect(stashServices.map(([n]) => n)).toEqual(['stash-1', 'stash-2']);
  });

  it('the proxy upstreams are the stash services, on the port they listen on', () => {
    const upstreams = findAll(nginx, 'upstream');
    expect(upstreams).toHaveLength(1);
    const targets = findAll(upstreams[0] as NginxBlock, 'server').map((s) => s.args[0] ?? '');
    const listen = stashServices.map(([name, s]) => `${name}:${(s.environment?.['STASH_SERVER_ADDRESS'] ?? ':8080').split(':').pop()}`);
    expect(targets.sort()).toEqual(listen.sort());
    const passes = findAll(nginx, 'proxy_pass').map((p) => p.args[0]);
    expect(passes.length).toBeGreaterThan(0);
    for (const pass of passes) expect(pass).toBe(`http://${upstreams[0]?.args[0]}`);
  });

  it('names only STASH_* variables the server knows, the same on both servers', () => {
    const [first, second] = stashServices.map(([, s]) => s.environment ?? {});
    expect(first).toEqual(second);
    expect(stashEnvNames(Object.keys(first ?? {})).filter((n) => !KNOWN_ENV.has(n))).toEqual([]);
    expect(first?.['STASH_DB']).toMatch(/^postgres:\/\/[^@]+@postgres:5432\//);
  });

  it('the proxy serves the base URL the servers run under, and is their one trusted proxy', () => {
    const env = stashServices[0]?.[1].environment ?? {};
    const base = env['STASH_SERVER_BASE_URL'] ?? '';
    expect(base).toBe('/stash');
    const prefixes = findAll(nginx, 'location').filter((l) => directive(l, 'proxy_pass')).map((l) => l.args.at(-1));
    for (const prefix of prefixes) expect(prefix?.startsWith(`${base}/`), prefix).toBe(true);
    const networks = services['proxy']?.networks;
    const proxyIp = networks && !Array.isArray(networks) ? Object.values(networks)[0]?.ipv4_address : undefined;
    expect(env['STASH_SERVER_TRUSTED_PROXIES']).toBe(proxyIp);
  });

  it('change streams go through unbuffered, with a read timeout above the heartbeat', () => {
    const streams = findAll(nginx, 'location').filter((l) => l.args.at(-1)?.includes('/kv/subscribe/'));
    expect(streams).toHaveLength(1);
    const sse = streams[0] as NginxBlock;
    expect(directive(sse, 'proxy_buffering')).toEqual(['off']);
    expect(directive(sse, 'proxy_http_version')).toEqual(['1.1']);
    const heartbeat = Number(GLOBAL_OPTIONS.find((o) => o.long === 'sse.heartbeat')?.default?.replace('s', ''));
    expect(nginxSeconds(directive(sse, 'proxy_read_timeout')?.[0] ?? '0')).toBeGreaterThan(4 * heartbeat);
    // every proxied location keeps the Host port: Stash compares Origin with Host on writes
    for (const l of findAll(nginx, 'location').filter((b) => directive(b, 'proxy_pass'))) {
      expect(l.children.filter((c) => c.name === 'proxy_set_header' && c.args[0] === 'Host').map((c) => c.args[1])).toEqual(['$http_host']);
    }
  });
});

describe('Dockerfile', () => {
  const runtimeStage = Math.max(...dockerfile.map((i) => i.stage));
  const runtime = dockerfile.filter((i) => i.stage === runtimeStage);
  const build = dockerfile.filter((i) => i.stage === 0);

  it('runs the README quick start: its install in the build stage, its start as the command', () => {
    const quick = quickStartCommands(read('README.md'), 'Quick start');
    const upToStart = quick.slice(0, quick.indexOf('npm start') + 1);
    expect(upToStart).toEqual(['npm ci', 'npm start']);
    const runs = build.filter((i) => i.op === 'RUN').map((i) => i.args);
    expect(runs.some((r) => r === 'npm ci' || r.startsWith('npm ci '))).toBe(true);
    const cmd = runtime.filter((i) => i.op === 'CMD');
    expect(cmd).toHaveLength(1);
    // `npm start` is package.json's start script; the image runs it without npm so signals reach the server
    expect(execForm(cmd[0]?.args ?? '[]').join(' ')).toBe(rootPackage.scripts['start']);
  });

  it('copies only files that exist and that .dockerignore lets into the context', () => {
    const ignored = dockerIgnore(read('.dockerignore'));
    const copies = build.filter((i) => i.op === 'COPY' && !i.args.startsWith('--from'));
    expect(copies.length).toBeGreaterThan(3);
    for (const copy of copies) {
      const sources = copy.args.split(/\s+/).slice(0, -1);
      for (const src of sources) {
        expect(existsSync(join(ROOT, src)), src).toBe(true);
        expect(ignored(src), `${src} is excluded by .dockerignore`).toBe(false);
      }
    }
    // what the runtime stage takes from the build stage is what the server reads at run time
    const fromBuild = runtime.filter((i) => i.op === 'COPY' && i.args.startsWith('--from=build')).map((i) => i.args.split(/\s+/)[1]);
    for (const path of ['packages/server/dist', 'packages/server/web-assets', 'packages/client/dist', 'node_modules']) {
      expect(fromBuild).toContain(`/app/${path}`);
    }
    expect(ignored('node_modules/x')).toBe(true);
    expect(ignored('packages/server/dist/cli/main.js')).toBe(true);
  });

  it('runtime: node:20-slim, a non-root user, a data volume, STASH_* variables the server knows', () => {
    expect(runtime[0]?.args).toMatch(/^node:20-slim\b/);
    const user = runtime.filter((i) => i.op === 'USER').at(-1)?.args;
    expect(user).toBeDefined();
    expect(['root', '0']).not.toContain(user);
    const volume = runtime.find((i) => i.op === 'VOLUME');
    const volumes = execForm(volume?.args ?? '[]');
    const env = Object.fromEntries(
      runtime.filter((i) => i.op === 'ENV').flatMap((i) => [...i.args.matchAll(/(\w+)=(\S+)/g)].map((m) => [m[1], m[2]])),
    ) as Record<string, string>;
    expect(stashEnvNames(Object.keys(env)).filter((n) => !KNOWN_ENV.has(n))).toEqual([]);
    expect(volumes.some((v) => env['STASH_DB']?.startsWith(`${v}/`))).toBe(true);
  });
});

describe('Dockerfile HEALTHCHECK against a real server', () => {
  let dir: string;
  let server: Spawned;
  let port: number;
  const health = parseDockerfile(read('Dockerfile')).find((i) => i.op === 'HEALTHCHECK');
  const probe = execForm(health?.args.replace(/^.*?\bCMD\s+/, '') ?? '[]');

  beforeAll(async () => {
    await buildOnce();
    dir = makeTempDir('stash-health-');
    port = await freePort();
    server = runStash(['server', `--db=${join(dir, 'stash.db')}`, `--server.address=127.0.0.1:${port}`, '--server.base-url=/stash']);
    await waitForPing(`http://127.0.0.1:${port}/stash`, server);
  });
  afterAll(async () => {
    server?.proc.kill('SIGTERM');
    await server?.exited;
    rmSync(dir, { recursive: true, force: true });
  });

  const runProbe = (env: Record<string, string>): number | null => {
    expect(probe[0]).toBe('node');
    return spawnSync(process.execPath, probe.slice(1), { env: { ...process.env, ...env }, timeout: 10_000 }).status;
  };

  it('passes on a live server under its base URL and fails where nothing answers', async () => {
    expect(runProbe({ STASH_SERVER_ADDRESS: `:${port}`, STASH_SERVER_BASE_URL: '/stash/' })).toBe(0);
    expect(runProbe({ STASH_SERVER_ADDRESS: `:${port}`, STASH_SERVER_BASE_URL: '' })).toBe(1); // /ping is outside /stash
    expect(runProbe({ STASH_SERVER_ADDRESS: `:${await freePort()}`, STASH_SERVER_BASE_URL: '/stash' })).toBe(1);
  });
});

const ANALYZE = spawnSync('systemd-analyze', ['--version']).status === 0;
if (!ANALYZE) console.warn('deploy/stash.service: systemd-analyze verify skipped: systemd-analyze is not installed');

describe('deploy/stash.service', () => {
  const unit = read('deploy/stash.service');
  const settings = (key: string): string[] => [...unit.matchAll(new RegExp(`^${key}=(.*)$`, 'gm'))].map((m) => m[1] as string);

  it('sets the hardening options and known STASH_* variables', () => {
    for (const [key, value] of [
      ['DynamicUser', 'yes'],
      ['ProtectSystem', 'strict'],
      ['StateDirectory', 'stash'],
      ['NoNewPrivileges', 'yes'],
      ['PrivateTmp', 'yes'],
      ['CapabilityBoundingSet', ''],
    ]) {
      expect(settings(key as string), key).toEqual([value]);
    }
    const env = settings('Environment').map((e) => e.split('=')[0] as string);
    expect(stashEnvNames(env).filter((n) => !KNOWN_ENV.has(n))).toEqual([]);
    expect(settings('Environment')).toContain('STASH_DB=/var/lib/stash/stash.db'); // inside StateDirectory
    expect(settings('MemoryDenyWriteExecute')).toEqual([]); // V8's JIT would crash under it
  });

  it.skipIf(!ANALYZE)('passes systemd-analyze verify without a warning', () => {
    // verify checks that ExecStart's binary exists: the repo's bin stands in for the installed one
    const dir = makeTempDir('stash-unit-');
    try {
      const path = join(dir, 'stash.service');
      expect(settings('ExecStart')).toEqual(['/usr/bin/stash server']);
      writeFileSync(path, unit.replace(/^ExecStart=\/usr\/bin\/stash /m, `ExecStart=${BIN} `));
      const verify = spawnSync('systemd-analyze', ['verify', path], { encoding: 'utf8', timeout: 20_000 });
      expect(verify.stderr + verify.stdout).toBe('');
      expect(verify.status).toBe(0);
      const security = spawnSync('systemd-analyze', ['security', '--offline=true', path], { encoding: 'utf8', timeout: 20_000 });
      const exposure = Number(/Overall exposure level for \S+: ([\d.]+)/.exec(security.stdout + security.stderr)?.[1]);
      console.info(`deploy/stash.service: systemd-analyze security exposure ${exposure}`);
      expect(exposure).toBeLessThanOrEqual(2);
      // a misspelt key is a warning, not an error: the empty-output check above is what catches it
      copyFileSync(path, `${path}.bad.service`);
      writeFileSync(`${path}.bad.service`, readFileSync(path, 'utf8').replace('ProtectSystem=', 'ProtectSystm='));
      expect(spawnSync('systemd-analyze', ['verify', `${path}.bad.service`], { encoding: 'utf8' }).stderr).toContain('Unknown key');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

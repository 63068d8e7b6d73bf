import { spawnSync } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import postgres from 'postgres';
import { freePort } from './spawned-server.js';

/**
 * A PostgreSQL cluster of its own for one test file, so a test may stop, restart or kill it
 * without touching anyone else's database. Defaults are kept (fsync on); only memory and
 * connections are small, and it listens on 127.0.0.1 and a socket in its own folder.
 */
export interface PrivatePg {
  /** `postgres://stash:stash@127.0.0.1:<port>/stash` (password auth over TCP) */
  readonly url: string;
  readonly port: number;
  /** a superuser connection over the cluster's unix socket (for pg_stat_activity and the like) */
  admin(): postgres.Sql;
  /** fast shutdown: sessions are ended with 57P01, a checkpoint is written */
  stop(): Promise<void>;
  start(): Promise<void>;
  restart(): Promise<void>;
  /** SIGKILL the postmaster and every backend: the next start runs crash recovery */
  kill(): Promise<void>;
  /** stop whatever runs and remove the folder; safe to call twice */
  destroy(): Promise<void>;
}

const ROOT = '/usr/lib/postgresql';
const ROLE = 'stash';

/** The newest installed version's bin folder holding initdb and pg_ctl, if any. */
function findBinDir(): string | undefined {
  if (!existsSync(ROOT)) return undefined;
  const versions = readdirSync(ROOT)
    .filter((v) => /^\d+$/.test(v) && existsSync(join(ROOT, v, 'bin', 'pg_ctl')) && existsSync(join(ROOT, v, 'bin', 'initdb')))
    .sort((a, b) => Number(b) - Number(a));
  return versions[0] === undefined ? undefined : join(ROOT, versions[0], 'bin');
}

const BIN = findBinDir();
const IS_ROOT = process.getuid?.() === 0;

/** Why private clusters cannot run here; undefined when they can. */
export const PRIVATE_PG_SKIP: string | undefined = !BIN
  ? `no PostgreSQL binaries under ${ROOT}/<version>/bin`
  : IS_ROOT && spawnSync('id', ['-u', 'postgres']).status !== 0
    ? 'running as root and there is no postgres user to run initdb as'
    : undefined;

/** Run a PostgreSQL tool as the cluster owner (initdb refuses root). */
function pgTool(tool: string, args: readonly string[]): string {
  const command = join(BIN ?? '', tool);
  const result = IS_ROOT
    ? spawnSync('runuser', ['-u', 'postgres', '--', command, ...args], { encoding: 'utf8' })
    : spawnSync(command, args, { encoding: 'utf8' });
  if (result.status !== 0) {
    throw new Error(`${tool} ${args.join(' ')} failed (${result.status ?? result.signal}):\n${result.stdout}${result.stderr}`);
  }
  return result.stdout;
}

// clusters still running when the test process exits (a failed or interrupted test file)
const live = new Set<() => void>();
process.once('exit', () => {
  for (const cleanUp of live) cleanUp();
});

/** The postmaster's pid and its children's, from postmaster.pid and /proc. */
function clusterPids(dataDir: string): number[] {
  const pidFile = join(dataDir, 'postmaster.pid');
  if (!existsSync(pidFile)) return [];
  const master = Number(readFileSync(pidFile, 'utf8').split('\n')[0]);
  if (!Number.isInteger(master) || master <= 0) return [];
  const pids = [master];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      // the parent pid is the 2nd field after the parenthesised command name
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === master) pids.push(Number(entry));
    } catch {
      // gone meanwhile
    }
  }
  return pids;
}

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

/**
 * initdb into a fresh temporary folder, start on a free loopback port, create role and
 * database `stash`. Call `destroy()` in afterAll; an exit hook stops it too if that never runs.
 */
export async function startPrivatePg(): Promise<PrivatePg> {
  if (PRIVATE_PG_SKIP) throw new Error(PRIVATE_PG_SKIP);
  const dir = mkdtempSync(join(tmpdir(), 'stash-pg-'));
  const dataDir = join(dir, 'data');
  if (IS_ROOT) {
    const uid = Number(spawnSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).stdout.trim());
    const gid = Number(spawnSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).stdout.trim());
    chownSync(dir, uid, gid);
  }
  const port = await freePort();
  let running = false;

  const removeAll = (): void => {
    if (running) {
      try {
        pgTool('pg_ctl', ['stop', '-D', dataDir, '-m', 'immediate', '-w', '-t', '10']);
      } catch {
        // already gone, or stuck: the signals below finish it
      }
    }
    for (const pid of clusterPids(dataDir)) if (alive(pid)) process.kill(pid, 'SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  };
  const exitHook = (): void => {
    // synchronous and quick: no waiting for a shutdown on the way out
    for (const pid of clusterPids(dataDir)) if (alive(pid)) process.kill(pid, 'SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  };
  live.add(exitHook);

  const settings = [
    `-c port=${port}`,
    "-c listen_addresses='127.0.0.1'",
    `-c unix_socket_directories='${dir}'`,
    '-c shared_buffers=16MB',
    '-c max_connections=50',
  ].join(' ');
  const start = async (): Promise<void> => {
    pgTool('pg_ctl', ['start', '-D', dataDir, '-w', '-t', '30', '-l', join(dir, 'server.log'), '-o', settings]);
    running = true;
  };
  const stop = async (): Promise<void> => {
    pgTool('pg_ctl', ['stop', '-D', dataDir, '-m', 'fast', '-w', '-t', '30']);
    running = false;
  };

  try {
    // initdb's own --no-sync only skips flushing the freshly created files; the server keeps fsync on
    pgTool('initdb', ['-D', dataDir, '-U', 'postgres', '-E', 'UTF8', '--locale=C', '--auth-local=trust', '--auth-host=scram-sha-256', '--no-sync', '--no-instructions']);
    await start();
    const admin = postgres({ host: dir, port, user: 'postgres', database: 'postgres', max: 1, onnotice: () => undefined });
    try {
      await admin.unsafe(`CREATE ROLE ${ROLE} LOGIN PASSWORD '${ROLE}'`);
      await admin.unsafe(`CREATE DATABASE ${ROLE} OWNER ${ROLE}`);
    } finally {
      await admin.end();
    }
  } catch (error) {
    removeAll();
    live.delete(exitHook);
    throw error;
  }

  let destroyed = false;
  return {
    url: `postgres://${ROLE}:${ROLE}@127.0.0.1:${port}/${ROLE}`,
    port,
    admin: () => postgres({ host: dir, port, user: 'postgres', database: ROLE, max: 1, onnotice: () => undefined }),
    stop,
    start,
    async restart() {
      await stop();
      await start();
    },
    async kill() {
      const pids = clusterPids(dataDir);
      for (const pid of pids) if (alive(pid)) process.kill(pid, 'SIGKILL');
      const deadline = Date.now() + 10_000;
      while (pids.some(alive)) {
        if (Date.now() > deadline) throw new Error(`PostgreSQL processes ${pids.join(',')} outlived SIGKILL`);
        await new Promise((r) => setTimeout(r, 20));
      }
      running = false;
    },
    async destroy() {
      if (destroyed) return;
      destroyed = true;
      removeAll();
      live.delete(exitHook);
    },
  };
}

import { existsSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { parseDuration } from '../../src/config/duration.js';
import { makeTempDir, startTestServer, type TestServer } from '../helpers/test-server.js';
import { buildOnce, freePort, runStash, waitForPing, type Spawned } from '../helpers/spawned-server.js';

/** compat.md section 2: every global flag of the original with its env twin. */
const ORIGINAL_FLAGS: ReadonlyArray<[string, string | undefined]> = [
  ['-d, --db=', 'STASH_DB'],
  ['--server.address=', 'STASH_SERVER_ADDRESS'],
  ['--server.read-timeout=', 'STASH_SERVER_READ_TIMEOUT'],
  ['--server.write-timeout=', 'STASH_SERVER_WRITE_TIMEOUT'],
  ['--server.idle-timeout=', 'STASH_SERVER_IDLE_TIMEOUT'],
  ['--server.shutdown-timeout=', 'STASH_SERVER_SHUTDOWN_TIMEOUT'],
  ['--server.base-url=', 'STASH_SERVER_BASE_URL'],
  ['--server.page-size=', 'STASH_SERVER_PAGE_SIZE'],
  ['--server.trusted-proxies=', 'STASH_SERVER_TRUSTED_PROXIES'],
  ['--limits.body-size=', 'STASH_LIMITS_BODY_SIZE'],
  ['--limits.requests-per-sec=', 'STASH_LIMITS_REQUESTS_PER_SEC'],
  ['--limits.max-concurrent=', 'STASH_LIMITS_MAX_CONCURRENT'],
  ['--limits.login-concurrency=', 'STASH_LIMITS_LOGIN_CONCURRENCY'],
  ['--cache.enabled', 'STASH_CACHE_ENABLED'],
  ['--cache.max-keys=', 'STASH_CACHE_MAX_KEYS'],
  ['--auth.file=', 'STASH_AUTH_FILE'],
  ['--auth.login-ttl=', 'STASH_AUTH_LOGIN_TTL'],
  ['--auth.hot-reload', 'STASH_AUTH_HOT_RELOAD'],
  ['--secrets.key=', 'STASH_SECRETS_KEY'],
  ['--git.enabled', 'STASH_GIT_ENABLED'],
  ['--git.path=', 'STASH_GIT_PATH'],
  ['--git.branch=', 'STASH_GIT_BRANCH'],
  ['--git.remote=', 'STASH_GIT_REMOTE'],
  ['--git.push', 'STASH_GIT_PUSH'],
  ['--git.ssh-key=', 'STASH_GIT_SSH_KEY'],
  ['--audit.enabled', 'STASH_AUDIT_ENABLED'],
  ['--audit.retention=', 'STASH_AUDIT_RETENTION'],
  ['--audit.query-limit=', 'STASH_AUDIT_QUERY_LIMIT'],
  ['--dbg', 'DEBUG'],
  ['--version', undefined],
];

/** Run the bin to completion (it must not start serving) and collect its output. */
async function run(args: string[], env: Record<string, string> = {}): Promise<{ code: number | string; out: string; err: string }> {
  const p = runStash(args, env);
  const code = await p.exited;
  return { code, out: p.stdout(), err: p.stderr() };
}

describe('stash CLI flags and environment (built bin)', () => {
  let dir: string;
  let server: Spawned | undefined;

  beforeAll(async () => {
    await buildOnce();
    dir = makeTempDir('stash-cli-');
  });
  afterEach(async () => {
    if (server && server.proc.exitCode === null) {
      server.proc.kill('SIGTERM');
      await server.exited;
    }
    server = undefined;
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('--help lists every flag of the original with its env var and exits 0', async () => {
    const { code, out } = await run(['--help']);
    expect(code).toBe(0);
    expect(out).toMatch(/^stash \S+\n/);
    expect(out).toContain('Usage:');
    const lines = out.split('\n');
    for (const [flag, env] of ORIGINAL_FLAGS) {
      const line = lines.find((l) => l.includes(flag));
      expect(line, `help has no line for ${flag}`).toBeDefined();
      if (env) expect(line).toContain(`[$${env}]`);
    }
    expect(out).toContain('(default: :8080)');
    expect(out).toContain('(default: 720h)');
  });

  it('--version prints the banner and exits 0', async () => {
    const { code, out, err } = await run(['--version']);
    expect(code).toBe(0);
    expect(out).toMatch(/^stash v\d+\.\d+\.\d+\n$/);
    expect(err).toBe('');
    const pinned = await run(['--version'], { STASH_REVISION: 'abc1234-20260101' });
    expect(pinned.out).toBe('stash abc1234-20260101\n');
  });

  it('without a subcommand prints help on stderr and exits 2', async () => {
    const { code, err } = await run([]);
    expect(code).toBe(2);
    expect(err).toContain('Please specify one command of: restore or server');
    expect(err).toContain('Usage:');
  });

  it('rejects an unknown flag with a go-flags message and exit 1, an unknown command with exit 2', async () => {
    expect(await run(['server', '--nope'])).toMatchObject({ code: 1, err: "unknown flag `nope'\n" });
    expect(await run(['server', '-x'])).toMatchObject({ code: 1, err: "unknown flag `x'\n" });
    // a typo of a known flag gets the go-flags line and then the flag meant
    expect(await run(['server', '--db.snyc=full'])).toMatchObject({ code: 1, err: "unknown flag `db.snyc'\nDid you mean `--db.sync`?\n" });
    const cmd = await run(['serve']);
    expect(cmd.code).toBe(2); // the original exits 1; usage errors are 2 in this CLI (docs/cli.md)
    expect(cmd.err).toContain("Unknown command `serve'. Did you mean `server`?");
    const missing = await run(['server', '--db']);
    expect(missing).toMatchObject({ code: 1, err: "expected argument for flag `--db'\n" });
    const option = await run(['server', '--server.base-url', '--dbg']);
    expect(option).toMatchObject({ code: 1, err: "expected argument for flag `--server.base-url', but got option `--dbg'\n" });
  });

  it.each([
    [['--limits.body-size=abc'], 'invalid argument for flag `--limits.body-size\' (expected int): strconv.ParseInt: parsing "abc": invalid syntax'],
    [['--server.page-size', '1.5'], 'invalid argument for flag `--server.page-size\' (expected int): strconv.ParseInt: parsing "1.5": invalid syntax'],
    [['--limits.requests-per-sec=fast'], 'invalid argument for flag `--limits.requests-per-sec\' (expected float64): strconv.ParseFloat: parsing "fast": invalid syntax'],
    [['--server.read-timeout=5'], 'invalid argument for flag `--server.read-timeout\' (expected time.Duration): time: missing unit in duration "5"'],
    [['--auth.login-ttl=3d'], 'invalid argument for flag `--auth.login-ttl\' (expected time.Duration): time: unknown unit "d" in duration "3d"'],
    [['--server.idle-timeout=soon'], 'invalid argument for flag `--server.idle-timeout\' (expected time.Duration): time: invalid duration "soon"'],
    [['--cache.enabled=maybe'], 'invalid argument for flag `--cache.enabled\' (expected bool): strconv.ParseBool: parsing "maybe": invalid syntax'],
  ])('rejects a malformed value %j with exit 1', async (args, message) => {
    const { code, err } = await run(['server', ...args]);
    expect(code).toBe(1);
    expect(err).toBe(`${message}\n`);
  });

  it('rejects a malformed value from the environment with exit 1', async () => {
    const { code, err } = await run(['server'], { STASH_LIMITS_BODY_SIZE: 'lots' });
    expect(code).toBe(1);
    expect(err).toContain('$STASH_LIMITS_BODY_SIZE');
    expect(err).toContain('parsing "lots": invalid syntax');
  });

  it.each([
    [['--server.base-url=x'], 'invalid base URL: base URL must start with /'],
    [['--secrets.key=short'], 'secrets key must be at least 16 characters'],
    [['--server.trusted-proxies=10.0.0.300'], 'invalid trusted proxy "10.0.0.300"'],
    [['--server.trusted-proxies=10.0.0.0/8,10.1.0.0/33'], 'invalid trusted proxy "10.1.0.0/33"'],
    [['--db.sync=bogus'], 'invalid --db.sync "bogus": expected full or normal'],
    [['--server.address=nowhere'], 'invalid server address "nowhere"'],
  ])('refuses to start with %j: logs the error and exits 1', async (args, message) => {
    const db = join(dir, 'never.db');
    const { code, out } = await run(['server', `--db=${db}`, '--server.address=127.0.0.1:0', ...args]);
    expect(code).toBe(1);
    expect(out).toContain(`[ERROR] ${message}`);
    expect(existsSync(db), 'config errors are reported before the database is created').toBe(false);
  });

  it('takes the address, database and body limit from STASH_* variables', async () => {
    const port = await freePort();
    const db = join(dir, 'from-env.db');
    server = runStash(['server', '--limits.requests-per-sec=0'], {
      STASH_SERVER_ADDRESS: `127.0.0.1:${port}`,
      STASH_DB: db,
      STASH_LIMITS_BODY_SIZE: '10',
    });
    const url = `http://127.0.0.1:${port}`;
    await waitForPing(url, server);
    expect(existsSync(db)).toBe(true);
    expect((await fetch(`${url}/kv/small`, { method: 'PUT', body: '0123456789' })).status).toBe(201);
    expect((await fetch(`${url}/kv/big`, { method: 'PUT', body: '0123456789a' })).status).toBe(413);
  });

  it('lets flags override the environment', async () => {
    const [envPort, flagPort] = [await freePort(), await freePort()];
    const flagDb = join(dir, 'from-flag.db');
    server = runStash(
      [
        'server',
        `--server.address=127.0.0.1:${flagPort}`,
        `-d`,
        flagDb,
        '--limits.body-size=100',
        '--limits.requests-per-sec=0',
        // Go durations Node cannot take as they are: fractional milliseconds, negative (= no timeout)
        '--server.write-timeout=10.0005s',
        '--server.read-timeout=-1s',
      ],
      { STASH_SERVER_ADDRESS: `127.0.0.1:${envPort}`, STASH_DB: join(dir, 'env-loses.db'), STASH_LIMITS_BODY_SIZE: '10' },
    );
    const url = `http://127.0.0.1:${flagPort}`;
    await waitForPing(url, server);
    expect(existsSync(flagDb)).toBe(true);
    expect(existsSync(join(dir, 'env-loses.db'))).toBe(false);
    expect((await fetch(`${url}/kv/mid`, { method: 'PUT', body: 'x'.repeat(50) })).status).toBe(201);
    await expect(fetch(`http://127.0.0.1:${envPort}/ping`)).rejects.toThrow();
  });
});

describe('parseDuration (Go time.ParseDuration semantics)', () => {
  it.each([
    ['0', 0],
    ['-0', 0],
    ['720h', 720 * 3_600_000],
    ['1h30m', 5_400_000],
    ['1.5h', 5_400_000],
    ['.5s', 500],
    ['1.s', 1000],
    ['-1m', -60_000],
    ['+2s', 2000],
    ['1500us', 1.5],
    ['1500µs', 1.5],
    ['2ms500us', 2.5],
  ])('%s is %d ms', (text, ms) => {
    expect(parseDuration(text)).toBe(ms);
  });

  it.each([
    ['', 'time: invalid duration ""'],
    ['-', 'time: invalid duration "-"'],
    ['.s', 'time: invalid duration ".s"'],
    ['10', 'time: missing unit in duration "10"'],
    ['1h5', 'time: missing unit in duration "1h5"'],
    ['3d', 'time: unknown unit "d" in duration "3d"'],
    [' 5s', 'time: invalid duration " 5s"'],
  ])('%j is rejected', (text, message) => {
    expect(() => parseDuration(text)).toThrow(message);
  });
});

describe('--limits.max-concurrent', () => {
  let server: TestServer | undefined;
  afterEach(async () => {
    await server?.close();
    server = undefined;
  });

  /** Hold one request in flight (body half sent) while `probe` runs, then finish it. */
  async function whileOneInFlight(s: TestServer, probe: () => Promise<number>): Promise<number> {
    const held = request(`${s.url}/kv/held`, { method: 'PUT', headers: { 'content-length': '2' } });
    const done = new Promise<number>((resolve, reject) => {
      held.on('response', (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      held.on('error', reject);
    });
    held.write('a');
    // until the server's guard has admitted it (its in-flight count, as /metrics reports it)
    const deadline = Date.now() + 5000;
    while (s.metrics.inFlightNow !== 1) {
      if (Date.now() > deadline) throw new Error('the held PUT was not admitted in time');
      await new Promise((r) => setTimeout(r, 10));
    }
    const status = await probe();
    held.end('b');
    expect(await done).toBe(201);
    return status;
  }

  it('answers 503 past the limit', async () => {
    server = await startTestServer(['--limits.max-concurrent=1']);
    const url = server.url;
    expect(await whileOneInFlight(server, async () => (await fetch(`${url}/kv/other`)).status)).toBe(503);
  });

  it('0 disables the limit', async () => {
    server = await startTestServer(['--limits.max-concurrent=0']);
    const url = server.url;
    expect(await whileOneInFlight(server, async () => (await fetch(`${url}/kv/other`)).status)).toBe(404);
  });
});

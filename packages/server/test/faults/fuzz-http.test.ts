import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loginCookie } from '../auth/login-helpers.js';
import { describeAnswer, fuzzExchange } from '../helpers/fuzz-exchange.js';
import { SENTINEL_SEGMENT, describeRequest, fuzzRequest, isIncomplete, renderRequest, type FuzzCredentials } from '../helpers/fuzz-requests.js';
import { seedFromEnv } from '../helpers/seeded-random.js';
import { buildOnce, startStashProcess, type Spawned } from '../helpers/spawned-server.js';
import { git, waitFor } from '../git/git-helpers.js';
import { makeTempDir, startTestServer } from '../helpers/test-server.js';

// Properties over generated raw requests, on spawned servers with every feature on: no 5xx but
// 503, no crash (the process lives and answers /ping), no hang (each request is answered or its
// connection closed within a bound), and the values stored before the run are untouched.
const SEED = seedFromEnv(process.env['STASH_FUZZ_SEED'], 20_240_613);
const RUNS = Number(process.env['STASH_FUZZ_RUNS'] ?? 600);
const SHRINK = process.env['STASH_FUZZ_SHRINK'] === '1';
const VERBOSE = process.env['STASH_FUZZ_VERBOSE'] === '1';
const BOUND_MS = 4000;
const ADMIN_TOKEN = 'web-admin-token';
const AUTH_FILE = join(import.meta.dirname, '..', 'fixtures', 'auth-web.yml');
const ZK_VALUE = readFileSync(join(import.meta.dirname, '..', '..', '..', 'client', 'test', 'fixtures', 'zk', 'go_encrypted.bin'), 'latin1').trim();

/** Values stored before the run; their keys contain the segment no generated request names. */
const SENTINELS: Array<{ key: string; value: string; format: string }> = [
  { key: `${SENTINEL_SEGMENT}/plain`, value: 'untouched {"a":1}', format: 'json' },
  { key: `app/secrets/${SENTINEL_SEGMENT}`, value: 'fuzz-secret-value-0f3c', format: 'text' },
  { key: `${SENTINEL_SEGMENT}/zk`, value: ZK_VALUE, format: 'text' },
];

interface FuzzTarget {
  name: string;
  server: Spawned & { url: string; port: number };
  credentials: FuzzCredentials;
  headers: Record<string, string>;
}

const targets: FuzzTarget[] = [];
const dirs: string[] = [];

async function startTarget(name: string, auth: boolean): Promise<FuzzTarget> {
  const dir = makeTempDir(`stash-fuzz-${name}-`);
  dirs.push(dir);
  const flags = [
    '--dbg',
    '--secrets.key=fuzz-secrets-key-0123456789',
    '--git.enabled',
    `--git.path=${join(dir, 'git')}`,
    '--audit.enabled',
    '--server.read-timeout=1s',
    '--server.write-timeout=2s',
    '--server.shutdown-timeout=300ms',
    ...(auth ? [`--auth.file=${AUTH_FILE}`] : ['--limits.body-size=4096', '--cache.enabled']),
  ];
  const server = await startStashProcess(join(dir, 'stash.db'), flags);
  const headers: Record<string, string> = auth ? { 'x-auth-token': ADMIN_TOKEN } : {};
  for (const s of SENTINELS) {
    const res = await fetch(`${server.url}/kv/${s.key}`, { method: 'PUT', body: s.value, headers: { ...headers, 'x-stash-format': s.format } });
    expect(res.status).toBe(201);
  }
  const credentials: FuzzCredentials = auth
    ? { token: ADMIN_TOKEN, cookie: await loginCookie(server.url, 'admin', 'admin-pw'), login: 'admin:admin-pw' }
    : {};
  const target = { name, server, credentials, headers };
  targets.push(target);
  return target;
}

beforeAll(async () => {
  await buildOnce();
  console.log(`http fuzz seed ${SEED}, ${RUNS} runs per server (STASH_FUZZ_SEED=${SEED} reproduces it; STASH_FUZZ_SEED=random for a new one)`);
}, 120_000);
afterAll(async () => {
  for (const t of targets.splice(0)) {
    t.server.proc.kill('SIGTERM');
    await t.server.exited;
  }
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

async function pong(url: string): Promise<boolean> {
  try {
    const res = await fetch(`${url}/ping`, { signal: AbortSignal.timeout(BOUND_MS) });
    return (await res.text()) === 'pong';
  } catch {
    return false;
  }
}

async function fuzz(target: FuzzTarget): Promise<void> {
  const { server } = target;
  const host = `127.0.0.1:${server.port}`;
  const tally = { runs: 0, closedWithoutAnswer: 0, byStatus: new Map<number, number>() };
  const property = fc.asyncProperty(fuzzRequest(target.credentials), async (request) => {
    const answer = await fuzzExchange(server.port, renderRequest(request, host), BOUND_MS, {
      head: request.method === 'HEAD',
      incomplete: isIncomplete(request),
    });
    tally.runs++;
    if (VERBOSE) console.log(`${answer.statuses.join(',') || '-'} ${request.method} ${request.target.slice(0, 80)} ${answer.raw.toString('latin1').split('\r\n\r\n')[1]?.slice(0, 80) ?? ''}`);
    if (answer.statuses.length === 0) {
      tally.closedWithoutAnswer++;
      if (VERBOSE) console.log(`closed without an answer (${answer.error ?? 'clean close'}): ${describeRequest(request, host).slice(0, 400)}`);
    }
    for (const s of answer.statuses) tally.byStatus.set(s, (tally.byStatus.get(s) ?? 0) + 1);
    const bad = answer.statuses.filter((s) => s >= 500 && s !== 503);
    const alive = server.proc.exitCode === null && (await pong(server.url));
    if (answer.hung || bad.length > 0 || !alive) {
      const what = answer.hung ? `no answer within ${BOUND_MS} ms` : bad.length > 0 ? `status ${bad.join(',')}` : 'the server stopped answering /ping';
      throw new Error(`${what}\nrequest: ${describeRequest(request, host)}\nanswer: ${describeAnswer(answer)}\nserver stderr tail: ${server.stderr().slice(-2000)}`);
    }
  });
  await fc.assert(property, { seed: SEED, numRuns: RUNS, endOnFailure: !SHRINK });
  const statuses = [...tally.byStatus].sort(([a], [b]) => a - b).map(([s, n]) => `${s}:${n}`).join(' ');
  if (VERBOSE) console.log(`server warnings:\n${`${server.stdout()}${server.stderr()}`.split('\n').filter((l) => /\[(WARN|ERROR)\]/.test(l)).join('\n')}`);
  console.log(`http fuzz on ${target.name}: ${tally.runs} requests, ${tally.closedWithoutAnswer} closed without an answer; statuses ${statuses}`);
}

/** Every commit the mirror made must have landed: no `git: commit ... failed` in the log. */
function expectGitHealthy(target: FuzzTarget): void {
  const failures = `${target.server.stdout()}${target.server.stderr()}`.split('\n').filter((l) => /\[ERROR\] git/.test(l));
  expect(failures.map((l) => l.replace(/(.)\1{19,}/g, (run, c: string) => `${c}{×${run.length}}`).slice(0, 300))).toEqual([]);
}

async function expectSentinelsIntact(target: FuzzTarget): Promise<void> {
  for (const s of SENTINELS) {
    const res = await fetch(`${target.server.url}/kv/${s.key}`, { headers: target.headers });
    expect({ key: s.key, status: res.status, value: await res.text() }).toEqual({ key: s.key, status: 200, value: s.value });
    const history = (await (await fetch(`${target.server.url}/kv/history/${s.key}`, { headers: target.headers })).json()) as unknown[];
    expect({ key: s.key, versions: history.length }).toEqual({ key: s.key, versions: 1 });
  }
}

describe('HTTP fuzzing over raw sockets', () => {
  it('a half-sent request is cut by the read and write timeouts, not held open for half a minute', async () => {
    const target = await startTarget('timeouts', false);
    const started = Date.now();
    const [headers, body] = await Promise.all([
      fuzzExchange(target.server.port, Buffer.from('GET /kv/a HTTP/1.1\r\nHost: x\r\n'), 15_000),
      fuzzExchange(target.server.port, Buffer.from('PUT /kv/a HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nabc'), 15_000),
    ]);
    // read timeout 1 s for the head, write timeout 2 s for the whole request (Node checks them
    // every quarter of the read timeout here, every 30 s by default)
    expect({ headers: headers.statuses, body: body.statuses, hung: headers.hung || body.hung }).toEqual({ headers: [408], body: [408], hung: false });
    expect(Date.now() - started).toBeLessThan(10_000);
  }, 30_000);

  it('without auth (small body limit, cache, secrets, audit, git): no 5xx, no crash, no hang, values intact', async () => {
    const target = await startTarget('open', false);
    await fuzz(target);
    await expectSentinelsIntact(target);
    expectGitHealthy(target);
  }, 60_000);

  it('with --auth.file (tokens, sessions, basic auth), secrets, audit and git: the same', async () => {
    const target = await startTarget('auth', true);
    await fuzz(target);
    await expectSentinelsIntact(target);
    expectGitHealthy(target);
  }, 60_000);

  it('a key too long for a file name stays out of git, and the mirror keeps committing after it', async () => {
    const dir = makeTempDir('stash-fuzz-git-');
    dirs.push(dir);
    const server = await startTestServer(['--git.enabled', '--git.path', join(dir, 'git'), '--server.shutdown-timeout', '300ms']);
    try {
      for (const key of [`fuzz/${'l'.repeat(300)}`, `fuzz/${'m/'.repeat(2100)}x`, 'fuzz/after']) {
        expect((await fetch(`${server.url}/kv/${key}`, { method: 'PUT', body: 'v' })).status).toBe(201);
      }
      const repo = join(dir, 'git');
      await waitFor(() => existsSync(join(repo, 'fuzz', 'after.val')));
      expect(git(repo, 'status', '--porcelain')).toBe('');
      expect(git(repo, 'log', '--format=%s')).toBe('create fuzz/after\ninitial commit\n');
      expect((await server.store.get(`fuzz/${'l'.repeat(300)}`))?.value.toString()).toBe('v');
    } finally {
      await server.close();
    }
  });
});

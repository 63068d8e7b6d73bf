import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { SqliteSessionStore } from '../../src/auth/session-store.js';
import { createLogger, type Logger } from '../../src/logger.js';
import type { SqliteStore } from '../../src/storage/sqlite-store.js';
import { metricValue, openStream } from '../events/sse-helpers.js';
import { buildOnce, startStashProcess, runStash } from '../helpers/spawned-server.js';
import { makeTempDir, startTestServer, type TestServer } from '../helpers/test-server.js';
import { ACL_FILE, FIXTURES, loginCookie } from './login-helpers.js';

const BASE = readFileSync(ACL_FILE, 'utf8');
const ALICE_HASH = '$2b$04$BqKGbEMR.32MvbNWbYzi3eGpzsFGJ05otV3g9tiX/ell4N6tvIsUO';
const NEW_HASH = '$2b$04$PbWVsgIJgB0gGcFyj2JDgO0UlVZmAbZpgQXlcZmNq30LNsoJOqEcS'; // new-pw
const EXTRA_TOKEN = '  - token: "new-token-0001"\n    permissions:\n      - prefix: "fresh/*"\n        access: rw\n';

/** the fixture with extra token lines appended to its tokens list */
const withToken = (text: string): string => `${text.trimEnd()}\n${EXTRA_TOKEN}`;

function put(url: string, key: string, headers: Record<string, string>): Promise<number> {
  return fetch(`${url}/kv/${key}`, { method: 'PUT', headers, body: 'x' }).then(async (r) => {
    await r.arrayBuffer();
    return r.status;
  });
}

async function eventually(check: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const started = Date.now();
  while (Date.now() - started < timeoutMs) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`condition not met within ${timeoutMs} ms`);
}

/** The server's log lines as they are written, and a wait for one (fails after `timeoutMs`). */
interface CapturedLog {
  log: Logger;
  lines: string[];
  /** resolves with the first line from index `from` on that matches */
  waitForLine(pattern: RegExp, from?: number, timeoutMs?: number): Promise<string>;
}

function captureLog(): CapturedLog {
  const lines: string[] = [];
  const waiters = new Set<() => void>();
  const log = createLogger({
    write: (line) => {
      lines.push(line);
      for (const w of waiters) w();
    },
  });
  const waitForLine = (pattern: RegExp, from = 0, timeoutMs = 5000): Promise<string> =>
    new Promise((resolve, reject) => {
      const check = (): void => {
        const hit = lines.slice(from).find((l) => pattern.test(l));
        if (hit === undefined) return;
        clearTimeout(timer);
        waiters.delete(check);
        resolve(hit);
      };
      const timer = setTimeout(() => {
        waiters.delete(check);
        reject(new Error(`no log line matching ${String(pattern)} within ${timeoutMs} ms; got:\n${lines.join('')}`));
      }, timeoutMs);
      waiters.add(check);
      check();
    });
  return { log, lines, waitForLine };
}

/** Resolves once the spawned process has printed `text` (fails after `timeoutMs`). */
async function printed(stdout: () => string, text: string, timeoutMs = 5000): Promise<void> {
  await eventually(() => Promise.resolve(stdout().includes(text)), timeoutMs).catch(() => {
    throw new Error(`the process did not print ${JSON.stringify(text)}; stdout:\n${stdout()}`);
  });
}

describe('--auth.hot-reload', () => {
  let server: TestServer;
  let file: string;
  let logs: CapturedLog;

  beforeAll(async () => {
    file = join(makeTempDir('stash-auth-reload-'), 'auth.yml');
  });
  afterEach(async () => {
    await server?.close();
  });

  async function start(): Promise<void> {
    writeFileSync(file, BASE);
    logs = captureLog();
    server = await startTestServer(['--auth.file', file, '--auth.hot-reload'], { log: logs.log });
    await logs.waitForLine(/\[INFO\] watching .*auth\.yml for auth changes/);
  }

  it('an edited file is reloaded by the watcher and takes effect without a restart', async () => {
    await start();
    const token = { 'x-auth-token': 'new-token-0001' };
    expect(await put(server.url, 'fresh/a', token)).toBe(401);
    const mark = logs.lines.length;
    writeFileSync(file, withToken(BASE));
    // the watcher's reload announces the new config (one token more than the fixture's 6) ...
    await logs.waitForLine(/\[INFO\] auth config reloaded: 3 users, 7 tokens, public access on/, mark);
    // ... and it is in force from then on
    expect(await put(server.url, 'fresh/a', token)).toBe(201);
    expect(await put(server.url, 'fresh/b', token)).toBe(201);
  });

  it('follows editor-style atomic renames', async () => {
    await start();
    const tmp = `${file}.tmp`;
    writeFileSync(tmp, withToken(BASE));
    renameSync(tmp, file);
    await eventually(async () => (await put(server.url, 'fresh/r', { 'x-auth-token': 'new-token-0001' })) === 201, 2000);
    // and a removed token stops working
    writeFileSync(tmp, BASE);
    renameSync(tmp, file);
    await eventually(async () => (await put(server.url, 'fresh/r', { 'x-auth-token': 'new-token-0001' })) === 401, 2000);
  });

  it('an invalid edit keeps the old config', async () => {
    await start();
    const mark = logs.lines.length;
    writeFileSync(file, 'users:\n  - name: [broken\n');
    // the watcher read the broken file and said so; the old config still holds
    await logs.waitForLine(/\[WARN\] auth reload rejected, keeping the current config: .*invalid YAML/, mark);
    expect(logs.lines.slice(mark).some((l) => l.includes('auth config reloaded'))).toBe(false);
    expect(await put(server.url, 'any/k', { 'x-auth-token': 'rw-token-1234' })).toBe(201);
    writeFileSync(file, BASE.replace('rw-token-1234', 'rw-token-9999'));
    await eventually(async () => (await put(server.url, 'any/k', { 'x-auth-token': 'rw-token-9999' })) === 200, 2000);
    expect(await put(server.url, 'any/k', { 'x-auth-token': 'rw-token-1234' })).toBe(401);
  });

  it("a changed password ends that user's sessions only; a removed user's too", async () => {
    await start();
    const sessions = new SqliteSessionStore((server.store as SqliteStore).db);
    const alice = { cookie: await loginCookie(server.url, 'alice', 'alice-pw') };
    const bob = { cookie: await loginCookie(server.url, 'bob', 'bob-pw') };
    const admin = { cookie: await loginCookie(server.url, 'admin', 'admin-pw') };
    expect(await put(server.url, 'app/alice/k', alice)).toBe(201);

    writeFileSync(file, BASE.replace(ALICE_HASH, NEW_HASH));
    await eventually(async () => (await put(server.url, 'app/alice/k', alice)) === 401, 2000);
    expect(await sessions.get(alice.cookie.split('=')[1] ?? '')).toBeUndefined();
    expect(await put(server.url, 'bob/k', bob)).toBe(201);
    expect(await put(server.url, 'admin/k', admin)).toBe(201);
    expect(await put(server.url, 'app/alice/k', { cookie: await loginCookie(server.url, 'alice', 'new-pw') })).toBe(200);

    const withoutBob = BASE.replace(ALICE_HASH, NEW_HASH).replace(/ {2}- name: bob\n(?: {4}.*\n| {6}.*\n)+/, '');
    expect(withoutBob).not.toContain('name: bob');
    writeFileSync(file, withoutBob);
    await eventually(async () => (await put(server.url, 'bob/k', bob)) === 401, 2000);
    expect(await sessions.get(bob.cookie.split('=')[1] ?? '')).toBeUndefined();
    expect(await put(server.url, 'admin/k', admin)).toBe(200);
  });
});

describe('session principals on streams', () => {
  let server: TestServer;
  afterAll(async () => {
    await server?.close();
  });

  it('a logged-out session stops receiving events at once', async () => {
    server = await startTestServer(['--auth.file', ACL_FILE]);
    const cookie = await loginCookie(server.url, 'alice', 'alice-pw');
    const rw = { 'x-auth-token': 'rw-token-1234' };
    // a token stream on the same prefix: the server's witness that a change was fanned out
    const witness = await openStream(`${server.url}/kv/subscribe/app/*`, rw);
    const res = await fetch(`${server.url}/kv/subscribe/app/*`, { headers: { cookie } });
    expect(res.status).toBe(200);
    const reader = res.body!.getReader();
    let received = '';
    const pump = (async () => {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) return;
        received += new TextDecoder().decode(value);
      }
    })().catch(() => undefined);
    // bob/hidden comes first: once app/before has arrived, bob/hidden would have arrived before it
    expect(await put(server.url, 'bob/hidden', rw)).toBe(201);
    expect(await put(server.url, 'app/before', rw)).toBe(201);
    await eventually(() => Promise.resolve(received.includes('"app/before"')), 2000);
    await witness.waitFor((x) => x.changes().some((c) => c.key === 'app/before'));
    await fetch(`${server.url}/logout`, { method: 'POST', headers: { cookie }, redirect: 'manual' });
    const sent = await metricValue(server.metrics.sseEventsSent);
    expect(await put(server.url, 'app/after', rw)).toBe(201);
    // the hub hands a change to every open stream in one go; the witness has app/after, so the
    // logged-out stream has had its turn too, and the server sent app/after once: to the witness
    await witness.waitFor((x) => x.changes().some((c) => c.key === 'app/after'));
    expect(await metricValue(server.metrics.sseEventsSent)).toBe(sent + 1);
    witness.close();
    await reader.cancel();
    await pump;
    expect(received).toContain('"app/before"');
    expect(received).not.toContain('app/after');
    expect(received).not.toContain('bob/hidden');
  });
});

describe('spawned bin', () => {
  beforeAll(async () => {
    await buildOnce();
  }, 120_000);

  it('SIGHUP reloads the auth file without --auth.hot-reload', async () => {
    const dir = makeTempDir('stash-auth-hup-');
    const file = join(dir, 'auth.yml');
    writeFileSync(file, BASE);
    const proc = await startStashProcess(join(dir, 'stash.db'), [`--auth.file=${file}`]);
    try {
      const token = { 'x-auth-token': 'new-token-0001' };
      // start-up is logged in full before the listening line; without --auth.hot-reload no
      // watcher is installed (with it, "watching <file> for auth changes" comes first)
      await printed(proc.stdout, 'stash server listening on');
      expect(proc.stdout()).toContain('[INFO] auth enabled: 3 users, 6 tokens');
      expect(proc.stdout()).not.toContain('for auth changes');
      expect(await put(proc.url, 'fresh/a', token)).toBe(401);
      writeFileSync(file, withToken(BASE));
      expect(await put(proc.url, 'fresh/a', token)).toBe(401); // no watcher: only SIGHUP reloads
      proc.proc.kill('SIGHUP');
      await printed(proc.stdout, 'auth config reloaded: 3 users, 7 tokens');
      expect(await put(proc.url, 'fresh/a', token)).toBe(201);
      writeFileSync(file, 'tokens: [oops');
      proc.proc.kill('SIGHUP');
      await printed(proc.stdout, 'auth reload rejected');
      expect(await put(proc.url, 'fresh/a', token)).toBe(200);
      expect(proc.proc.exitCode).toBeNull();
      expect(proc.stdout()).not.toContain('new-token-0001');
      expect(proc.stdout()).not.toContain('rw-token-1234');
    } finally {
      proc.proc.kill('SIGTERM');
      await proc.exited;
    }
  }, 30_000);

  it('an invalid auth file stops start-up with exit 1 and the message', async () => {
    const dir = makeTempDir('stash-auth-bad-');
    const run = runStash(['server', `--db=${join(dir, 'stash.db')}`, '--server.address=127.0.0.1:0', `--auth.file=${join(FIXTURES, 'auth-two-public.yml')}`]);
    expect(await run.exited).toBe(1);
    expect(run.stdout() + run.stderr()).toMatch(/\[ERROR\] auth file .*auth-two-public\.yml: config validation failed: tokens\[1\]\.token: more than one public/);
  }, 30_000);
});

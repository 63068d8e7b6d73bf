import { randomInt } from 'node:crypto';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loginCookie } from '../auth/login-helpers.js';
import { commitCount, waitFor } from '../git/git-helpers.js';
import { filesUnder, findLeaks, gitObjects, secretForms, tokenWindows, type Haystack } from '../helpers/leak-scan.js';
import { buildOnce, startStashProcess, type Spawned } from '../helpers/spawned-server.js';
import { makeTempDir } from '../helpers/test-server.js';
import { ADMIN_PASSWORD_HASH, authFileText, crossOriginCases, measureInterleaved, median, type CrossOriginCase } from '../helpers/security-fixtures.js';
import { AuthAccessControl } from '../../src/auth/access-control.js';
import { parseAuthConfig } from '../../src/auth/auth-file.js';
import { openSessionStore } from '../../src/auth/session-store.js';
import { openStore } from '../../src/storage/open-store.js';

// tokens from an alphabet without hex digits, so no request id or hash in a log can match by chance
const ALPHABET = 'ghijkmnpqrstuvwxyzGHJKLMNPQRSTUVWXYZ';
const randomToken = (n: number): string => Array.from({ length: n }, () => ALPHABET[randomInt(ALPHABET.length)]).join('');
const TOKEN = `Tk${randomToken(38)}`;
const OTHER_TOKEN = `Tk${randomToken(38)}`; // a wrong token unrelated to the real one
const SECRETS_KEY = `master-${randomToken(24)}`;

type Server = Spawned & { url: string; port: number };
const dirs: string[] = [];
const servers: Server[] = [];

beforeAll(buildOnce, 120_000);
afterAll(async () => {
  for (const s of servers.splice(0)) {
    if (s.proc.exitCode === null) s.proc.kill('SIGTERM');
    await s.exited;
  }
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

async function start(name: string, flags: (dir: string, authFile: string) => string[]): Promise<{ server: Server; dir: string; authFile: string }> {
  const dir = makeTempDir(`stash-sec-${name}-`);
  dirs.push(dir);
  const authFile = join(dir, 'auth.yml');
  writeFileSync(authFile, authFileText(TOKEN, ADMIN_PASSWORD_HASH));
  const server = await startStashProcess(join(dir, 'stash.db'), ['--dbg', `--auth.file=${authFile}`, ...flags(dir, authFile)]);
  servers.push(server);
  return { server, dir, authFile };
}

/** One request; everything that came back (status line, headers, body) as text to search. */
async function exchange(url: string, path: string, init: RequestInit & { headers?: Record<string, string> } = {}): Promise<Haystack> {
  const abort = new AbortController();
  const res = await fetch(`${url}${path}`, { redirect: 'manual', ...init, signal: abort.signal });
  const head = [`${res.status}`, ...[...res.headers].map(([k, v]) => `${k}: ${v}`)].join('\n');
  // a change stream never ends: its head is the answer
  const body = res.headers.get('content-type') === 'text/event-stream' ? '' : await res.text();
  abort.abort();
  return { where: `${init.method ?? 'GET'} ${path} (${res.status})`, bytes: Buffer.from(`${head}\n\n${body}`) };
}

describe('tokens never leak', () => {
  it('a token, good or nearly good, is in no log line, metric or answer', async () => {
    const { server, authFile } = await start('tokens', (dir) => ['--audit.enabled', '--metrics.enabled', `--secrets.key=${SECRETS_KEY}`, `--git.enabled`, `--git.path=${join(dir, 'git')}`]);
    const url = server.url;
    const wrong = [TOKEN.slice(0, -1) + (TOKEN.endsWith('g') ? 'h' : 'g'), TOKEN.slice(0, 20), `${TOKEN}x`, ` ${TOKEN} `, TOKEN.toLowerCase(), OTHER_TOKEN];
    const asHeaders = (t: string): Array<Record<string, string>> => [{ 'x-auth-token': t }, { authorization: `Bearer ${t}` }, { authorization: `bearer ${t}` }];
    const answers: Haystack[] = [];
    for (const t of [TOKEN, ...wrong]) {
      for (const headers of asHeaders(t)) {
        answers.push(
          await exchange(url, '/kv/app/cfg', { method: 'PUT', body: 'v', headers }),
          await exchange(url, '/kv/app/cfg', { headers }),
          await exchange(url, '/kv/secrets/db', { method: 'PUT', body: 's', headers }),
          await exchange(url, '/kv/?prefix=app', { headers }),
          await exchange(url, '/kv/history/app/cfg', { headers }),
          await exchange(url, '/kv/', { method: 'POST', body: '[{"key":"app/b","value":"1"}]', headers }),
          await exchange(url, '/kv/', { method: 'POST', body: '[{"key":', headers }),
          await exchange(url, '/kv/subscribe/app/*', { headers }),
          await exchange(url, '/kv/app/missing', { method: 'DELETE', headers }),
          await exchange(url, '/audit/query', { method: 'POST', body: '{}', headers: { ...headers, 'content-type': 'application/json' } }),
          await exchange(url, '/web/keys', { headers }),
          await exchange(url, '/metrics', { headers }),
        );
      }
      const basic = (s: string): Record<string, string> => ({ authorization: `Basic ${Buffer.from(s).toString('base64')}` });
      answers.push(
        await exchange(url, '/kv/app/cfg', { headers: basic(`admin:${t}`) }),
        await exchange(url, '/kv/app/cfg', { headers: basic(`${t}:`) }),
        await exchange(url, '/kv/app/cfg', { headers: { cookie: `stash-auth=${t}` } }),
        await exchange(url, '/', { headers: { cookie: `stash-auth=${t}; __Host-stash-auth=${t}` } }),
        await exchange(url, '/login', { method: 'POST', body: new URLSearchParams({ username: 'admin', password: t }).toString(), headers: { 'content-type': 'application/x-www-form-urlencoded' } }),
      );
      // typed into the user name field: the re-shown form keeps what was typed (its own answer
      // may hold it, the logs may not)
      const typedAsUser = await exchange(url, '/login', { method: 'POST', body: new URLSearchParams({ username: t, password: 'x' }).toString(), headers: { 'content-type': 'application/x-www-form-urlencoded' } });
      expect(typedAsUser.where).toMatch(/^POST \/login \((401|429)\)$/); // 429 once the login limiter steps in
    }
    // the good token really worked (else nothing above logged its use)
    expect(answers.filter((a) => a.where.startsWith('PUT /kv/app/cfg (20')).length).toBeGreaterThan(0);

    // broken auth files reloaded with SIGHUP: their error messages must not quote the token
    const broken = [
      authFileText(TOKEN, ADMIN_PASSWORD_HASH, { duplicate: true }),
      authFileText(TOKEN, ADMIN_PASSWORD_HASH).replace(`token: "${TOKEN}"`, `token: "${TOKEN}`),
      authFileText(TOKEN, ADMIN_PASSWORD_HASH).replace(`- token: "${TOKEN}"`, `- token:${TOKEN}`),
      authFileText(TOKEN, ADMIN_PASSWORD_HASH).replace(`token: "${TOKEN}"`, `token: ["${TOKEN}"]`),
      authFileText(TOKEN, ADMIN_PASSWORD_HASH).replace(`token: "${TOKEN}"`, `token: {"${TOKEN}": 1}`),
    ];
    for (const [i, text] of broken.entries()) {
      writeFileSync(authFile, text);
      server.proc.kill('SIGHUP');
      await waitFor(() => (server.stdout() + server.stderr()).split('auth reload rejected').length - 1 > i, 5000);
    }
    const metrics = await exchange(url, '/metrics');
    const audit = await exchange(url, '/audit/query', { method: 'POST', body: '{"limit":1000}', headers: { 'x-auth-token': TOKEN, 'content-type': 'application/json' } });
    expect(audit.bytes.toString()).toContain('token:Tk');
    const logs: Haystack[] = [
      { where: 'server stdout', bytes: Buffer.from(server.stdout()) },
      { where: 'server stderr', bytes: Buffer.from(server.stderr()) },
    ];
    expect(server.stdout() + server.stderr()).toContain('auth reload rejected');
    const needles = [...tokenWindows('token', TOKEN), ...tokenWindows('unrelated wrong token', OTHER_TOKEN)];
    expect(findLeaks([{ where: 'the auth file', bytes: readFileSync(authFile) }], needles).length).toBeGreaterThan(0); // the scan sees a token where there is one
    expect(findLeaks([...logs, metrics, audit, ...answers], needles)).toEqual([]);
    if (process.env['STASH_TEST_LOG']) console.log(server.stdout().split('\n').filter((l) => l.includes('auth reload rejected')).join('\n'));
    console.log(`token leak check: ${answers.length} answers, ${server.stdout().split('\n').length} log lines, metrics and ${broken.length} rejected reloads searched`);
  }, 60_000);
});

describe('secrets at rest', () => {
  it('secret values are in no database file, WAL, git object, audit row or log, in any encoding', async () => {
    const { server, dir } = await start('secrets', (d) => ['--audit.enabled', `--secrets.key=${SECRETS_KEY}`, '--git.enabled', `--git.path=${join(d, 'git')}`]);
    const url = server.url;
    const auth = { 'x-auth-token': TOKEN };
    const values = Array.from({ length: 8 }, (_, i) => `PlainSecret-${i}-${randomToken(21)}`); // 36 bytes: base64 without padding
    const plain = (i: number): string => values[i] as string;
    const secrets: Array<[string, string]> = [];
    const put = async (key: string, value: string): Promise<void> => {
      const res = await fetch(`${url}/kv/${key}`, { method: 'PUT', body: value, headers: auth });
      expect(res.status).toBeLessThan(300);
      secrets.push([key, value]);
    };
    await put('secrets/db', plain(1));
    await put('secrets/db', plain(2)); // an update: the old value stays in the change log and git
    await put('app/secrets/api', plain(3));
    await put('x/secrets', plain(4));
    const batch = [plain(5), plain(6)];
    const res = await fetch(`${url}/kv/`, { method: 'POST', headers: auth, body: JSON.stringify([{ key: 'secrets/b1', value: batch[0] }, { key: 'secrets/b2', value: Buffer.from(batch[1] ?? '').toString('base64'), encoding: 'base64' }]) });
    expect(res.status).toBe(200);
    secrets.push(['secrets/b1', batch[0] ?? ''], ['secrets/b2', batch[1] ?? '']);
    const cookie = await loginCookie(url, 'admin', 'admin-pw');
    const web = plain(7);
    const form = await fetch(`${url}/web/keys`, { method: 'POST', headers: { cookie, 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ key: 'secrets/web', value: web, format: 'text' }).toString() });
    expect(form.status).toBe(200);
    secrets.push(['secrets/web', web]);
    expect((await fetch(`${url}/kv/secrets/b1`, { method: 'DELETE', headers: auth })).status).toBe(204);
    // reads through the API give the plain text back: the values are there, sealed
    for (const [key, value] of secrets.filter(([k]) => k !== 'secrets/b1' && k !== 'secrets/db').concat([['secrets/db', plain(2)]])) {
      expect(await (await fetch(`${url}/kv/${key}`, { headers: auth })).text()).toBe(value);
    }
    const history = await (await fetch(`${url}/kv/history/secrets/db`, { headers: auth })).text();
    expect(history).toContain(Buffer.from(plain(1)).toString('base64')); // history opens old versions for its reader

    const repo = join(dir, 'git');
    await waitFor(() => commitCount(repo) >= 1 + 8, 10_000); // initial commit, 7 writes and the delete
    const auditRows = (): Haystack => {
      const db = new Database(join(dir, 'stash.db'), { readonly: true, fileMustExist: true });
      try {
        return { where: 'audit_log rows', bytes: Buffer.from(JSON.stringify(db.prepare('SELECT * FROM audit_log').all())) };
      } finally {
        db.close();
      }
    };
    await waitFor(() => JSON.parse(auditRows().bytes.toString()).length >= 9, 5000);
    // the scan finds what is there: a plain value written the same way is in the database and in git
    const control = `PlainControl-${randomToken(22)}`;
    await fetch(`${url}/kv/app/control`, { method: 'PUT', body: control, headers: auth });
    await waitFor(() => commitCount(repo) >= 1 + 9, 10_000);
    const controlHits = findLeaks([...filesUnder(dir), ...gitObjects(repo)], secretForms('control', control).slice(0, 1));
    expect(controlHits.some((h) => h.includes('stash.db'))).toBe(true);
    expect(controlHits.some((h) => h.includes('cat-file'))).toBe(true);
    const needles = [...secrets.flatMap(([key, value]) => secretForms(key, value)), ...secretForms('--secrets.key', SECRETS_KEY)];
    const onDisk = (): Haystack[] => filesUnder(dir).filter((h) => !h.where.endsWith('auth.yml'));
    expect(existsSync(join(dir, 'stash.db-wal'))).toBe(true);
    const running = [...onDisk(), ...gitObjects(repo), auditRows(), { where: 'logs', bytes: Buffer.from(server.stdout() + server.stderr()) }];
    expect(findLeaks(running, needles)).toEqual([]);

    // after a clean stop the WAL is checkpointed into the database file: look again
    server.proc.kill('SIGTERM');
    await server.exited;
    const stopped = [...onDisk(), ...gitObjects(repo), { where: 'logs', bytes: Buffer.from(server.stdout() + server.stderr()) }];
    expect(findLeaks(stopped, needles)).toEqual([]);
    console.log(`secrets at rest: ${secrets.length} values x 3 encodings and the master key searched in ${running.length + stopped.length} files/objects`);
  }, 60_000);
});

describe('token comparison timing', () => {
  it('the decision for a wrong token takes as long whether it shares no or almost every leading character', async () => {
    // a long token magnifies any prefix-dependent comparison; measured on the server's own
    // decision path (header -> token lookup -> ACL), on a real auth config and session store
    const real = `Tk${randomToken(1022)}`;
    const dir = makeTempDir('stash-sec-timing-');
    dirs.push(dir);
    const config = await parseAuthConfig(authFileText(real, ADMIN_PASSWORD_HASH), join(dir, 'auth.yml'));
    const store = await openStore(join(dir, 'stash.db'), { sync: 'normal' });
    try {
      const access = new AuthAccessControl(config, await openSessionStore(store));
      const flip = (c: string): string => (c === 'g' ? 'h' : 'g');
      const candidates = {
        none: flip(real.charAt(0)) + real.slice(1),
        half: real.slice(0, 512) + flip(real.charAt(512)) + real.slice(513),
        all: real.slice(0, -1) + flip(real.slice(-1)),
      };
      const decide = (token: string): boolean => access.authorizeNow({ headers: { 'x-auth-token': token } }, 'read', 'app/x')?.ok === true;
      expect([decide(real), decide(candidates.none), decide(candidates.half), decide(candidates.all)]).toEqual([true, false, false, false]);
      const samples = measureInterleaved(candidates, decide, 150, 100);
      const med = { none: median(samples.none ?? []), half: median(samples.half ?? []), all: median(samples.all ?? []) };
      // the same harness on an early-exit comparison: it must see the prefix clearly, or it proves nothing
      const naive = measureInterleaved(candidates, (t) => earlyExitEqual(t, real), 150, 100);
      const naiveRatio = median(naive.all ?? []) / median(naive.none ?? []);
      console.log(
        `token timing medians (ns per decision): none ${med.none.toFixed(0)}, half ${med.half.toFixed(0)}, all ${med.all.toFixed(0)}; ` +
          `early-exit comparison ratio all/none ${naiveRatio.toFixed(1)}`,
      );
      expect(naiveRatio).toBeGreaterThan(3);
      for (const ratio of [med.half / med.none, med.all / med.none]) {
        expect(ratio).toBeGreaterThan(0.75);
        expect(ratio).toBeLessThan(1.33);
      }
    } finally {
      await store.close();
    }
  });
});

/** What a leaky implementation would do: stop at the first differing character. */
function earlyExitEqual(a: string, b: string): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a.charCodeAt(i) !== b.charCodeAt(i)) return false;
  return true;
}

describe('cross-origin writes with a session cookie', () => {
  it('are refused from another origin; token clients without Origin and same-origin pages work', async () => {
    const { server } = await start('origin', () => []);
    const url = server.url;
    const token = { 'x-auth-token': TOKEN };
    const value = async (key: string): Promise<string> => {
      const res = await fetch(`${url}/kv/${key}`, { headers: token });
      return `${res.status} ${await res.text()}`;
    };
    expect((await fetch(`${url}/kv/app/target`, { method: 'PUT', body: 'original', headers: token })).status).toBe(201);
    const cookie = await loginCookie(url, 'admin', 'admin-pw');
    const send = (c: CrossOriginCase, headers: Record<string, string>): Promise<Response> =>
      fetch(`${url}${c.path}`, {
        method: c.method,
        body: c.body,
        redirect: 'manual',
        headers: { cookie, ...(c.form ? { 'content-type': 'application/x-www-form-urlencoded' } : {}), ...headers },
      });
    const attacks: Array<Record<string, string>> = [
      { origin: 'http://evil.example' },
      { 'sec-fetch-site': 'cross-site' },
      { origin: 'http://evil.example', 'sec-fetch-site': 'cross-site' },
      { origin: 'null' },
      { 'sec-fetch-site': 'same-site', origin: `http://sub.127.0.0.1:${server.port}` },
    ];
    let refused = 0;
    for (const c of crossOriginCases('app/target')) {
      for (const headers of attacks) {
        const res = await send(c, headers);
        const body = await res.text();
        expect({ request: `${c.method} ${c.path}`, headers, status: res.status, refusal: body.includes('cross-origin request detected') }).toEqual({
          request: `${c.method} ${c.path}`,
          headers,
          status: 403,
          refusal: true,
        });
        refused++;
      }
    }
    expect(await value('app/target')).toBe('200 original');
    expect(await value('app/target-new')).toMatch(/^404 /);
    // the cookie itself works: the same page on the server's own origin may write
    const own = await send({ method: 'PUT', path: '/kv/app/target', body: 'same-origin' }, { origin: url, 'sec-fetch-site': 'same-origin' });
    expect(own.status).toBe(200);
    expect(await value('app/target')).toBe('200 same-origin');
    // token clients send no browser headers and are not affected
    expect((await fetch(`${url}/kv/app/target`, { method: 'PUT', body: 'by-token', headers: token })).status).toBe(200);
    expect((await fetch(`${url}/kv/`, { method: 'POST', body: '[{"key":"app/t2","value":"b"}]', headers: token })).status).toBe(200);
    expect((await fetch(`${url}/kv/app/t2`, { method: 'DELETE', headers: token })).status).toBe(204);
    expect(await value('app/target')).toBe('200 by-token');
    console.log(`cross-origin: ${refused} cookie-authenticated cross-origin writes refused`);
  }, 30_000);
});

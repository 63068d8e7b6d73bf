import { join } from 'node:path';
import Database from 'better-sqlite3';
import type { FastifyRequest } from 'fastify';
import { beforeAll, describe, expect, it } from 'vitest';
import { AuthAccessControl, presentedToken, sessionCookieValues } from '../../src/auth/access-control.js';
import { loadAuthFile, parseAuthConfig, tokenDigest, type AuthConfig } from '../../src/auth/auth-file.js';
import { findTokenByDigest } from '../../src/auth/principals.js';
import { SqliteSessionStore } from '../../src/auth/session-store.js';
import { migrateSqlite } from '../../src/storage/sqlite-schema.js';
import { makeTempDir } from '../helpers/test-server.js';
import { ACL_FILE } from './login-helpers.js';

// the port only reads headers, so a plain object with headers is a complete request for it
const request = (headers: Record<string, string>): FastifyRequest => ({ headers }) as unknown as FastifyRequest;

let config: AuthConfig;
let access: AuthAccessControl;
let sessions: SqliteSessionStore;

beforeAll(async () => {
  config = await loadAuthFile(ACL_FILE);
  const db = new Database(join(makeTempDir('stash-ac-'), 's.db'));
  migrateSqlite(db);
  sessions = new SqliteSessionStore(db);
  access = new AuthAccessControl(config, sessions);
  await sessions.create({ token: 'sess-alice', username: 'alice', expiresAt: new Date(Date.now() + 60_000) });
});

describe('credential extraction', () => {
  it('reads X-Auth-Token first, then Bearer', () => {
    expect(presentedToken(request({ 'x-auth-token': 'a', authorization: 'Bearer b' }))).toBe('a');
    expect(presentedToken(request({ authorization: 'Bearer b' }))).toBe('b');
    expect(presentedToken(request({ 'x-auth-token': '', authorization: 'Bearer  b ' }))).toBe('b');
    expect(presentedToken(request({ authorization: 'Bearer ' }))).toBeUndefined();
  });

  it('parses session cookies, __Host- first, ignoring others and junk', () => {
    expect(sessionCookieValues('a=1; stash-auth=s; __Host-stash-auth=h')).toEqual(['h', 's']);
    expect(sessionCookieValues('stash-auth="q"')).toEqual(['q']);
    expect(sessionCookieValues(`stash-auth=${'x'.repeat(200)}`)).toEqual([]);
    expect(sessionCookieValues('stash-auth=; junk')).toEqual([]);
    expect(sessionCookieValues(undefined)).toEqual([]);
  });
});

describe('identify (GetRequestActor)', () => {
  it('known token: masked token; session: username; otherwise public anonymous', async () => {
    expect(await access.identify(request({ 'x-auth-token': 'rw-token-1234' }))).toEqual({ actor: 'token:rw-t****', type: 'token' });
    expect(await access.identify(request({ cookie: 'stash-auth=sess-alice' }))).toEqual({ actor: 'alice', type: 'user' });
    expect(await access.identify(request({ 'x-auth-token': 'unknown' }))).toEqual({ actor: 'anonymous', type: 'public' });
    expect(await access.identify(request({ cookie: 'stash-auth=nope' }))).toEqual({ actor: 'anonymous', type: 'public' });
    expect(await access.identify(request({}))).toEqual({ actor: 'anonymous', type: 'public' });
  });
});

describe('principals', () => {
  it('carry the actor and admin flag', async () => {
    const token = await access.authorize(request({ 'x-auth-token': 'rw-token-1234' }), 'principal', '');
    expect(token.ok && token.principal.actor).toBe('token:rw-t****');
    expect(token.ok && token.principal.admin).toBe(true);
    const anon = await access.authorize(request({}), 'principal', '');
    expect(anon.ok && anon.principal.actor).toBe('');
    expect(anon.ok && anon.principal.admin).toBe(false);
  });

  it('a token principal follows reloads: a removed token loses its grants, keeps public ones', async () => {
    const local = new AuthAccessControl(config, sessions);
    const decision = await local.authorize(request({ 'x-auth-token': 'app-token-abcd' }), 'principal', '');
    if (!decision.ok) throw new Error('expected a principal');
    expect(decision.principal.canRead('app/x')).toBe(true);
    local.swap(await parseAuthConfig('tokens:\n  - token: "*"\n    permissions:\n      - prefix: "public/*"\n        access: r\n', 'x.yml'));
    expect(decision.principal.canRead('app/x')).toBe(false);
    expect(decision.principal.canRead('public/x')).toBe(true);
    local.swap(config);
    expect(decision.principal.canRead('app/x')).toBe(true);
  });

  it('a session principal ends on revoke', async () => {
    const local = new AuthAccessControl(config, sessions);
    const decision = await local.authorize(request({ cookie: 'stash-auth=sess-alice' }), 'principal', '');
    if (!decision.ok) throw new Error('expected a principal');
    expect(decision.principal.actor).toBe('alice');
    expect(decision.principal.canRead('app/x')).toBe(true);
    local.revoke('sess-alice');
    expect(decision.principal.canRead('app/x')).toBe(false);
    expect(decision.principal.canRead('public/x')).toBe(true);
    expect(await local.authorize(request({ cookie: 'stash-auth=sess-alice' }), 'read', 'app/x')).toEqual({ ok: false, status: 401 });
  });
});

describe('constant-time token lookup', () => {
  it('compares against every token, even after a match, and never throws on length', () => {
    let reads = 0;
    const counted = config.tokens.map((t) => ({
      ...t,
      get digest() {
        reads++;
        return t.digest;
      },
    }));
    const spied: AuthConfig = { ...config, tokens: counted };
    expect(findTokenByDigest(spied, tokenDigest('rw-token-1234'))).toBe(counted[0]);
    expect(reads).toBe(config.tokens.length);
    for (const presented of ['', 'x', 'y'.repeat(10_000)]) {
      expect(findTokenByDigest(config, tokenDigest(presented))).toBeUndefined();
    }
  });
});

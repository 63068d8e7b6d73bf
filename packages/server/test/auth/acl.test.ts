import { describe, expect, it } from 'vitest';
import { Acl, parseAccess } from '../../src/auth/acl.js';
import type { AccessValue } from '../../src/auth/auth-schema.js';

const acl = (...lines: Array<[string, AccessValue]>): Acl =>
  new Acl(lines.map(([prefix, access]) => ({ prefix, ...parseAccess(access) })));

describe('Acl (compat 6.2-6.4)', () => {
  it('maps every access word; w implies read', () => {
    for (const word of ['r', 'read'] as const) expect(parseAccess(word)).toEqual({ read: true, write: false });
    for (const word of ['w', 'write', 'rw', 'readwrite', 'read-write'] as const) {
      expect(parseAccess(word)).toEqual({ read: true, write: true });
    }
  });

  it('matches *, string prefixes and exact keys', () => {
    const a = acl(['app*', 'r'], ['exact/key', 'rw']);
    expect(a.canRead('app')).toBe(true);
    expect(a.canRead('apple/x')).toBe(true);
    expect(a.canRead('exact/key')).toBe(true);
    expect(a.canWrite('exact/key')).toBe(true);
    expect(a.canRead('exact/key2')).toBe(false);
    expect(a.canRead('exact')).toBe(false);
    expect(acl(['*', 'r']).canRead('anything/at/all')).toBe(true);
    expect(acl(['app/*', 'r']).canRead('app')).toBe(false);
  });

  it('longest prefix decides, no fall-through to shorter ones', () => {
    const a = acl(['*', 'rw'], ['app/*', 'r'], ['app/x/*', 'rw']);
    expect(a.canWrite('other')).toBe(true);
    expect(a.canWrite('app/y')).toBe(false);
    expect(a.canRead('app/y')).toBe(true);
    expect(a.canWrite('app/x/z')).toBe(true);
  });

  it('denies when nothing matches', () => {
    expect(acl(['app/*', 'rw']).canRead('other/x')).toBe(false);
    expect(new Acl([]).canRead('x')).toBe(false);
  });

  it('secret keys need an explicit secret grant; * and app/* are skipped', () => {
    const broad = acl(['*', 'rw'], ['app/*', 'rw']);
    for (const key of ['secrets', 'secrets/x', 'app/secrets/x', 'app/secrets', 'a/secrets/b/c']) {
      expect(broad.canRead(key)).toBe(false);
      expect(broad.canWrite(key)).toBe(false);
    }
    expect(broad.canWrite('app/Secrets/x')).toBe(true);
    expect(broad.canWrite('my-secrets/x')).toBe(true);
    expect(broad.canWrite('secretsabc/x')).toBe(true);
  });

  it('search continues past a broader non-secret grant to a shorter secret one', () => {
    const a = acl(['app/secrets*', 'r'], ['app/secrets/deep/more/*', 'rw'], ['app/secrets/deep/*', 'rw']);
    // the longest match app/secrets/deep/more/* is itself a secret path and decides
    expect(a.canWrite('app/secrets/deep/more/x')).toBe(true);
    const b = acl(['app/*', 'rw'], ['app/secrets/*', 'r'], ['app/secrets/x/*', 'rw']);
    expect(b.canWrite('app/secrets/y')).toBe(false);
    expect(b.canRead('app/secrets/y')).toBe(true);
    expect(b.canWrite('app/secrets/x/z')).toBe(true);
    expect(acl(['secrets/db', 'rw']).canWrite('secrets/db')).toBe(true);
    expect(acl(['secrets*', 'r']).canRead('secrets/x')).toBe(true);
  });

  it('skips a matching non-secret grant and keeps searching: a shorter secret grant decides', () => {
    // app/secretsX/secrets/y is secret; the longest match app/secretsX/* is not a secret path
    // (app/secretsX/ has no `secrets` segment), so it is skipped; app/secrets* is the next match,
    // app/secrets is a secret path, and its r decides: readable, not writable
    const a = acl(['app/secretsX/*', 'rw'], ['app/secrets*', 'r']);
    expect(a.grantFor('app/secretsX/secrets/y')).toMatchObject({ prefix: 'app/secrets*', read: true, write: false });
    expect(a.canRead('app/secretsX/secrets/y')).toBe(true);
    expect(a.canWrite('app/secretsX/secrets/y')).toBe(false);
    // file order does not matter: the longer prefix is tried first either way
    const b = acl(['app/secrets*', 'r'], ['app/secretsX/*', 'rw']);
    expect(b.grantFor('app/secretsX/secrets/y')?.prefix).toBe('app/secrets*');
    // a non-secret key under the same grants is decided by the longest match, as usual
    expect(a.canWrite('app/secretsX/plain')).toBe(true);
  });
});

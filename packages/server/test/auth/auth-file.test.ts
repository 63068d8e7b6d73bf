import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { AuthFileError, loadAuthFile, maskToken, parseAuthConfig, tokenDigest } from '../../src/auth/auth-file.js';
import { findToken } from '../../src/auth/principals.js';
import { startTestServer } from '../helpers/test-server.js';

const FIXTURES = join(import.meta.dirname, '..', 'fixtures');
const fixture = (name: string): string => join(FIXTURES, name);

async function failure(name: string): Promise<string> {
  const error = await loadAuthFile(fixture(name)).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(AuthFileError);
  const message = (error as Error).message;
  expect(message).toContain(fixture(name));
  return message;
}

describe('auth file validation', () => {
  it('loads the main fixture: users, tokens, public token', async () => {
    const config = await loadAuthFile(fixture('auth-acl.yml'));
    expect([...config.users.keys()]).toEqual(['admin', 'alice', 'bob']);
    expect(config.tokens).toHaveLength(6);
    expect(config.publicAcl?.canRead('public/a')).toBe(true);
    expect(config.users.get('admin')?.admin).toBe(true);
    expect(config.users.get('alice')?.admin).toBe(false);
  });

  it('rejects malformed YAML with the line', async () => {
    expect(await failure('auth-bad-yaml.yml')).toMatch(/invalid YAML: .*line \d+, column \d+/);
  });

  it('rejects wrong types, naming each path', async () => {
    const message = await failure('auth-bad-types.yml');
    expect(message).toContain('config validation failed');
    expect(message).toContain('users[0].name: must be string');
    expect(message).toContain('users[0].admin: must be boolean');
    expect(message).toContain('tokens: must be array');
  });

  it('rejects unknown fields at every level', async () => {
    const message = await failure('auth-unknown-field.yml');
    expect(message).toContain('users[0].role: unknown field');
    expect(message).toContain('users[0].permissions[0].expires: unknown field');
    await expect(parseAuthConfig('tokens: []\ngroups: []\n', 'x.yml')).rejects.toThrow('groups: unknown field');
  });

  it('rejects an access level outside the enum (case-sensitive)', async () => {
    expect(await failure('auth-bad-access.yml')).toContain('users[1].permissions[0].access: must be one of r, read, w');
  });

  it('rejects passwords that are not bcrypt hashes', async () => {
    const message = await failure('auth-bad-bcrypt.yml');
    expect(message).toContain('users[0].password: must be a bcrypt hash');
    expect(message).toContain('users[1].password: must be a bcrypt hash');
  });

  it('rejects empty tokens and prefixes', async () => {
    const message = await failure('auth-empty-token.yml');
    expect(message).toContain('tokens[0].token: must not be empty');
    expect(message).toContain('tokens[1].permissions[0].prefix: must not be empty');
  });

  it('rejects a second public token', async () => {
    expect(await failure('auth-two-public.yml')).toContain('tokens[1].token: more than one public "*" token');
  });

  it('rejects duplicate users', async () => {
    expect(await failure('auth-dup-users.yml')).toContain('users[1].name: duplicate user "admin"');
  });

  it('rejects duplicate tokens (plain vs sha256 of it) and duplicate prefixes, without echoing the token', async () => {
    const message = await failure('auth-dup-tokens.yml');
    expect(message).toContain('tokens[1].token: duplicate token (same as tokens[0])');
    expect(message).toContain('tokens[1].permissions[2].prefix: duplicate prefix "app/*"');
    expect(message).not.toContain('hashed-token-value');
  });

  it('rejects a malformed sha256 token', async () => {
    expect(await failure('auth-bad-sha256.yml')).toContain('tokens[0].token: a sha256: token must be followed by 64 hex digits');
  });

  it('rejects a file defining nothing, and an empty file', async () => {
    expect(await failure('auth-empty.yml')).toContain('no users or tokens defined');
    await expect(parseAuthConfig('', 'empty.yml')).rejects.toThrow('no users or tokens defined');
  });

  it('rejects a missing file', async () => {
    await expect(loadAuthFile(fixture('auth-does-not-exist.yml'))).rejects.toThrow(/cannot read/);
  });

  it('stops server start-up with the message', async () => {
    await expect(startTestServer(['--auth.file', fixture('auth-dup-users.yml')])).rejects.toThrow(
      /auth-dup-users\.yml: config validation failed: users\[1\]\.name: duplicate user "admin"/,
    );
  });
});

describe('tokens', () => {
  it('keeps only digests; sha256: tokens match the plain value, case-insensitive hex', async () => {
    const config = await loadAuthFile(fixture('auth-acl.yml'));
    expect(findToken(config, 'hashed-token-value')?.acl.canWrite('hashed/x')).toBe(true);
    expect(findToken(config, 'sha256:cd1ea973bfc929554abc95251641b98121f9274a7bfe32411b249aea87291270')).toBeUndefined();
    expect(findToken(config, 'rw-token-1234')?.digest.equals(tokenDigest('rw-token-1234'))).toBe(true);
    expect(findToken(config, 'rw-token-123')).toBeUndefined();
    expect(findToken(config, '*')).toBeUndefined();
  });

  it('masks tokens as the original does', () => {
    expect(maskToken('abcdefgh')).toBe('token:abcd****');
    expect(maskToken('abcde')).toBe('token:abcd****');
    expect(maskToken('abcd')).toBe('****');
    expect(maskToken('a')).toBe('****');
  });
});

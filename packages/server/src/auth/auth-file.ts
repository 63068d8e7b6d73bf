import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import bcrypt from 'bcryptjs';
import { parseDocument } from 'yaml';
import { Acl, parseAccess } from './acl.js';
import { schemaProblems, type AuthFileDocument, type PermissionDocument } from './auth-schema.js';

/** A web-login user. */
export interface AuthUser {
  readonly name: string;
  readonly passwordHash: string;
  readonly admin: boolean;
  readonly acl: Acl;
}

/** An API token; only its SHA-256 digest is kept, so plain and `sha256:` tokens compare alike. */
export interface AuthToken {
  readonly digest: Buffer;
  readonly admin: boolean;
  readonly acl: Acl;
}

/** A validated auth file, immutable; reload swaps the whole object. */
export interface AuthConfig {
  readonly file: string;
  readonly users: ReadonlyMap<string, AuthUser>;
  readonly tokens: readonly AuthToken[];
  /** the `*` token's permissions: what anonymous callers may do */
  readonly publicAcl: Acl | undefined;
  /** bcrypt hash compared for unknown users, at the cost of the real ones, so timing tells nothing */
  readonly dummyHash: string;
}

/** An auth file that cannot be used; the message names the file, the path inside it and the problem. */
export class AuthFileError extends Error {
  override readonly name = 'AuthFileError';
}

const SHA256_PREFIX = 'sha256:';
const DEFAULT_COST = 10;

/** SHA-256 of a presented token; every token comparison is between such digests. */
export function tokenDigest(token: string): Buffer {
  return createHash('sha256').update(token, 'utf8').digest();
}

/** How a token appears in logs and audit rows: `token:abcd****`, or `****` when it has 4 chars or fewer. */
export function maskToken(token: string): string {
  return token.length <= 4 ? '****' : `token:${token.slice(0, 4)}****`;
}

function grantsOf(perms: readonly PermissionDocument[] | undefined, where: string, problems: string[]): Acl {
  const seen = new Set<string>();
  const grants = (perms ?? []).map((p, i) => {
    const path = `${where}.permissions[${i}].prefix`;
    if (p.prefix.trim() === '') problems.push(`${path}: must not be empty`);
    else if (seen.has(p.prefix)) problems.push(`${path}: duplicate prefix "${p.prefix}"`);
    seen.add(p.prefix);
    return { prefix: p.prefix, ...parseAccess(p.access) };
  });
  return new Acl(grants);
}

function tokenDigestOf(raw: string, where: string, problems: string[]): Buffer | undefined {
  if (raw.trim() === '') {
    problems.push(`${where}.token: must not be empty`);
    return undefined;
  }
  if (!raw.startsWith(SHA256_PREFIX)) return tokenDigest(raw);
  const hex = raw.slice(SHA256_PREFIX.length);
  if (!/^[0-9a-fA-F]{64}$/.test(hex)) {
    problems.push(`${where}.token: a sha256: token must be followed by 64 hex digits`);
    return undefined;
  }
  return Buffer.from(hex, 'hex');
}

function semantic(doc: AuthFileDocument, problems: string[]): Omit<AuthConfig, 'file' | 'dummyHash'> {
  const users = new Map<string, AuthUser>();
  (doc.users ?? []).forEach((u, i) => {
    const where = `users[${i}]`;
    if (u.name.trim() === '') problems.push(`${where}.name: must not be empty`);
    else if (users.has(u.name)) problems.push(`${where}.name: duplicate user "${u.name}"`);
    const acl = grantsOf(u.permissions, where, problems);
    if (!users.has(u.name)) users.set(u.name, { name: u.name, passwordHash: u.password, admin: u.admin === true, acl });
  });
  const tokens: AuthToken[] = [];
  const seen = new Map<string, number>();
  let publicAcl: Acl | undefined;
  let publicAt: number | undefined;
  (doc.tokens ?? []).forEach((t, i) => {
    const where = `tokens[${i}]`;
    const acl = grantsOf(t.permissions, where, problems);
    if (t.token === '*') {
      if (publicAt !== undefined) problems.push(`${where}.token: more than one public "*" token (first at tokens[${publicAt}])`);
      else [publicAcl, publicAt] = [acl, i];
      return;
    }
    const digest = tokenDigestOf(t.token, where, problems);
    if (!digest) return;
    const hex = digest.toString('hex');
    const first = seen.get(hex);
    // never echo the token itself: the message points at the earlier entry instead
    if (first !== undefined) problems.push(`${where}.token: duplicate token (same as tokens[${first}])`);
    else seen.set(hex, i);
    tokens.push({ digest, admin: t.admin === true, acl });
  });
  if (users.size === 0 && tokens.length === 0 && publicAcl === undefined && problems.length === 0) {
    problems.push('(top level): no users or tokens defined');
  }
  return { users, tokens, publicAcl };
}

function parseYaml(text: string, file: string): unknown {
  const doc = parseDocument(text, { uniqueKeys: true, prettyErrors: true });
  const [first] = doc.errors;
  // the first line of a pretty error names the problem and its line and column
  if (first) throw new AuthFileError(`auth file ${file}: invalid YAML: ${first.message.split('\n')[0]?.replace(/:$/, '')}`);
  return (doc.toJS() as unknown) ?? {};
}

/**
 * Parse and validate auth-file text: YAML, then the JSON Schema, then the semantic checks.
 * @throws AuthFileError naming `file`, the path inside it and what is wrong
 */
export async function parseAuthConfig(text: string, file: string): Promise<AuthConfig> {
  const doc = parseYaml(text, file);
  const problems = schemaProblems(doc);
  const model = problems.length === 0 ? semantic(doc as AuthFileDocument, problems) : undefined;
  if (!model || problems.length > 0) {
    throw new AuthFileError(`auth file ${file}: config validation failed: ${problems.join('; ')}`);
  }
  let cost = 0;
  for (const user of model.users.values()) cost = Math.max(cost, bcrypt.getRounds(user.passwordHash));
  const dummyHash = await bcrypt.hash('stash-dummy-password', cost || DEFAULT_COST);
  return { file, dummyHash, ...model };
}

/**
 * Read and validate the `--auth.file`.
 * @throws AuthFileError when the file is unreadable or invalid
 */
export async function loadAuthFile(file: string): Promise<AuthConfig> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    throw new AuthFileError(`auth file ${file}: cannot read: ${(error as Error).message}`);
  }
  return parseAuthConfig(text, file);
}

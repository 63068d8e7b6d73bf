import { timingSafeEqual } from 'node:crypto';
import type { Principal } from '../shared/access.js';
import type { AuthConfig, AuthToken, AuthUser } from './auth-file.js';
import { tokenDigest } from './auth-file.js';

/** What principals consult on every check: the live config (swapped on reload) and revoked sessions. */
export interface AuthView {
  readonly config: AuthConfig;
  isRevoked(sessionToken: string): boolean;
}

/**
 * The token whose digest equals `digest`. Every entry is compared with timingSafeEqual and the
 * loop never stops early, so the time taken does not depend on which token (if any) matched.
 */
export function findTokenByDigest(config: AuthConfig, digest: Buffer): AuthToken | undefined {
  let found: AuthToken | undefined;
  for (const entry of config.tokens) {
    if (timingSafeEqual(entry.digest, digest)) found ??= entry;
  }
  return found;
}

/** Find a presented token (plain text from a header) in the config. */
export function findToken(config: AuthConfig, presented: string): AuthToken | undefined {
  return findTokenByDigest(config, tokenDigest(presented));
}

// union with the public ACL: whatever anonymous callers may read, every principal may read too
// (the middleware's step 1 already grants it for single-key routes; lists and streams agree)
function publicAllows(view: AuthView, key: string, write: boolean): boolean {
  const acl = view.config.publicAcl;
  return acl !== undefined && (write ? acl.canWrite(key) : acl.canRead(key));
}

function publicWritesSomewhere(view: AuthView): boolean {
  return view.config.publicAcl?.writesSomewhere() === true;
}

/** Anonymous caller: only the public `*` token's grants. */
export class PublicPrincipal implements Principal {
  readonly actor = '';
  readonly admin = false;
  constructor(private readonly view: AuthView) {}
  canRead(key: string): boolean {
    return publicAllows(this.view, key, false);
  }
  canWrite(key: string): boolean {
    return publicAllows(this.view, key, true);
  }
  canWriteSomewhere(): boolean {
    return publicWritesSomewhere(this.view);
  }
}

/** An API token; re-resolved after a reload, so a removed token stops counting at once. */
export class TokenPrincipal implements Principal {
  private resolvedFor: AuthConfig;
  private entry: AuthToken | undefined;
  private readonly digest: Buffer;

  constructor(
    private readonly view: AuthView,
    entry: AuthToken,
    /** `token:abcd****` */
    readonly actor: string,
  ) {
    this.resolvedFor = view.config;
    this.entry = entry;
    this.digest = entry.digest;
  }

  private current(): AuthToken | undefined {
    const config = this.view.config;
    if (config !== this.resolvedFor) {
      this.entry = findTokenByDigest(config, this.digest);
      this.resolvedFor = config;
    }
    return this.entry;
  }

  get admin(): boolean {
    return this.current()?.admin === true;
  }
  canRead(key: string): boolean {
    return this.current()?.acl.canRead(key) === true || publicAllows(this.view, key, false);
  }
  canWrite(key: string): boolean {
    return this.current()?.acl.canWrite(key) === true || publicAllows(this.view, key, true);
  }
  canWriteSomewhere(): boolean {
    return this.current()?.acl.writesSomewhere() === true || publicWritesSomewhere(this.view);
  }
}

/**
 * A web session. Checked on every call (streams ask per event): a logout, expiry, removal of the
 * user or a changed password ends it immediately, with no database round trip.
 */
export class SessionPrincipal implements Principal {
  private readonly passwordHash: string;

  constructor(
    private readonly view: AuthView,
    private readonly token: string,
    user: AuthUser,
    private readonly expiresAt: number,
  ) {
    this.actor = user.name;
    this.passwordHash = user.passwordHash;
  }

  readonly actor: string;

  private user(): AuthUser | undefined {
    if (Date.now() >= this.expiresAt || this.view.isRevoked(this.token)) return undefined;
    const user = this.view.config.users.get(this.actor);
    return user?.passwordHash === this.passwordHash ? user : undefined;
  }

  get admin(): boolean {
    return this.user()?.admin === true;
  }
  canRead(key: string): boolean {
    return this.user()?.acl.canRead(key) === true || publicAllows(this.view, key, false);
  }
  canWrite(key: string): boolean {
    return this.user()?.acl.canWrite(key) === true || publicAllows(this.view, key, true);
  }
  canWriteSomewhere(): boolean {
    return this.user()?.acl.writesSomewhere() === true || publicWritesSomewhere(this.view);
  }
}

import type { IncomingHttpHeaders } from 'node:http';
import type { FastifyRequest } from 'fastify';
import type {
  AccessControl,
  AccessDecision,
  AccessNeed,
  Principal,
  RequestHeaders,
  RequestIdentity,
  WebViewer,
} from '../shared/access.js';
import { maskToken, type AuthConfig, type AuthToken, type AuthUser } from './auth-file.js';
import { findToken, PublicPrincipal, SessionPrincipal, TokenPrincipal, type AuthView } from './principals.js';
import type { Session, SessionStore } from './session-store.js';

/** Session cookie names, in the order they are tried (compat 6.5). */
export const SESSION_COOKIES = ['__Host-stash-auth', 'stash-auth'] as const;

/** Values of the session cookies present on a request, `__Host-` first. */
export function sessionCookieValues(cookieHeader: string | undefined): string[] {
  if (!cookieHeader) return [];
  const found = new Map<string, string>();
  for (const part of cookieHeader.split(';')) {
    const eq = part.indexOf('=');
    if (eq === -1) continue;
    const name = part.slice(0, eq).trim();
    const value = part.slice(eq + 1).trim().replace(/^"(.*)"$/, '$1');
    // a bogus value is never looked up in the database
    if ((SESSION_COOKIES as readonly string[]).includes(name) && !found.has(name) && value !== '' && value.length <= 128) {
      found.set(name, value);
    }
  }
  return SESSION_COOKIES.flatMap((name) => found.get(name) ?? []);
}

/** API token from `X-Auth-Token` (first) or `Authorization: Bearer`; query strings are never read. */
export function presentedToken(req: RequestHeaders): string | undefined {
  const header = req.headers['x-auth-token'];
  if (typeof header === 'string' && header !== '') return header;
  const auth = req.headers.authorization;
  if (typeof auth === 'string' && /^bearer\s/i.test(auth)) {
    const token = auth.slice(7).trim();
    if (token !== '') return token;
  }
  return undefined;
}

interface LiveSession {
  session: Session;
  user: AuthUser;
}

/** Credentials of one request, resolved once and shared by authorize() and identify(). */
interface Credentials {
  config: AuthConfig;
  presented: string | undefined;
  token: AuthToken | undefined;
  cookies: string[];
  session?: Promise<LiveSession | undefined>;
}

/**
 * Access control of an auth-enabled server: the original's token middleware (compat 6.5) on
 * the live auth config, which reload swaps atomically.
 */
export class AuthAccessControl implements AccessControl, AuthView {
  readonly enabled = true;
  private live: AuthConfig;
  private readonly revoked = new Map<string, number>();
  /** sessions this server has let in, with their expiry: the ones a logout elsewhere must reach */
  private readonly admitted = new Map<string, number>();
  // keyed by the headers object, which Node's request and fastify's wrapper share, so a read
  // declined by authorizeNow (a session needs a lookup) is not parsed again by authorize
  private readonly memo = new WeakMap<IncomingHttpHeaders, Credentials>();

  constructor(
    config: AuthConfig,
    private readonly sessions: SessionStore,
  ) {
    this.live = config;
  }

  get config(): AuthConfig {
    return this.live;
  }

  /** Atomic swap after a successful reload; principals consult the new config on their next check. */
  swap(config: AuthConfig): void {
    this.live = config;
  }

  isRevoked(sessionToken: string): boolean {
    return this.revoked.has(sessionToken);
  }

  /** Mark a session ended (logout) so live streams stop at once. */
  revoke(sessionToken: string): void {
    this.revoked.set(sessionToken, Date.now());
  }

  /**
   * Revoke the admitted sessions whose row is gone: another server on the same database logged
   * them out (or the reloader dropped their user). Open streams stop at the next event, as after
   * a logout here. Returns how many were revoked.
   */
  async recheckSessions(): Promise<number> {
    const now = Date.now();
    for (const [token, expiresAt] of this.admitted) if (expiresAt <= now || this.revoked.has(token)) this.admitted.delete(token);
    if (this.admitted.size === 0) return 0;
    const tokens = [...this.admitted.keys()];
    const live = await this.sessions.existing(tokens);
    let ended = 0;
    for (const token of tokens) {
      if (live.has(token)) continue;
      this.revoke(token);
      this.admitted.delete(token);
      ended++;
    }
    return ended;
  }

  /** Forget revocations older than `maxAgeMs` (their sessions have expired by then). */
  pruneRevoked(maxAgeMs: number): void {
    const cutoff = Date.now() - maxAgeMs;
    for (const [token, at] of this.revoked) if (at < cutoff) this.revoked.delete(token);
  }

  // valid tokens already seen, so the hot path skips a SHA-256 per request; only hits are kept
  // (bounded, cleared on reload), so random tokens cannot grow it, and a Map lookup reveals
  // nothing a 401/200 does not
  private readonly validTokens = new Map<string, AuthToken>();
  private validTokensOf: AuthConfig | undefined;

  private knownToken(presented: string): AuthToken | undefined {
    if (this.validTokensOf !== this.live) {
      this.validTokens.clear();
      this.validTokensOf = this.live;
    }
    const hit = this.validTokens.get(presented);
    if (hit) return hit;
    const found = findToken(this.live, presented);
    if (found && this.validTokens.size < 1024) this.validTokens.set(presented, found);
    return found;
  }

  private credentials(req: RequestHeaders): Credentials {
    const known = this.memo.get(req.headers);
    if (known && known.config === this.live) return known;
    const creds = this.readCredentials(req);
    this.memo.set(req.headers, creds);
    return creds;
  }

  private readCredentials(req: RequestHeaders): Credentials {
    const presented = presentedToken(req);
    return {
      config: this.live,
      presented,
      token: presented === undefined ? undefined : this.knownToken(presented),
      cookies: sessionCookieValues(req.headers.cookie),
    };
  }

  private session(creds: Credentials): Promise<LiveSession | undefined> | undefined {
    if (creds.cookies.length === 0) return undefined;
    creds.session ??= (async () => {
      for (const value of creds.cookies) {
        if (this.revoked.has(value)) continue;
        const session = await this.sessions.get(value);
        const user = session && creds.config.users.get(session.username);
        if (session && user) return { session, user };
      }
      return undefined;
    })();
    return creds.session;
  }

  /** The principal lists and streams filter with: known token, else valid session, else public. */
  private principal(creds: Credentials, live: LiveSession | undefined): Principal {
    if (creds.token && creds.presented !== undefined) return new TokenPrincipal(this, creds.token, maskToken(creds.presented));
    if (live) return this.sessionPrincipal(live);
    return new PublicPrincipal(this);
  }

  private sessionPrincipal(live: LiveSession): SessionPrincipal {
    const expiresAt = live.session.expiresAt.getTime();
    this.admitted.set(live.session.token, expiresAt);
    return new SessionPrincipal(this, live.session.token, live.user, expiresAt);
  }

  webViewer(req: RequestHeaders): Promise<WebViewer | undefined> | undefined {
    const pending = this.session(this.credentials(req));
    return pending?.then((live) => (live ? { name: live.user.name, principal: this.sessionPrincipal(live) } : undefined));
  }

  authorize(req: FastifyRequest, need: AccessNeed, key: string): AccessDecision | Promise<AccessDecision> {
    const creds = this.credentials(req);
    const pending = this.session(creds);
    if (pending) return pending.then((live) => this.decide(creds, need, key, live));
    return this.decide(creds, need, key, undefined);
  }

  authorizeNow(req: RequestHeaders, need: AccessNeed, key: string): AccessDecision | undefined {
    const creds = this.readCredentials(req);
    if (creds.cookies.length === 0) return this.decide(creds, need, key, undefined);
    this.memo.set(req.headers, creds); // authorize() takes it from here, with the session lookup
    return undefined;
  }

  // the original's steps: (1) public grant, (2) session, (3) token; 401 without a known principal
  private decide(creds: Credentials, need: AccessNeed, key: string, live: LiveSession | undefined): AccessDecision {
    const principalOnly = need === 'principal';
    const publicAcl = creds.config.publicAcl;
    const allow = (): AccessDecision => ({ ok: true, principal: this.principal(creds, live) });
    if (publicAcl && (principalOnly || publicAcl.allows(need, key))) return allow();
    if (live) return principalOnly || live.user.acl.allows(need, key) ? allow() : { ok: false, status: 403 };
    if (!creds.token) return { ok: false, status: 401 };
    return principalOnly || creds.token.acl.allows(need, key) ? allow() : { ok: false, status: 403 };
  }

  identify(req: FastifyRequest): RequestIdentity | Promise<RequestIdentity> {
    const creds = this.credentials(req);
    if (creds.token && creds.presented !== undefined) return { actor: maskToken(creds.presented), type: 'token' };
    const pending = this.session(creds);
    if (!pending) return { actor: 'anonymous', type: 'public' };
    return pending.then((live) => (live ? { actor: live.user.name, type: 'user' } : { actor: 'anonymous', type: 'public' }));
  }
}

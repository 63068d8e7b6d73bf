import type { IncomingHttpHeaders } from 'node:http';
import type { FastifyRequest } from 'fastify';

/** Who is calling, as far as key access goes. */
export interface Principal {
  /** change-log / git author: username, `token:abcd****`, or '' when anonymous */
  readonly actor: string;
  readonly admin: boolean;
  canRead(key: string): boolean;
  canWrite(key: string): boolean;
  /** true when some key is writable (the web UI offers "New Key" only then) */
  canWriteSomewhere(): boolean;
}

/** A person signed in to the web UI. */
export interface WebViewer {
  /** the username; '' when auth is off */
  readonly name: string;
  readonly principal: Principal;
}

/** What a route needs: read or write on its key, or just a valid principal (list, subscribe). */
export type AccessNeed = 'read' | 'write' | 'principal';

export type AccessDecision = { ok: true; principal: Principal } | { ok: false; status: 401 | 403 };

/** Who made a request, for the audit log (compat 6.5 GetRequestActor), whatever the decision. */
export interface RequestIdentity {
  actor: string;
  type: 'user' | 'token' | 'public';
}

/** What access control reads from a request: only its headers (a fastify or a raw Node request). */
export interface RequestHeaders {
  readonly headers: IncomingHttpHeaders;
}

/** The access-control port the HTTP layer asks; the auth module provides the real one. */
export interface AccessControl {
  readonly enabled: boolean;
  authorize(req: FastifyRequest, need: AccessNeed, key: string): Promise<AccessDecision> | AccessDecision;
  /** The decision when it needs no lookup (no session cookie), else undefined: ask authorize(). */
  authorizeNow(req: RequestHeaders, need: AccessNeed, key: string): AccessDecision | undefined;
  identify(req: FastifyRequest): Promise<RequestIdentity> | RequestIdentity;
  /**
   * Who uses the web UI: only a valid session counts (tokens and the public grant do not,
   * compat 6.7); undefined sends the browser to the login page.
   */
  webViewer(req: RequestHeaders): Promise<WebViewer | undefined> | WebViewer | undefined;
}

const EVERYONE: Principal = { actor: '', admin: false, canRead: () => true, canWrite: () => true, canWriteSomewhere: () => true };
const OPEN_VIEWER: WebViewer = { name: '', principal: EVERYONE };
const ALLOW: AccessDecision = { ok: true, principal: EVERYONE };
const ANONYMOUS: RequestIdentity = { actor: 'anonymous', type: 'public' };

/** Auth disabled: everything is allowed (compat 6.6). */
export const OPEN_ACCESS: AccessControl = {
  enabled: false,
  authorize: () => ALLOW,
  authorizeNow: () => ALLOW,
  identify: () => ANONYMOUS,
  webViewer: () => OPEN_VIEWER,
};

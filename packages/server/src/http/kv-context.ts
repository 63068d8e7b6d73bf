import type { FastifyReply, FastifyRequest } from 'fastify';
import type { KvService } from '../domain/kv-service.js';
import type { Logger } from '../logger.js';
import type { AccessControl, AccessDecision, AccessNeed, Principal } from '../shared/access.js';
import type { HistoryProvider, StreamHandler } from '../shared/ports.js';
import { sendError } from '../shared/replies.js';
import type { ListCache } from './list-cache.js';

export interface KvRouteDeps {
  service: KvService;
  listCache: ListCache;
  access: AccessControl;
  log: Logger;
  baseUrl: string;
  streams?: StreamHandler | undefined;
  history?: HistoryProvider | undefined;
}

/** Ask access control; on refusal answer as the original's auth middleware does and return undefined. */
export async function authorize(
  deps: KvRouteDeps,
  req: FastifyRequest,
  reply: FastifyReply,
  need: AccessNeed,
  key: string,
): Promise<Principal | undefined> {
  return principalOrRefusal(reply, await deps.access.authorize(req, need, key));
}

/** The decision's principal, or undefined after answering 401/403 as the original's auth middleware does. */
export function principalOrRefusal(reply: FastifyReply, decision: AccessDecision): Principal | undefined {
  if (decision.ok) return decision.principal;
  void reply
    .code(decision.status)
    .header('content-type', 'text/plain; charset=utf-8')
    .header('x-content-type-options', 'nosniff')
    .send(decision.status === 401 ? 'Unauthorized\n' : 'Forbidden\n');
  return undefined;
}

/** Run a handler body, mapping every error through the one error mapping. */
export async function guarded(
  deps: KvRouteDeps,
  reply: FastifyReply,
  fallback: string,
  body: () => Promise<unknown>,
): Promise<void> {
  try {
    await body();
  } catch (error) {
    sendError(reply, error, fallback, deps.log);
  }
}

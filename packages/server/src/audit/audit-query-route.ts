import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { AccessControl } from '../shared/access.js';
import { ALL_METHODS, JSON_CONTENT_TYPE, methodNotAllowed, sendError, sendJsonError } from '../shared/replies.js';
import { goJson, rfc3339Nano } from '../shared/wire-format.js';
import type { Logger } from '../logger.js';
import type { AuditLog } from './audit-log.js';
import { ACTOR_TYPES, AUDIT_ACTIONS, AUDIT_RESULTS, type AuditEntry, type AuditFilter } from './audit-store.js';

export interface AuditQueryDeps {
  audit: AuditLog;
  access: AccessControl;
  log: Logger;
}

/** One entry on the wire: optional fields only when set (compat 10). */
export interface AuditEntryResponse {
  id: number;
  timestamp: string;
  action: string;
  key: string;
  actor: string;
  actor_type: string;
  result: string;
  ip?: string;
  user_agent?: string;
  value_size?: number;
  request_id?: string;
}

class BadQuery extends Error {}

const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(\.\d+)?([Zz]|[+-](\d{2}):(\d{2}))$/;

/** Strict RFC 3339 (as Go's time.Parse): undefined for anything else, including Feb 30. */
export function parseRfc3339(text: string): Date | undefined {
  const m = RFC3339.exec(text);
  if (!m) return undefined;
  const [y, mo, d, h, mi, s] = m.slice(1, 7).map(Number) as [number, number, number, number, number, number];
  const days = new Date(Date.UTC(y, mo, 0)).getUTCDate();
  if (mo < 1 || mo > 12 || d < 1 || d > days || h > 23 || mi > 59 || s > 59) return undefined;
  if (m[9] !== undefined && (Number(m[9]) > 23 || Number(m[10]) > 59)) return undefined;
  const t = Date.parse(text.toUpperCase());
  return Number.isNaN(t) ? undefined : new Date(t);
}

function oneOf<T extends string>(allowed: readonly T[], value: string | undefined): T | undefined {
  if (value === undefined) return undefined;
  if (!(allowed as readonly string[]).includes(value)) throw new BadQuery();
  return value as T;
}

/**
 * The JSON body as the original's decoder takes it: unknown fields ignored, `null` and `""` mean
 * "no filter", a wrong type is an unreadable body. Throws SyntaxError for that, BadQuery for
 * values that parse but mean nothing (unknown enum, bad time).
 */
export function parseAuditQuery(body: unknown): { filter: AuditFilter; limit: number } {
  const parsed: unknown = JSON.parse(Buffer.isBuffer(body) ? body.toString('utf8') : '');
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new SyntaxError('not an object');
  const fields = parsed as Record<string, unknown>;
  const text = (name: string): string | undefined => {
    const v = fields[name];
    if (v === undefined || v === null || v === '') return undefined;
    if (typeof v !== 'string') throw new SyntaxError(`${name} must be a string`);
    return v;
  };
  const time = (name: string): Date | undefined => {
    const v = text(name);
    if (v === undefined) return undefined;
    const date = parseRfc3339(v);
    if (!date) throw new BadQuery();
    return date;
  };
  const rawLimit = fields['limit'];
  if (rawLimit !== undefined && rawLimit !== null && !Number.isSafeInteger(rawLimit)) throw new SyntaxError('limit must be an integer');
  const filter: AuditFilter = {
    key: text('key'),
    actor: text('actor'),
    actorType: oneOf(ACTOR_TYPES, text('actor_type')),
    action: oneOf(AUDIT_ACTIONS, text('action')),
    result: oneOf(AUDIT_RESULTS, text('result')),
    from: time('from'),
    to: time('to'),
  };
  return { filter, limit: typeof rawLimit === 'number' ? rawLimit : 0 };
}

export function toAuditEntryResponse(e: AuditEntry): AuditEntryResponse {
  return {
    id: e.id,
    timestamp: rfc3339Nano(e.timestamp),
    action: e.action,
    key: e.key,
    actor: e.actor,
    actor_type: e.actorType,
    result: e.result,
    ...(e.ip ? { ip: e.ip } : {}),
    ...(e.userAgent ? { user_agent: e.userAgent } : {}),
    ...(e.valueSize !== null ? { value_size: e.valueSize } : {}),
    ...(e.requestId ? { request_id: e.requestId } : {}),
  };
}

/** 401 for anonymous callers and when auth is off, 403 for non-admins; undefined means go on. */
async function refuse(access: AccessControl, req: FastifyRequest): Promise<[401 | 403, string] | undefined> {
  if (!access.enabled) return [401, 'unauthorized'];
  const decision = await access.authorize(req, 'principal', '');
  if (!decision.ok) return [401, 'unauthorized'];
  if (decision.principal.admin) return undefined;
  const who = await access.identify(req);
  return who.type === 'public' ? [401, 'unauthorized'] : [403, 'admin access required'];
}

/** `POST /audit/query` for admins: filters in a JSON body, `{"entries","total","limit"}` back. */
export function createAuditQueryRoute(deps: AuditQueryDeps): (app: FastifyInstance) => void {
  const handler = async (req: FastifyRequest, reply: FastifyReply): Promise<void> => {
    req.metricsRoute = 'audit.query';
    if (req.method !== 'POST') return methodNotAllowed(reply, 'POST');
    try {
      const refused = await refuse(deps.access, req);
      if (refused) return void sendJsonError(reply, refused[0], refused[1]);
      let query: ReturnType<typeof parseAuditQuery>;
      try {
        query = parseAuditQuery(req.body);
      } catch (error) {
        return void sendJsonError(reply, 400, error instanceof BadQuery ? 'invalid query parameters' : 'invalid request body');
      }
      const { page, limit } = await deps.audit.query(query.filter, query.limit);
      const body = { entries: page.entries.map(toAuditEntryResponse), total: page.total, limit };
      return void reply.header('content-type', JSON_CONTENT_TYPE).send(goJson(body));
    } catch (error) {
      sendError(reply, error, 'failed to query audit log', deps.log);
    }
  };
  return (app) => {
    app.route({ method: ALL_METHODS, url: '/audit/query', handler });
  };
}

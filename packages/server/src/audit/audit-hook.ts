import { normalizeKey } from '@stash/client/core';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { parseStreamFilter } from '../events/sse-wire.js';
import type { AccessControl } from '../shared/access.js';
import { cleanPath, decodePathPart, splitUrl } from '../shared/route-path.js';
import type { Logger } from '../logger.js';
import type { Store } from '../storage/store.js';
import type { AuditLog } from './audit-log.js';
import type { AuditAction, AuditRecord, AuditResult } from './audit-store.js';

export interface AuditHookDeps {
  audit: AuditLog;
  access: AccessControl;
  /** the raw store: a successful batch reads its own change-log entries for create vs update */
  store: Store;
  log: Logger;
}

/** What a `/kv` request names, decided from the URL the way the KV router does. */
type Target = { kind: 'key'; action: AuditAction | 'put'; key: string } | { kind: 'batch' };

const MAX_USER_AGENT = 512;

/**
 * Recording of `/kv` requests (compat 10, with the original's known bugs fixed): one row per
 * request, written once the response is over. Only installed when the audit log is on, so it
 * costs nothing otherwise. List requests are skipped as in the original; history reads are
 * logged under their key; subscriptions as `subscribe` under their key, `prefix/*` or `*`.
 */
export function createAuditRecorder(deps: AuditHookDeps): (app: FastifyInstance) => void {
  return (app) => {
    app.addHook('onRequest', (req, reply, done) => {
      const target = req.url.startsWith('/kv/') ? describeRequest(req.method, req.url) : undefined;
      if (target) {
        const started = new Date();
        // 'close' also fires when a client drops a stream ('finish' would not)
        reply.raw.once('close', () => deps.audit.track(record(deps, req, reply, target, started)));
      }
      done();
    });
  };
}

/** Map a `/kv/...` request to what it touches; undefined for list requests and other methods. */
export function describeRequest(method: string, url: string): Target | undefined {
  const { path } = splitUrl(url);
  if (cleanPath(path) !== path) return undefined; // answered with a redirect: nothing touched
  const rest = path.slice(4);
  const decode = (raw: string): string => normalizeKey(decodePathPart(raw) ?? raw);
  if (method === 'GET' || method === 'HEAD') {
    if (rest === '') return undefined;
    if (rest.startsWith('subscribe/')) return { kind: 'key', action: 'subscribe', key: subscriptionKey(rest.slice(10)) };
    if (rest.startsWith('history/')) return { kind: 'key', action: 'read', key: decode(rest.slice(8)) };
    return { kind: 'key', action: 'read', key: decode(rest) };
  }
  if (method === 'PUT') return { kind: 'key', action: 'put', key: decode(rest) };
  if (method === 'DELETE') return { kind: 'key', action: 'delete', key: decode(rest) };
  if (method === 'POST' && rest === '') return { kind: 'batch' };
  return undefined;
}

function subscriptionKey(raw: string): string {
  const filter = parseStreamFilter(decodePathPart(raw) ?? raw);
  if (!filter) return '';
  if (filter.kind === 'all') return '*';
  return filter.kind === 'prefix' ? `${filter.prefix}*` : filter.key;
}

/** 2xx/304 success, 401/403 denied, 404 not_found, 409/412 conflict, other 4xx invalid, 5xx error. */
export function resultOf(status: number): AuditResult {
  if (status < 400) return 'success';
  if (status === 401 || status === 403) return 'denied';
  if (status === 404) return 'not_found';
  if (status === 409 || status === 412) return 'conflict';
  return status < 500 ? 'invalid' : 'error';
}

async function record(deps: AuditHookDeps, req: FastifyRequest, reply: FastifyReply, target: Target, started: Date): Promise<void> {
  try {
    const res = reply.raw;
    const status = res.statusCode;
    if (status >= 300 && status < 400 && status !== 304) return;
    // a client that left before any answer: what happened is unknown, so it counts as an error
    const result: AuditResult = res.headersSent ? resultOf(status) : 'error';
    const who = await deps.access.identify(req);
    const agent = req.headers['user-agent'];
    const base = {
      timestamp: started,
      actor: who.actor,
      actorType: who.type,
      result,
      ip: req.clientIp,
      userAgent: typeof agent === 'string' ? agent.slice(0, MAX_USER_AGENT) : '',
      requestId: String(reply.getHeader('x-request-id') ?? ''),
    };
    if (target.kind === 'batch') {
      for (const row of await batchRows(deps.store, req, reply, result)) deps.audit.record({ ...base, ...row });
      return;
    }
    const ok = result === 'success';
    let action: AuditAction;
    let valueSize: number | null = null;
    if (target.action === 'put') {
      action = status === 201 ? 'create' : 'update';
      if (ok) valueSize = bodyBytes(req);
    } else {
      action = target.action;
      // the bytes that went out for a read (value or history JSON); a stream has no size
      if (ok && action === 'read') valueSize = Number(reply.getHeader('content-length') ?? 0) || 0;
    }
    deps.audit.record({ ...base, action, key: target.key, valueSize });
  } catch (error) {
    deps.log.error(`audit: could not record ${req.method} request: ${String(error)}`, req.id);
  }
}

const bodyBytes = (req: FastifyRequest): number => (Buffer.isBuffer(req.body) ? req.body.length : 0);

type BatchRow = Pick<AuditRecord, 'action' | 'key' | 'valueSize'>;
interface BatchItem {
  key: string;
  delete: boolean;
  size: number;
}

/** Items as the batch body names them; whatever cannot be read is left out. */
function batchItems(req: FastifyRequest): BatchItem[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.isBuffer(req.body) ? req.body.toString('utf8') : '');
  } catch {
    return [];
  }
  if (!Array.isArray(parsed)) return [];
  const items: BatchItem[] = [];
  for (const raw of parsed as unknown[]) {
    if (typeof raw !== 'object' || raw === null) continue;
    const item = raw as Record<string, unknown>;
    if (typeof item['key'] !== 'string') continue;
    const value = typeof item['value'] === 'string' ? item['value'] : '';
    const size = Buffer.byteLength(value, item['encoding'] === 'base64' ? 'base64' : 'utf8');
    items.push({ key: normalizeKey(item['key']), delete: item['delete'] === true, size });
  }
  return items;
}

/**
 * A batch is audited per item, so key filters find every key it wrote. A committed batch takes
 * create/update/delete from its own change-log entries; a refused one records what was asked
 * (`delete` or `update`, as the original does for a failed PUT); an unreadable body, one row.
 */
async function batchRows(store: Store, req: FastifyRequest, reply: FastifyReply, result: AuditResult): Promise<BatchRow[]> {
  const items = batchItems(req);
  if (items.length === 0) return [{ action: 'update', key: '', valueSize: null }];
  const last = Number(reply.getHeader('x-stash-revision'));
  if (result === 'success' && Number.isInteger(last) && last >= items.length) {
    const sizes = new Map(items.map((i) => [i.key, i.size]));
    const entries = await store.changesSince(last - items.length, items.length);
    if (entries.length === items.length) {
      return entries.map((e) => ({
        action: e.action,
        key: e.key,
        valueSize: e.action === 'delete' ? null : (sizes.get(e.key) ?? null),
      }));
    }
  }
  return items.map((i) => ({ action: i.delete ? 'delete' : 'update', key: i.key, valueSize: null }));
}

import { isFormat, isStdBase64, isZkValue, normalizeKey, type ExportItemResponse } from '@stash/client/core';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { ValidationError } from '../domain/errors.js';
import { requireKey, type BatchWrite } from '../domain/kv-service.js';
import { JSON_CONTENT_TYPE } from '../shared/replies.js';
import { authorize, guarded, type KvRouteDeps } from './kv-context.js';
import { isTruthy, parseNonNegativeInt, queryParam, secretsFilter } from './request-parsing.js';
import { goJson, toHistoryEntry, toKeyInfo } from '../shared/wire-format.js';

const HISTORY_DEFAULT_LIMIT = 50;
const HISTORY_MAX_LIMIT = 1000;

function sendJson(reply: FastifyReply, body: unknown): FastifyReply {
  return reply.header('content-type', JSON_CONTENT_TYPE).send(goJson(body));
}

/** `GET /kv/`: readable keys, newest first; `?values=true` exports values at one revision. */
export async function listKeys(deps: KvRouteDeps, req: FastifyRequest, reply: FastifyReply): Promise<void> {
  req.metricsRoute = 'kv.list';
  const principal = await authorize(deps, req, reply, 'principal', '');
  if (!principal) return;
  await guarded(deps, reply, 'failed to list keys', async () => {
    const filter = secretsFilter(queryParam(req, 'filter'));
    const prefix = queryParam(req, 'prefix') ?? '';
    if (isTruthy(queryParam(req, 'values'))) {
      req.metricsRoute = 'kv.export';
      const { revision, items } = await deps.service.exportValues(prefix);
      const out: ExportItemResponse[] = [];
      for (const item of items) {
        if (!principal.canRead(item.key)) continue;
        if ((filter === 'secrets' && !item.secret) || (filter === 'keys' && item.secret)) continue;
        const value = Buffer.from(item.value.buffer, item.value.byteOffset, item.value.byteLength);
        const info = toKeyInfo({ ...item, size: value.length, zkEncrypted: isZkValue(value) });
        out.push({ ...info, value: value.toString('base64') });
      }
      return sendJson(reply.header('x-stash-revision', String(revision)), out);
    }
    const body = await deps.listCache.body(
      prefix,
      filter,
      () => deps.service.revision(),
      (revision) => deps.service.list(prefix, filter, revision),
      (key) => principal.canRead(key),
    );
    return reply.header('content-type', JSON_CONTENT_TYPE).send(body);
  });
}

function parseBatch(body: unknown): BatchWrite[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.isBuffer(body) ? body.toString('utf8') : '');
  } catch {
    throw new ValidationError('invalid batch: body must be a JSON array');
  }
  if (!Array.isArray(parsed)) throw new ValidationError('invalid batch: body must be a JSON array');
  if (parsed.length === 0) throw new ValidationError('invalid batch: no items');
  const seen = new Set<string>();
  return parsed.map((raw: unknown, i): BatchWrite => {
    const where = `invalid batch item ${i}`;
    if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new ValidationError(`${where}: must be an object`);
    const item = raw as Record<string, unknown>;
    for (const field of Object.keys(item)) {
      if (!['key', 'value', 'format', 'encoding', 'delete'].includes(field)) {
        throw new ValidationError(`${where}: unknown field "${field}"`);
      }
    }
    if (typeof item['key'] !== 'string') throw new ValidationError(`${where}: key must be a string`);
    const key = normalizeKey(item['key']);
    if (key === '') throw new ValidationError(`${where}: key is required`);
    if (key.includes('\u0000')) throw new ValidationError(`${where}: key must not contain NUL characters`);
    if (seen.has(key)) throw new ValidationError(`${where}: duplicate key "${key}"`);
    seen.add(key);
    if (item['delete'] !== undefined && typeof item['delete'] !== 'boolean') {
      throw new ValidationError(`${where}: delete must be a boolean`);
    }
    if (item['delete'] === true) return { key, delete: true };
    const format = item['format'] ?? 'text';
    if (!isFormat(format)) throw new ValidationError(`${where}: unknown format ${JSON.stringify(format)}`);
    const encoding = item['encoding'] ?? 'text';
    if (encoding !== 'text' && encoding !== 'base64') throw new ValidationError(`${where}: encoding must be text or base64`);
    const value = item['value'];
    if (typeof value !== 'string') throw new ValidationError(`${where}: value must be a string`);
    if (encoding === 'base64' && !isStdBase64(value)) throw new ValidationError(`${where}: value is not valid base64`);
    return { key, value: Buffer.from(value, encoding === 'base64' ? 'base64' : 'utf8'), format };
  });
}

/** `POST /kv/`: all items in one transaction; any failure writes nothing. */
export async function batchWrite(deps: KvRouteDeps, req: FastifyRequest, reply: FastifyReply): Promise<void> {
  req.metricsRoute = 'kv.batch';
  const principal = await authorize(deps, req, reply, 'principal', '');
  if (!principal) return;
  await guarded(deps, reply, 'failed to apply batch', async () => {
    const items = parseBatch(req.body);
    if (deps.access.enabled && items.some((item) => !principal.canWrite(item.key))) {
      return reply.code(403).header('content-type', 'text/plain; charset=utf-8').send('Forbidden\n');
    }
    const entries = await deps.service.batch(items, principal.actor);
    const revision = entries[entries.length - 1]?.revision ?? 0;
    deps.log.info(`batch of ${entries.length} writes (revision ${revision})`, req.id);
    return sendJson(reply.header('x-stash-revision', String(revision)), { revision });
  });
}

/** `GET /kv/history/{key}`: newest first, from the change log (or git when mirrored). */
export async function keyHistory(deps: KvRouteDeps, req: FastifyRequest, reply: FastifyReply, rawKey: string): Promise<void> {
  req.metricsRoute = 'kv.history';
  if (!(await authorize(deps, req, reply, 'read', normalizeKey(rawKey)))) return;
  await guarded(deps, reply, 'failed to get history', async () => {
    const key = requireKey(rawKey);
    const rawLimit = queryParam(req, 'limit');
    const limit = rawLimit === undefined ? HISTORY_DEFAULT_LIMIT : parseNonNegativeInt(rawLimit, 'limit parameter');
    if (limit === 0) throw new ValidationError('invalid limit parameter');
    const bounded = Math.min(limit, HISTORY_MAX_LIMIT);
    const entries = deps.history
      ? await deps.history(key, bounded)
      : (await deps.service.history(key, bounded)).map(toHistoryEntry);
    return sendJson(reply, entries);
  });
}

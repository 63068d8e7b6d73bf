import { normalizeKey } from '@stash/client/core';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { assertValidKey, isValidKey, requireKey } from '../domain/kv-service.js';
import { ValidationError } from '../domain/errors.js';
import type { KeyRecord } from '../storage/store.js';
import { contentHeaderPairs, revisionHeaderPairs } from './value-headers.js';
import { authorize, principalOrRefusal, guarded, type KvRouteDeps } from './kv-context.js';
import { sendError, setHeaderPairs } from '../shared/replies.js';
import { noneMatchHits, parseNonNegativeInt, queryParam, requestFormat, writeCondition } from './request-parsing.js';

const EMPTY = Buffer.alloc(0);

function revisionHeaders(reply: FastifyReply, revision: number): FastifyReply {
  return setHeaderPairs(reply, revisionHeaderPairs(revision));
}

/**
 * `GET /kv/{key}`: raw value, Content-Type from its format, revision in ETag. The hot path:
 * one normalisation, no closure, single header calls instead of header objects.
 */
export async function getKey(deps: KvRouteDeps, req: FastifyRequest, reply: FastifyReply, rawKey: string): Promise<void> {
  req.metricsRoute = 'kv.get';
  const key = normalizeKey(rawKey);
  // a readable key whose row is in memory is answered without a single await
  const now = deps.access.authorizeNow(req, 'read', key);
  const consistency = queryParam(req, 'consistency');
  if (now?.ok && isValidKey(key) && queryParam(req, 'revision') === undefined && consistency === undefined) {
    const held = deps.service.peek(key);
    if (held) return sendValue(req, reply, held);
  }
  if (!principalOrRefusal(reply, now ?? (await deps.access.authorize(req, 'read', key)))) return;
  try {
    assertValidKey(key);
    const at = queryParam(req, 'revision');
    if (consistency !== undefined && consistency !== 'linearizable') {
      if (consistency !== 'serializable') throw new ValidationError('consistency must be linearizable or serializable');
      const held = at === undefined ? deps.service.peekStale(key) : undefined;
      if (held) return sendValue(req, reply, held);
    }
    sendValue(req, reply, await deps.service.get(key, at === undefined ? undefined : parseNonNegativeInt(at, 'revision parameter')));
  } catch (error) {
    sendError(reply, error, 'failed to get key', deps.log);
  }
}

/** A value with its revision headers, Content-Type from its format, sandboxed; 304 when the client has it. */
function sendValue(req: FastifyRequest, reply: FastifyReply, kv: KeyRecord): void {
  revisionHeaders(reply, kv.revision);
  const inm = req.headers['if-none-match'];
  if (typeof inm === 'string' && inm !== '' && noneMatchHits(inm, kv.revision)) return void reply.code(304).send();
  void setHeaderPairs(reply, contentHeaderPairs(kv.format)).send(
    Buffer.from(kv.value.buffer, kv.value.byteOffset, kv.value.byteLength),
  );
}

/** `PUT /kv/{key}`: 201 on create, 200 on update, empty body; conditional with If-Match / cas. */
export async function putKey(deps: KvRouteDeps, req: FastifyRequest, reply: FastifyReply, rawKey: string): Promise<void> {
  req.metricsRoute = 'kv.put';
  const principal = await authorize(deps, req, reply, 'write', normalizeKey(rawKey));
  if (!principal) return;
  await guarded(deps, reply, 'failed to set key', async () => {
    const key = requireKey(rawKey);
    const ifRevision = writeCondition(req);
    const body = Buffer.isBuffer(req.body) ? req.body : EMPTY;
    const entry = await deps.service.put(key, body, requestFormat(req), { ifRevision, actor: principal.actor });
    deps.log.info(`set ${key} (${entry.action}, revision ${entry.revision})`, req.id);
    return revisionHeaders(reply, entry.revision).code(entry.action === 'create' ? 201 : 200).send();
  });
}

/** `DELETE /kv/{key}`: 204, or 404 when absent. */
export async function deleteKey(deps: KvRouteDeps, req: FastifyRequest, reply: FastifyReply, rawKey: string): Promise<void> {
  req.metricsRoute = 'kv.delete';
  const principal = await authorize(deps, req, reply, 'write', normalizeKey(rawKey));
  if (!principal) return;
  await guarded(deps, reply, 'failed to delete key', async () => {
    const key = requireKey(rawKey);
    const entry = await deps.service.delete(key, { ifRevision: writeCondition(req), actor: principal.actor });
    deps.log.info(`deleted ${key} (revision ${entry.revision})`, req.id);
    return revisionHeaders(reply, entry.revision).code(204).send();
  });
}

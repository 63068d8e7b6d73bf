import type { IncomingMessage, ServerResponse } from 'node:http';
import { isSecretKey, normalizeKey } from '@stash/client/core';
import { isValidKey, type KvService } from '../domain/kv-service.js';
import type { AccessControl } from '../shared/access.js';
import { isPing, RATE_LIMITED_BODY, requestId, type GuardChain } from './guard-chain.js';
import { isPlainKeyPath } from './kv-routes.js';
import { cleanPath } from '../shared/route-path.js';
import { contentHeaderPairs, revisionHeaderPairs } from './value-headers.js';
import type { KeyRecord } from '../storage/store.js';
import { classifyStorageError } from '../storage/storage-errors.js';
import { JSON_CONTENT_TYPE } from '../shared/replies.js';
import { goJson } from '../shared/wire-format.js';

const UNAVAILABLE_BODY = Buffer.from(goJson({ error: 'database unavailable' }));

export interface FastReadDeps {
  chain: GuardChain;
  service: KvService;
  access: AccessControl;
  baseUrl: string;
}

type Handler = (req: IncomingMessage, res: ServerResponse) => void;

/**
 * A raw Node request handler that answers the requests it can and returns false for the rest.
 * A request it took but cannot finish (the key is absent, the database failed) goes to `fallback`.
 */
export interface FastRead {
  (req: IncomingMessage, res: ServerResponse, fallback: Handler): boolean;
  /** stop answering (shutdown): every request goes to fastify, which answers 503 while closing */
  disable(): void;
}

/**
 * The hot path of a configuration service: `GET /kv/{key}` of a readable, non-secret key whose
 * row is in memory, answered straight on Node's request, ahead of fastify. It takes a request
 * only when nothing but the happy path can follow (a plain clean key path, no query, no body,
 * no If-None-Match, access decided without a lookup, the row held): everything else, refusals
 * included, goes to fastify's full chain. What it does answer is byte-for-byte what the full
 * chain answers (test/http/fast-read.test.ts compares them), through the same GuardChain steps.
 *
 * On a shared database (PostgreSQL) no row is held without a fence, so the path takes the request
 * and answers once the batched, linearizable read returns; an absent key or a failure goes to
 * fastify, which answers it in full.
 */
export function createFastRead(deps: FastReadDeps): FastRead {
  const { chain, service, access } = deps;
  const prefix = `${deps.baseUrl}/kv/`;
  const timing = chain.timing('kv.get', 200);
  let enabled = true;

  const read = (req: IncomingMessage, res: ServerResponse, fallback: Handler): boolean => {
    if (!enabled || req.method !== 'GET') return false;
    const url = req.url ?? '';
    if (!url.startsWith(prefix) || url.includes('?') || url.includes('%') || isPing('GET', url)) return false;
    const path = url.slice(deps.baseUrl.length);
    const rest = path.slice(4);
    if (!isPlainKeyPath(rest) || cleanPath(path) !== path) return false;
    const headers = req.headers;
    if (headers['content-length'] !== undefined || headers['transfer-encoding'] !== undefined) return false;
    if (headers['if-none-match'] !== undefined) return false;
    const key = normalizeKey(rest);
    if (!isValidKey(key)) return false;
    const decision = access.authorizeNow(req, 'read', key);
    if (decision === undefined || !decision.ok) return false;
    const held = service.peek(key);
    // waiting for the database: only where nothing but the value can follow (no second token, no secret)
    if (!held && (!service.readsWait || chain.rateLimited || isSecretKey(key))) return false;

    // ours from here: the original's chain in its order, then the value
    const started = performance.now();
    let out: string[] = [];
    if (chain.rateLimited) {
      const token = chain.takeToken(chain.clientIp(req), headers);
      if (token.refused) {
        token.headers.push('content-type', 'text/plain; charset=utf-8', 'content-length', String(RATE_LIMITED_BODY.length));
        res.writeHead(429, token.headers).end(RATE_LIMITED_BODY);
        return true;
      }
      out = token.headers;
    }
    if (chain.saturated) {
      out.push('content-length', '0');
      res.writeHead(503, out).end();
      return true;
    }
    out.push('x-request-id', requestId(headers), ...chain.appHeaders);
    const answer = (record: KeyRecord): void => {
      out.push(...revisionHeaderPairs(record.revision), ...contentHeaderPairs(record.format));
      out.push('content-length', String(record.value.byteLength));
      res.writeHead(200, out).end(record.value);
      timing.observe((performance.now() - started) / 1000);
    };
    if (held) {
      answer(held);
      return true;
    }
    service.getRecord(key).then(
      (record) => {
        if (res.destroyed) return;
        if (record) answer(record);
        else fallback(req, res);
      },
      (error: unknown) => {
        if (res.destroyed) return;
        // the database is down: answer now, as the full chain would, instead of reading again there
        if (classifyStorageError(error) !== 'unavailable') return fallback(req, res);
        out.push('retry-after', '1', 'content-type', JSON_CONTENT_TYPE, 'content-length', String(UNAVAILABLE_BODY.length));
        res.writeHead(503, out).end(UNAVAILABLE_BODY);
      },
    );
    return true;
  };
  return Object.assign(read, { disable: () => void (enabled = false) });
}

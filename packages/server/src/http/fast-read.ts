import type { IncomingMessage, ServerResponse } from 'node:http';
import { normalizeKey } from '@stash/client/core';
import { isValidKey, type KvService } from '../domain/kv-service.js';
import type { AccessControl } from '../shared/access.js';
import { isPing, RATE_LIMITED_BODY, requestId, type GuardChain } from './guard-chain.js';
import { isPlainKeyPath } from './kv-routes.js';
import { cleanPath } from '../shared/route-path.js';
import { contentHeaderPairs, revisionHeaderPairs } from './value-headers.js';

export interface FastReadDeps {
  chain: GuardChain;
  service: KvService;
  access: AccessControl;
  baseUrl: string;
}

/** A raw Node request handler that answers the requests it can and returns false for the rest. */
export interface FastRead {
  (req: IncomingMessage, res: ServerResponse): boolean;
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
 */
export function createFastRead(deps: FastReadDeps): FastRead {
  const { chain, service, access } = deps;
  const prefix = `${deps.baseUrl}/kv/`;
  const timing = chain.timing('kv.get', 200);
  let enabled = true;

  const read = (req: IncomingMessage, res: ServerResponse): boolean => {
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
    if (!held) return false;

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
    out.push(...revisionHeaderPairs(held.revision), ...contentHeaderPairs(held.format));
    out.push('content-length', String(held.value.byteLength));
    res.writeHead(200, out).end(held.value);
    timing.observe((performance.now() - started) / 1000);
    return true;
  };
  return Object.assign(read, { disable: () => void (enabled = false) });
}

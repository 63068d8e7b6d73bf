import { createHash } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { ALL_METHODS, JSON_CONTENT_TYPE, methodNotAllowed } from '../shared/replies.js';

interface Served {
  body: Buffer;
  etag: string;
}

/** If-None-Match, compared weakly (RFC 9110 13.1.2). */
function matches(header: string | undefined, etag: string): boolean {
  return (header ?? '').split(',').some((tag) => {
    const t = tag.trim();
    return t === '*' || t === etag || t === `W/${etag}`;
  });
}

/** An hour: the document changes only with the server build, and a revalidation is a 304. */
const CACHE_CONTROL = 'public, max-age=3600';

/**
 * `GET /openapi.json`: the OpenAPI document (openapi.ts), without auth. It describes routes and
 * shapes, never data or configuration (the same document whatever is enabled), so it tells a
 * caller nothing the source does not. Built on the first request: a server nobody asks pays nothing.
 */
export function registerOpenApiRoute(app: FastifyInstance, baseUrl: string): void {
  let served: Promise<Served> | undefined;
  const load = async (): Promise<Served> => {
    const { openApiJson } = await import('./openapi.js');
    const body = Buffer.from(openApiJson(baseUrl));
    return { body, etag: `"${createHash('sha256').update(body).digest('hex').slice(0, 16)}"` };
  };
  app.route({
    method: ALL_METHODS,
    url: '/openapi.json',
    handler: async (req, reply) => {
      req.metricsRoute = 'openapi';
      if (req.method !== 'GET' && req.method !== 'HEAD') return methodNotAllowed(reply, 'GET, HEAD');
      const { body, etag } = await (served ??= load());
      reply.header('etag', etag).header('cache-control', CACHE_CONTROL);
      if (matches(req.headers['if-none-match'], etag)) return reply.code(304).send();
      return reply.header('content-type', JSON_CONTENT_TYPE).header('x-content-type-options', 'nosniff').send(body);
    },
  });
}

import type { FastifyReply, HTTPMethods } from 'fastify';
import { ConflictError, DomainError } from '../domain/errors.js';
import type { Logger } from '../logger.js';
import { classifyStorageError } from '../storage/storage-errors.js';
import { goJson } from './wire-format.js';

/** Methods a route answers itself so that it can send 405 with `Allow` as Go's mux does. */
export const ALL_METHODS: HTTPMethods[] = ['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS'];

const TEXT = 'text/plain; charset=utf-8';

/** Set headers given as name/value pairs (the shape GuardChain and value-headers produce). */
export function setHeaderPairs(reply: FastifyReply, pairs: readonly string[]): FastifyReply {
  for (let i = 0; i < pairs.length; i += 2) reply.header(pairs[i] as string, pairs[i + 1]);
  return reply;
}

/** Go's http.Error: plain text with a trailing newline and `nosniff`. */
export function plainError(reply: FastifyReply, status: number, message: string): void {
  void reply.code(status).header('content-type', TEXT).header('x-content-type-options', 'nosniff').send(`${message}\n`);
}

export function methodNotAllowed(reply: FastifyReply, allow: string): void {
  plainError(reply.header('allow', allow), 405, 'Method Not Allowed');
}

export function notFound(reply: FastifyReply): void {
  plainError(reply, 404, '404 page not found');
}

const HTML_ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&#34;', "'": '&#39;' };

/**
 * 301 to a path under the base URL, keeping the query string, as Go's http.Redirect answers it:
 * an HTML body for GET only, the HTML content type for GET and HEAD, nothing for other methods.
 */
export function redirect(reply: FastifyReply, baseUrl: string, path: string, query: string): void {
  const target = `${baseUrl}${path}${query ? `?${query}` : ''}`;
  const method = reply.request.method;
  void reply.code(301).header('location', target);
  if (method === 'GET' || method === 'HEAD') reply.header('content-type', 'text/html; charset=utf-8');
  if (method !== 'GET') return void reply.send();
  const href = target.replace(/[&<>"']/g, (c) => HTML_ESCAPES[c] ?? c);
  void reply.send(`<a href="${href}">Moved Permanently</a>.\n\n`);
}

const STATUS: Record<DomainError['code'], number> = {
  validation: 400,
  unauthorized: 401,
  forbidden: 403,
  not_found: 404,
  conflict: 412,
  internal: 500,
  unavailable: 503,
};

export const JSON_CONTENT_TYPE = 'application/json; charset=utf-8';

/** `{"error": message}` with the given status, as the original's SendErrorJSON. */
export function sendJsonError(reply: FastifyReply, status: number, message: string, extra?: object): FastifyReply {
  return reply
    .code(status)
    .header('content-type', JSON_CONTENT_TYPE)
    .send(goJson({ error: message, ...extra }));
}

/**
 * The one mapping from errors to HTTP answers. Domain errors keep their message; an unreachable
 * database is 503 and a full one 507 (storage-errors.ts); anything else is logged with the
 * request id and answered 500 with `fallback`.
 */
export function sendError(reply: FastifyReply, error: unknown, fallback: string, log: Logger): FastifyReply {
  if (error instanceof ConflictError) {
    reply.header('x-stash-revision', String(error.currentRevision));
    return sendJsonError(reply, 412, error.message, { revision: error.currentRevision });
  }
  if (error instanceof DomainError) {
    if (error.code === 'internal') log.error(`${fallback}: ${String(error.cause ?? error)}`, reply.request.id);
    return sendJsonError(reply, STATUS[error.code], error.message);
  }
  const storage = classifyStorageError(error);
  if (storage === 'unavailable') {
    // the database is down, cut off or silent: say so and let the client retry (no stack, it floods the log)
    log.warn(`${fallback}: database unavailable: ${String(error)}`, reply.request.id);
    return sendJsonError(reply.header('retry-after', '1'), 503, 'database unavailable');
  }
  if (storage === 'full') {
    log.error(`${fallback}: storage full: ${String(error)}`, reply.request.id);
    return sendJsonError(reply, 507, 'insufficient storage');
  }
  log.error(`${fallback}: ${error instanceof Error ? error.stack ?? error.message : String(error)}`, reply.request.id);
  return sendJsonError(reply, 500, fallback);
}

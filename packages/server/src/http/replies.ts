import type { FastifyReply, HTTPMethods } from 'fastify';

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

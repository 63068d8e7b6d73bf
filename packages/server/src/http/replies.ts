import type { FastifyReply, HTTPMethods } from 'fastify';

/** Methods a route answers itself so that it can send 405 with `Allow` as Go's mux does. */
export const ALL_METHODS: HTTPMethods[] = ['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS'];

export function methodNotAllowed(reply: FastifyReply, allow: string): void {
  void reply.code(405).header('allow', allow).type('text/plain; charset=utf-8').send('Method Not Allowed\n');
}

/** 301 to a path under the base URL, keeping the query string. */
export function redirect(reply: FastifyReply, baseUrl: string, path: string, query: string): void {
  void reply
    .code(301)
    .header('location', `${baseUrl}${path}${query ? `?${query}` : ''}`)
    .type('text/html; charset=utf-8')
    .send(`<a href="${baseUrl}${path}">Moved Permanently</a>.\n\n`);
}

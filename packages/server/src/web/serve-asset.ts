import type { FastifyReply, FastifyRequest } from 'fastify';
import { notFound } from '../shared/replies.js';
import { pickEncoding } from './respond.js';
import type { StaticAssets } from './static-assets.js';

const YEAR = 'public, max-age=31536000, immutable';

/**
 * `GET /static/{name}`: from memory, compressed as the client accepts. A URL that names the
 * current content (`?v=<hash>`, as the pages link it) is cached for a year; any other is
 * revalidated by ETag, so old bookmarks of `/static/style.css` keep working.
 */
export function serveAsset(req: FastifyRequest, reply: FastifyReply, assets: StaticAssets, name: string, version: string | null): void {
  const asset = assets.get(name);
  if (!asset) return notFound(reply);
  const etag = `"${asset.hash}"`;
  reply
    .header('content-type', asset.type)
    .header('etag', etag)
    .header('vary', 'Accept-Encoding')
    .header('x-content-type-options', 'nosniff')
    .header('cache-control', version === asset.hash ? YEAR : 'no-cache');
  if (req.headers['if-none-match'] === etag) return void reply.code(304).send();
  const encoding = pickEncoding(req.headers['accept-encoding']);
  const body = encoding === 'br' ? asset.br : encoding === 'gzip' ? asset.gzip : asset.body;
  if (encoding) reply.header('content-encoding', encoding);
  void reply.code(200).send(body);
}

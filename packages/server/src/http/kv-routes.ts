import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { batchWrite, keyHistory, listKeys } from './kv-collection-handlers.js';
import type { KvRouteDeps } from './kv-context.js';
import { deleteKey, getKey, putKey } from './kv-key-handlers.js';
import { methodNotAllowed, redirect, sendJsonError } from '../shared/replies.js';
import { cleanPath, decodePathPart } from '../shared/route-path.js';

const KEY_METHODS = 'DELETE, GET, HEAD, PUT';
const ROOT_METHODS = 'DELETE, GET, HEAD, POST, PUT';
const INVALID_ESCAPE = 'invalid URL escape';

/** The `Allow` header Go's mux sends for a path under `/kv/` (`rest` is the part after it). */
export function kvAllowedMethods(rest: string): string {
  return rest === '' ? ROOT_METHODS : KEY_METHODS;
}

/**
 * Length of a leading `history/` or `subscribe/` segment, matched as Go's mux matches literal
 * segments: after percent-decoding (`%68istory/x` is history, `history%2Fx` is a key). 0 if none.
 */
function specialSegment(rest: string, name: 'history' | 'subscribe'): number {
  if (rest.startsWith(name) && rest.charCodeAt(name.length) === 0x2f) return name.length + 1;
  const slash = rest.indexOf('/');
  const pct = rest.indexOf('%');
  if (pct === -1 || slash === -1 || pct > slash) return 0;
  return decodePathPart(rest.slice(0, slash)) === name ? slash + 1 : 0;
}

/** True when a GET of `/kv/{rest}` is a plain key read (not the list, history or a stream). */
export function isPlainKeyPath(rest: string): boolean {
  return rest !== '' && specialSegment(rest, 'history') === 0 && specialSegment(rest, 'subscribe') === 0;
}

/**
 * `/kv` routes with Go ServeMux semantics (compat 3.3-3.4): the raw path is cleaned and
 * percent-decoded here, so `%2A`, `%2F` and `%20` reach the key exactly as the clients sent them.
 * Methods not registered here reach the not-found handler, which answers 405 via kvAllowedMethods.
 */
export function registerKvRoutes(app: FastifyInstance, deps: KvRouteDeps): void {
  const dispatch = async (req: FastifyRequest, reply: FastifyReply): Promise<void> => {
    const url = req.url;
    const q = url.indexOf('?');
    const path = q === -1 ? url : url.slice(0, q);
    const cleaned = cleanPath(path);
    if (cleaned !== path) return redirect(reply, deps.baseUrl, cleaned, q === -1 ? '' : url.slice(q + 1));
    const rest = path.slice(4);
    const method = req.method;
    if (method === 'GET' || method === 'HEAD') {
      if (rest === '') return listKeys(deps, req, reply);
      const history = specialSegment(rest, 'history');
      if (history > 0) {
        const key = decodePathPart(rest.slice(history));
        if (key === undefined) return void sendJsonError(reply, 400, INVALID_ESCAPE);
        return keyHistory(deps, req, reply, key);
      }
      const subscribe = specialSegment(rest, 'subscribe');
      if (subscribe > 0) {
        req.metricsRoute = 'kv.subscribe';
        if (deps.streams) return deps.streams(req, reply, rest.slice(subscribe));
        return void sendJsonError(reply, 501, 'change streams are not available');
      }
    } else if (method === 'POST') {
      return rest === '' ? batchWrite(deps, req, reply) : methodNotAllowed(reply, KEY_METHODS);
    }
    const key = decodePathPart(rest);
    if (key === undefined) return void sendJsonError(reply, 400, INVALID_ESCAPE);
    if (method === 'PUT') return putKey(deps, req, reply, key);
    if (method === 'DELETE') return deleteKey(deps, req, reply, key);
    return getKey(deps, req, reply, key);
  };

  // Go's mux redirects `/kv` to `/kv/` only for methods some `/kv/` pattern serves; others get 404
  app.route({
    method: ['GET', 'HEAD', 'POST', 'PUT', 'DELETE'],
    url: '/kv',
    handler: (req, reply) => {
      const q = req.url.indexOf('?');
      redirect(reply, deps.baseUrl, '/kv/', q === -1 ? '' : req.url.slice(q + 1));
    },
  });
  app.route({ method: ['GET', 'HEAD', 'POST', 'PUT', 'DELETE'], url: '/kv/*', handler: dispatch });
}

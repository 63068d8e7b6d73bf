import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { batchWrite, keyHistory, listKeys } from './kv-collection-handlers.js';
import type { KvRouteDeps } from './kv-context.js';
import { deleteKey, getKey, putKey } from './kv-key-handlers.js';
import { sendJsonError } from './error-response.js';
import { ALL_METHODS, methodNotAllowed, redirect } from './replies.js';
import { cleanPath, decodePathPart, splitUrl } from './route-path.js';

const KEY_METHODS = 'DELETE, GET, HEAD, PUT';
const ROOT_METHODS = 'DELETE, GET, HEAD, POST, PUT';

/**
 * `/kv` routes with Go ServeMux semantics (compat 3.3-3.4): the raw path is cleaned and
 * percent-decoded here, so `%2A`, `%2F` and `%20` reach the key exactly as the clients sent them.
 */
export function registerKvRoutes(app: FastifyInstance, deps: KvRouteDeps): void {
  const dispatch = async (req: FastifyRequest, reply: FastifyReply): Promise<void> => {
    const { path, query } = splitUrl(req.url);
    const cleaned = cleanPath(path);
    if (cleaned !== path) return redirect(reply, deps.baseUrl, cleaned, query);
    const rest = path.slice(4);
    const method = req.method;
    const isGet = method === 'GET' || method === 'HEAD';
    if (rest === '') {
      if (isGet) return listKeys(deps, req, reply);
      if (method === 'POST') return batchWrite(deps, req, reply);
      if (method !== 'PUT' && method !== 'DELETE') return methodNotAllowed(reply, ROOT_METHODS);
    }
    if (isGet && rest.startsWith('subscribe/')) {
      req.metricsRoute = 'kv.subscribe';
      if (deps.streams) return deps.streams(req, reply, rest.slice(10));
      return void sendJsonError(reply, 501, 'change streams are not available');
    }
    const isHistory = isGet && rest.startsWith('history/');
    const key = decodePathPart(isHistory ? rest.slice(8) : rest);
    if (key === undefined) return void sendJsonError(reply, 400, 'invalid URL escape');
    if (isHistory) return keyHistory(deps, req, reply, key);
    if (isGet) return getKey(deps, req, reply, key);
    if (method === 'PUT') return putKey(deps, req, reply, key);
    if (method === 'DELETE') return deleteKey(deps, req, reply, key);
    return methodNotAllowed(reply, KEY_METHODS);
  };

  app.route({ method: ALL_METHODS, url: '/kv', handler: (req, reply) => redirect(reply, deps.baseUrl, '/kv/', splitUrl(req.url).query) });
  app.route({ method: ALL_METHODS, url: '/kv/*', handler: dispatch });
}

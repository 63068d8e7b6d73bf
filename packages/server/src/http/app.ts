import Fastify, { type FastifyError, type FastifyInstance } from 'fastify';
import type { Metrics } from '../metrics/metrics.js';
import type { KvService } from '../domain/kv-service.js';
import type { Logger } from '../logger.js';
import { OPEN_ACCESS, type AccessControl } from './access.js';
import { answerClientError, sendFrameworkError, sendJsonError } from './error-response.js';
import type { HistoryProvider, StreamHandler } from './kv-context.js';
import { kvAllowedMethods, registerKvRoutes } from './kv-routes.js';
import { ListCache } from './list-cache.js';
import { registerMetricsRoute } from './metrics-route.js';
import { createRequestGuards } from './request-guards.js';
import { methodNotAllowed, notFound, redirect } from './replies.js';
import { cleanPath, splitUrl } from './route-path.js';

export interface AppOptions {
  version: string;
  baseUrl: string;
  bodyLimit: number;
  requestsPerSec: number;
  maxConcurrent: number;
  trustedProxies: readonly string[];
  readTimeoutMs: number;
  writeTimeoutMs: number;
  idleTimeoutMs: number;
  metricsToken?: string | undefined;
}

export interface AppDeps {
  service: KvService;
  log: Logger;
  access?: AccessControl | undefined;
  metrics?: Metrics | undefined;
  streams?: StreamHandler | undefined;
  history?: HistoryProvider | undefined;
  /** further route groups (auth pages, audit, web UI), registered after the KV routes */
  plugins?: ReadonlyArray<(app: FastifyInstance) => void> | undefined;
}

const BASE_ROOT = '/\u0000base-root';
const OUTSIDE_BASE = '/\u0000outside-base';

/** Build the HTTP app: global guards in the original's order, then the route groups. */
export function createApp(deps: AppDeps, options: AppOptions): FastifyInstance {
  const base = options.baseUrl;
  const app = Fastify({
    logger: false,
    bodyLimit: options.bodyLimit,
    keepAliveTimeout: options.idleTimeoutMs,
    requestTimeout: options.writeTimeoutMs,
    // drain on close: idle keep-alive sockets go at once, in-flight requests finish (compose cuts them after the shutdown timeout)
    forceCloseConnections: 'idle',
    return503OnClosing: true,
    // Go's DefaultMaxHeaderBytes: the request line counts, and keys have no length limit (compat 4.1)
    http: { maxHeaderSize: 1 << 20 },
    genReqId: () => '',
    rewriteUrl: base
      ? (req) => {
          const url = req.url ?? '/';
          if (url.startsWith(`${base}/`)) return url.slice(base.length);
          if (url === base || url.startsWith(`${base}?`)) return BASE_ROOT;
          return OUTSIDE_BASE;
        }
      : undefined,
    frameworkErrors: (error, _req, reply) => {
      void sendJsonError(reply, 400, error.code === 'FST_ERR_BAD_URL' ? 'invalid URL escape' : error.message);
    },
    clientErrorHandler: answerClientError,
  });
  app.server.headersTimeout = options.readTimeoutMs;

  app.decorateRequest('clientIp', '');
  app.decorateRequest('metricsRoute', '');
  app.decorateRequest('leaveInFlight', null as unknown as () => void);

  const guards = createRequestGuards({ ...options, metrics: deps.metrics });
  app.addHook('onRequest', guards.onRequest);
  app.addHook('onClose', (_app, done) => {
    guards.close();
    done();
  });

  // every body is raw bytes: values are stored as sent, batches are parsed by their handler
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: options.bodyLimit }, (_req, body, done) => {
    done(null, body);
  });

  app.setErrorHandler((error: FastifyError, _req, reply) => sendFrameworkError(reply, error, deps.log));

  app.setNotFoundHandler((req, reply) => {
    const { path, query } = splitUrl(req.url);
    // the bare base redirects as Go's http.Redirect(base + "/"), which drops the query
    if (path === BASE_ROOT) return redirect(reply, base, '/', '');
    if (path === OUTSIDE_BASE) return notFound(reply);
    const cleaned = cleanPath(path);
    if (cleaned !== path) return redirect(reply, base, cleaned, query);
    if (path.startsWith('/kv/')) return methodNotAllowed(reply, kvAllowedMethods(path.slice(4)));
    return notFound(reply);
  });

  registerKvRoutes(app, {
    service: deps.service,
    listCache: new ListCache(),
    access: deps.access ?? OPEN_ACCESS,
    log: deps.log,
    baseUrl: base,
    streams: deps.streams,
    history: deps.history,
  });
  if (deps.metrics) registerMetricsRoute(app, deps.metrics, options.metricsToken ?? '');
  for (const plugin of deps.plugins ?? []) plugin(app);
  return app;
}

import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import Fastify, { type FastifyError, type FastifyInstance } from 'fastify';
import type { Metrics } from '../metrics/metrics.js';
import type { KvService } from '../domain/kv-service.js';
import type { Logger } from '../logger.js';
import { OPEN_ACCESS, type AccessControl } from '../shared/access.js';
import type { HistoryProvider, StreamHandler } from '../shared/ports.js';
import { methodNotAllowed, notFound, redirect, sendJsonError } from '../shared/replies.js';
import { cleanPath, splitUrl } from '../shared/route-path.js';
import { answerClientError, answerConnect, sendFrameworkError } from './error-response.js';
import { kvAllowedMethods, registerKvRoutes } from './kv-routes.js';
import { ListCache } from './list-cache.js';
import { registerMetricsRoute } from './metrics-route.js';
import { registerOpenApiRoute } from './openapi-route.js';
import { createFastRead, type FastRead } from './fast-read.js';
import { GuardChain } from './guard-chain.js';
import { guardHook } from './request-guards.js';
import { accessLogHook } from './access-log.js';

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
  /**
   * Answer plain GETs of in-memory keys ahead of fastify (http/fast-read.ts). Off when a route
   * group observes every request itself (the audit log).
   */
  fastReads?: boolean | undefined;
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

const ABSOLUTE_FORM = /^[a-z][a-z0-9+.-]*:\/\/[^/?#]*/i;

/**
 * Request targets that are not a path, as Go's server takes them: absolute-form
 * (`GET http://host/kv/x`) is routed by its path; asterisk-form is answered 200 for OPTIONS and
 * 400 otherwise (ServeMux). False when it answered.
 */
function originForm(req: IncomingMessage, res: ServerResponse): boolean {
  const target = req.url ?? '';
  const absolute = ABSOLUTE_FORM.exec(target);
  if (absolute) {
    const rest = target.slice(absolute[0].length);
    req.url = rest.startsWith('/') ? rest : `/${rest}`;
    return true;
  }
  const ok = target === '*' && req.method === 'OPTIONS';
  res.writeHead(ok ? 200 : 400, { 'content-length': '0', ...(ok ? {} : { connection: 'close' }) }).end();
  return false;
}

const BASE_ROOT = '/\u0000base-root';
const OUTSIDE_BASE = '/\u0000outside-base';

/** Build the HTTP app: global guards in the original's order, then the route groups. */
export function createApp(deps: AppDeps, options: AppOptions): FastifyInstance {
  const base = options.baseUrl;
  const access = deps.access ?? OPEN_ACCESS;
  const chain = new GuardChain({ ...options, metrics: deps.metrics });
  let fastRead: FastRead | undefined;
  // connections that have not sent a request yet (a browser's preconnect, a client pool's spare):
  // Node's closeIdleConnections leaves them open, so they would hold a graceful shutdown until the cut
  const unused = new Set<Socket>();
  const app = Fastify({
    // our own server, so the fast read path sees requests before fastify does; maxHeaderSize is
    // Go's DefaultMaxHeaderBytes: the request line counts, and keys have no length limit (compat 4.1)
    serverFactory: (handler) => {
      // Node enforces headersTimeout/requestTimeout only at this interval (30 s by default), so a
      // half-sent request held its connection up to 35 s under the 5 s read timeout
      const connectionsCheckingInterval = Math.min(1000, Math.max(100, options.readTimeoutMs / 4));
      const server = createServer({ maxHeaderSize: 1 << 20, connectionsCheckingInterval }, (req: IncomingMessage, res: ServerResponse) => {
        unused.delete(req.socket);
        if (req.url?.charCodeAt(0) !== 0x2f && !originForm(req, res)) return;
        if (fastRead === undefined || !fastRead(req, res, handler)) handler(req, res);
      });
      server.keepAliveTimeout = options.idleTimeoutMs;
      server.requestTimeout = options.writeTimeoutMs;
      server.headersTimeout = options.readTimeoutMs;
      server.on('connect', (_req: IncomingMessage, socket: Duplex) => answerConnect(socket));
      server.on('connection', (socket: Socket) => {
        unused.add(socket);
        socket.once('close', () => unused.delete(socket));
      });
      return server;
    },
    logger: false,
    bodyLimit: options.bodyLimit,
    // drain on close: idle keep-alive sockets go at once, in-flight requests finish (compose cuts them after the shutdown timeout)
    forceCloseConnections: 'idle',
    return503OnClosing: true,
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

  app.decorateRequest('clientIp', '');
  app.decorateRequest('metricsRoute', '');
  app.decorateRequest('leaveInFlight', null as unknown as () => void);

  app.addHook('onRequest', guardHook(chain));
  app.addHook('preClose', (done) => {
    fastRead?.disable();
    for (const socket of unused) socket.destroy();
    done();
  });
  app.addHook('onClose', (_app, done) => {
    chain.close();
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
    access,
    log: deps.log,
    baseUrl: base,
    streams: deps.streams,
    history: deps.history,
  });
  if (deps.metrics) registerMetricsRoute(app, deps.metrics, options.metricsToken ?? '');
  registerOpenApiRoute(app, base);
  for (const plugin of deps.plugins ?? []) plugin(app);
  // with --dbg every request is logged; the fast read path answers outside fastify's hooks
  if (deps.log.debugEnabled === true) app.addHook('onResponse', accessLogHook(deps.log));
  if (options.fastReads !== false && deps.log.debugEnabled !== true) fastRead = createFastRead({ chain, service: deps.service, access, baseUrl: base });
  return app;
}

import { randomBytes } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Metrics } from '../metrics/metrics.js';
import { RateLimiter } from './rate-limiter.js';
import { RealIpResolver } from './real-ip.js';

export interface GuardOptions {
  version: string;
  bodyLimit: number;
  requestsPerSec: number;
  maxConcurrent: number;
  trustedProxies: readonly string[];
  metrics?: Metrics | undefined;
}

declare module 'fastify' {
  interface FastifyRequest {
    /** effective client IP after the trusted-proxy rules */
    clientIp: string;
    /** route label for metrics, set by the handler that serves the request */
    metricsRoute: string;
    /** long-lived streams (SSE) call this once they start, leaving the in-flight limit */
    leaveInFlight: () => void;
  }
}

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/** Cross-origin protection for non-safe methods, as Go 1.25's CrossOriginProtection. */
function isCrossOrigin(req: FastifyRequest): boolean {
  const site = req.headers['sec-fetch-site'];
  if (typeof site === 'string' && site !== '') return site !== 'same-origin' && site !== 'none';
  const origin = req.headers.origin;
  if (typeof origin !== 'string' || origin === '') return false;
  try {
    return new URL(origin).host !== req.headers.host;
  } catch {
    return true;
  }
}

/**
 * The global middleware chain of the original, in its order (compat 3.1): real IP, rate limit,
 * concurrency limit, request id, body size limit, app headers, ping, cross-origin protection.
 * One hook instead of eight keeps the hot path short.
 */
export function createRequestGuards(options: GuardOptions): {
  onRequest: (req: FastifyRequest, reply: FastifyReply, done: () => void) => void;
  close: () => void;
} {
  const realIp = new RealIpResolver(options.trustedProxies);
  const limiter = new RateLimiter(options.requestsPerSec);
  const limitHeader = options.requestsPerSec.toFixed(2);
  const limitInt = String(Math.round(options.requestsPerSec));
  const metrics = options.metrics;
  let inFlight = 0;

  // callback style: answering early means not calling done()
  const onRequest = (req: FastifyRequest, reply: FastifyReply, done: () => void): void => {
    const ip = realIp.resolve(req.raw.socket.remoteAddress, req.headers);
    req.clientIp = ip;

    if (limiter.enabled) {
      const left = limiter.take(ip);
      reply.headers({
        'x-rate-limit-limit': limitHeader,
        'x-rate-limit-duration': '1',
        'x-rate-limit-request-remote-addr': ip,
        'ratelimit-limit': limitInt,
        'ratelimit-reset': '1',
        'ratelimit-remaining': String(Math.max(left, 0)),
      });
      const fwd = req.headers['x-forwarded-for'];
      if (typeof fwd === 'string') reply.header('x-rate-limit-request-forwarded-for', fwd);
      if (left < 0) {
        void reply.code(429).type('text/plain; charset=utf-8').send('You have reached maximum request limit.');
        return;
      }
    }

    if (options.maxConcurrent > 0 && inFlight >= options.maxConcurrent) {
      void reply.code(503).send('');
      return;
    }
    inFlight++;
    metrics?.inFlight.set(inFlight);
    const started = performance.now();
    let counted = true;
    const leave = (): void => {
      if (!counted) return;
      counted = false;
      inFlight--;
      metrics?.inFlight.set(inFlight);
    };
    req.leaveInFlight = leave;
    reply.raw.once('close', () => {
      leave();
      metrics?.httpDuration.observe(
        { route: req.metricsRoute || 'other', status: String(reply.raw.statusCode) },
        (performance.now() - started) / 1000,
      );
    });

    const id = req.headers['x-request-id'];
    reply.header('x-request-id', typeof id === 'string' && id !== '' ? id : randomBytes(20).toString('hex'));

    const length = req.headers['content-length'];
    if (length !== undefined && Number(length) > options.bodyLimit) {
      void reply.code(413).send('');
      return;
    }

    reply.headers({ author: 'umputun', 'app-name': 'stash', 'app-version': options.version });

    if ((req.method === 'GET' || req.method === 'HEAD') && req.originalUrl.length >= 5) {
      const q = req.originalUrl.indexOf('?');
      const path = (q === -1 ? req.originalUrl : req.originalUrl.slice(0, q)).toLowerCase();
      if (path.endsWith('/ping')) {
        req.metricsRoute = 'ping';
        void reply.code(200).type('text/plain').send('pong');
        return;
      }
    }

    if (!SAFE_METHODS.has(req.method) && isCrossOrigin(req)) {
      void reply.code(403).type('text/plain; charset=utf-8').send('cross-origin request detected\n');
      return;
    }
    done();
  };

  return { onRequest, close: () => limiter.close() };
}

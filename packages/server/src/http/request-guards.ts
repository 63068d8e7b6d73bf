import { randomFillSync } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Metrics } from '../metrics/metrics.js';
import { RateLimiter } from './rate-limiter.js';
import { RealIpResolver } from './real-ip.js';
import { plainError } from './replies.js';
import { decodePathPart } from './route-path.js';

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

const FROM_SEC_FETCH_SITE = 'cross-origin request detected from Sec-Fetch-Site header';
const FROM_ORIGIN =
  'cross-origin request detected, and/or browser is out of date: Sec-Fetch-Site is missing, and Origin does not match Host';

/** Host part of an Origin as Go's url.Parse reports it (port kept as sent, '' without authority). */
function originHost(origin: string): string {
  const start = origin.indexOf('//');
  if (start === -1) return '';
  let end = start + 2;
  while (end < origin.length && !'/?#'.includes(origin.charAt(end))) end++;
  const authority = origin.slice(start + 2, end);
  return authority.slice(authority.lastIndexOf('@') + 1);
}

/**
 * Go 1.25's CrossOriginProtection for non-safe methods: the rejection message, or undefined
 * when the request may pass (same-origin, or no browser headers at all).
 */
function crossOriginRejection(req: FastifyRequest): string | undefined {
  const method = req.method;
  if (method === 'GET' || method === 'HEAD' || method === 'OPTIONS') return undefined;
  const site = req.headers['sec-fetch-site'];
  if (typeof site === 'string' && site !== '') {
    return site === 'same-origin' || site === 'none' ? undefined : FROM_SEC_FETCH_SITE;
  }
  const origin = req.headers.origin;
  if (typeof origin !== 'string' || origin === '') return undefined;
  return originHost(origin) === req.headers.host ? undefined : FROM_ORIGIN;
}

const ID_BYTES = 20;
const idPool = Buffer.alloc(ID_BYTES * 512);
let idOffset = idPool.length;

/** 40 random hex characters as rest.Trace generates; one OpenSSL call per 512 ids. */
function newRequestId(): string {
  if (idOffset === idPool.length) {
    randomFillSync(idPool);
    idOffset = 0;
  }
  const id = idPool.toString('hex', idOffset, idOffset + ID_BYTES);
  idOffset += ID_BYTES;
  return id;
}

/** `rest.Ping`: a GET whose decoded, lower-cased path ends with `/ping`. */
function isPing(req: FastifyRequest): boolean {
  if (req.method !== 'GET') return false;
  const url = req.originalUrl;
  let end = url.indexOf('?');
  if (end === -1) end = url.length;
  const pct = url.indexOf('%');
  if (pct !== -1 && pct < end) {
    const path = decodePathPart(url.slice(0, end));
    return path !== undefined && path.toLowerCase().endsWith('/ping');
  }
  // char codes instead of slice + toLowerCase: this runs on every GET
  return (
    end >= 5 &&
    url.charCodeAt(end - 5) === 0x2f &&
    (url.charCodeAt(end - 4) | 0x20) === 0x70 &&
    (url.charCodeAt(end - 3) | 0x20) === 0x69 &&
    (url.charCodeAt(end - 2) | 0x20) === 0x6e &&
    (url.charCodeAt(end - 1) | 0x20) === 0x67
  );
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
  // bound histogram slots per route and status: no label hashing on the hot path
  const timings = new Map<string, Map<number, { observe(value: number): void }>>();
  const observe = (route: string, status: number, seconds: number): void => {
    if (!metrics) return;
    let byStatus = timings.get(route);
    if (!byStatus) timings.set(route, (byStatus = new Map()));
    let slot = byStatus.get(status);
    if (!slot) byStatus.set(status, (slot = metrics.httpDuration.bind({ route, status: String(status) })));
    slot.observe(seconds);
  };

  // callback style: answering early means not calling done()
  const onRequest = (req: FastifyRequest, reply: FastifyReply, done: () => void): void => {
    // outside the base URL (sentinel paths from app.ts): the original's outer mux answers
    // before any middleware runs
    if (req.url.charCodeAt(1) === 0) return done();
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
      if (typeof fwd === 'string' && fwd.trim() !== '') reply.header('x-rate-limit-request-forwarded-for', fwd);
      if (left < 0) {
        void reply.code(429).type('text/plain; charset=utf-8').send('You have reached maximum request limit.');
        return;
      }
    }

    if (options.maxConcurrent > 0 && inFlight >= options.maxConcurrent) {
      void reply.code(503).send();
      return;
    }
    inFlight++;
    if (metrics) metrics.inFlightNow = inFlight;
    const started = performance.now();
    let counted = true;
    const leave = (): void => {
      if (!counted) return;
      counted = false;
      inFlight--;
      if (metrics) metrics.inFlightNow = inFlight;
    };
    req.leaveInFlight = leave;
    reply.raw.once('close', () => {
      leave();
      observe(req.metricsRoute || 'other', reply.raw.statusCode, (performance.now() - started) / 1000);
    });

    const id = req.headers['x-request-id'];
    reply.header('x-request-id', typeof id === 'string' && id !== '' ? id : newRequestId());

    const length = req.headers['content-length'];
    if (length !== undefined && Number(length) > options.bodyLimit) {
      void reply.code(413).send();
      return;
    }

    reply.header('author', 'umputun').header('app-name', 'stash').header('app-version', options.version);

    if (isPing(req)) {
      req.metricsRoute = 'ping';
      void reply.code(200).header('content-type', 'text/plain').send('pong');
      return;
    }

    const rejection = crossOriginRejection(req);
    if (rejection !== undefined) return plainError(reply, 403, rejection);
    done();
  };

  return { onRequest, close: () => limiter.close() };
}

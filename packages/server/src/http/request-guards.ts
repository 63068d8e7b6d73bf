import type { FastifyReply, FastifyRequest } from 'fastify';
import { crossOriginRejection, isPing, RATE_LIMITED_BODY, requestId, type GuardChain } from './guard-chain.js';
import { plainError, setHeaderPairs } from '../shared/replies.js';
import '../shared/request-fields.js';

/**
 * The global middleware chain of the original as one fastify hook, in its order (compat 3.1):
 * real IP, rate limit, concurrency limit, request id, body size limit, app headers, ping,
 * cross-origin protection. One hook instead of eight keeps the path short.
 */
export function guardHook(chain: GuardChain): (req: FastifyRequest, reply: FastifyReply, done: () => void) => void {
  // callback style: answering early means not calling done()
  return (req, reply, done) => {
    // outside the base URL (sentinel paths from app.ts): the original's outer mux answers
    // before any middleware runs
    if (req.url.charCodeAt(1) === 0) return done();
    const headers = req.headers;
    const ip = chain.clientIp(req.raw);
    req.clientIp = ip;

    if (chain.rateLimited) {
      const token = chain.takeToken(ip, headers);
      setHeaderPairs(reply, token.headers);
      if (token.refused) {
        void reply.code(429).type('text/plain; charset=utf-8').send(RATE_LIMITED_BODY);
        return;
      }
    }

    if (chain.saturated) {
      void reply.code(503).send();
      return;
    }
    const leave = chain.enter();
    req.leaveInFlight = leave;
    const started = performance.now();
    reply.raw.once('close', () => {
      leave();
      chain.timing(req.metricsRoute || 'other', reply.raw.statusCode).observe((performance.now() - started) / 1000);
    });

    // the id every log line of this request carries (app.ts leaves fastify's own ids empty)
    req.id = requestId(headers);
    reply.header('x-request-id', req.id);

    if (chain.tooLarge(headers)) {
      void reply.code(413).send();
      return;
    }

    setHeaderPairs(reply, chain.appHeaders);

    if (isPing(req.method, req.originalUrl)) {
      req.metricsRoute = 'ping';
      void reply.code(200).header('content-type', 'text/plain').send('pong');
      return;
    }

    const rejection = crossOriginRejection(req.method, headers);
    if (rejection !== undefined) return plainError(reply, 403, rejection);
    done();
  };
}

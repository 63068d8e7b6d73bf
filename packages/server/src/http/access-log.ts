import type { onResponseHookHandler } from 'fastify';
import type { Logger } from '../logger.js';
import '../shared/request-fields.js';

/**
 * One debug line per answered request (method, target as sent, status, milliseconds, client IP),
 * carrying the request id, so a request can be followed through the log. Hijacked change streams
 * are not answered through fastify and get no line.
 */
export function accessLogHook(log: Logger): onResponseHookHandler {
  return (req, reply, done) => {
    log.debug(`${req.method} ${req.originalUrl} ${reply.statusCode} ${reply.elapsedTime.toFixed(1)}ms ${req.clientIp}`, req.id);
    done();
  };
}

import type { FastifyReply } from 'fastify';
import { ConflictError, DomainError } from '../domain/errors.js';
import type { Logger } from '../logger.js';
import { goJson } from './wire-format.js';

const STATUS: Record<DomainError['code'], number> = {
  validation: 400,
  unauthorized: 401,
  forbidden: 403,
  not_found: 404,
  conflict: 412,
  internal: 500,
  unavailable: 503,
};

export const JSON_CONTENT_TYPE = 'application/json; charset=utf-8';

/** `{"error": message}` with the given status, as the original's SendErrorJSON. */
export function sendJsonError(reply: FastifyReply, status: number, message: string, extra?: object): FastifyReply {
  return reply
    .code(status)
    .header('content-type', JSON_CONTENT_TYPE)
    .send(goJson({ error: message, ...extra }));
}

/**
 * The one mapping from errors to HTTP answers. Domain errors keep their message;
 * anything else is logged with the request id and answered 500 with `fallback`.
 */
export function sendError(reply: FastifyReply, error: unknown, fallback: string, log: Logger): FastifyReply {
  if (error instanceof ConflictError) {
    reply.header('x-stash-revision', String(error.currentRevision));
    return sendJsonError(reply, 412, error.message, { revision: error.currentRevision });
  }
  if (error instanceof DomainError) {
    if (error.code === 'internal') log.error(`${fallback}: ${String(error.cause ?? error)}`, reply.request.id);
    return sendJsonError(reply, STATUS[error.code], error.message);
  }
  log.error(`${fallback}: ${error instanceof Error ? error.stack ?? error.message : String(error)}`, reply.request.id);
  return sendJsonError(reply, 500, fallback);
}

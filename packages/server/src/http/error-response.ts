import type { ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { FastifyError, FastifyReply } from 'fastify';
import type { Logger } from '../logger.js';
import { JSON_CONTENT_TYPE, sendJsonError } from '../shared/replies.js';
import { goJson } from '../shared/wire-format.js';

const APP_INFO_HEADERS = ['app-name', 'app-version'] as const;

/**
 * Errors fastify raises around a handler. A body over the limit is 413 with an empty body and
 * without the AppInfo headers (the original's SizeLimit runs before AppInfo); other 4xx keep
 * their message.
 */
export function sendFrameworkError(reply: FastifyReply, error: FastifyError, log: Logger): FastifyReply {
  if (error.code === 'FST_ERR_CTP_BODY_TOO_LARGE' || error.statusCode === 413) {
    for (const h of APP_INFO_HEADERS) reply.removeHeader(h);
    return reply.code(413).send();
  }
  if (error.statusCode !== undefined && error.statusCode >= 400 && error.statusCode < 500) {
    return sendJsonError(reply, error.statusCode, error.message);
  }
  const req = reply.request;
  log.error(`unhandled error on ${req.method} ${req.url}: ${error.stack ?? error.message}`, req.id);
  return reply
    .code(500)
    .header('content-type', 'text/plain; charset=utf-8')
    .header('x-content-type-options', 'nosniff')
    .send('Internal Server Error\n');
}

const CLIENT_ERRORS: Record<string, [number, string, string]> = {
  // the body ended before its Content-Length: the original's SizeLimit "body read error" (compat 3.1)
  HPE_INVALID_EOF_STATE: [503, 'Service Unavailable', ''],
  HPE_HEADER_OVERFLOW: [431, 'Request Header Fields Too Large', 'request header fields too large'],
  ERR_HTTP_REQUEST_TIMEOUT: [408, 'Request Timeout', 'request timeout'],
  HPE_INVALID_CONTENT_LENGTH: [400, 'Bad Request', 'invalid Content-Length header'],
  HPE_UNEXPECTED_CONTENT_LENGTH: [400, 'Bad Request', 'invalid Content-Length header'],
  HPE_INVALID_METHOD: [400, 'Bad Request', 'invalid HTTP method'],
  HPE_INVALID_URL: [400, 'Bad Request', 'invalid request target'],
  HPE_INVALID_HEADER_TOKEN: [400, 'Bad Request', 'invalid header'],
  HPE_INVALID_CHUNK_SIZE: [400, 'Bad Request', 'invalid chunked body'],
};

/**
 * Requests Node's HTTP parser rejects before any route sees them: a JSON error on a closing
 * connection (the original's Go server answers these with a bare `400 Bad Request`).
 */
export function answerClientError(error: Error & { code?: string }, socket: Duplex): void {
  if (error.code === 'ECONNRESET' || !socket.writable) {
    socket.destroy();
    return;
  }
  // garbage pipelined behind a complete request: answer that request first, then close
  // (Node keeps the in-flight response on the socket as `_httpMessage`)
  const inflight = (socket as Duplex & { _httpMessage?: ServerResponse | null })._httpMessage;
  if (inflight && inflight.req.complete) {
    if (inflight.writableFinished) socket.end();
    else inflight.once('finish', () => socket.end());
    return;
  }
  // once a response went out on this connection, a second one would corrupt the stream
  if (((socket as Duplex & { bytesWritten?: number }).bytesWritten ?? 0) > 0) {
    socket.destroy();
    return;
  }
  const [status, reason, message] = CLIENT_ERRORS[error.code ?? ''] ?? [400, 'Bad Request', 'malformed HTTP request'];
  endWithError(socket, status, reason, message);
}

/**
 * CONNECT asks for a tunnel, which this server does not offer: Node hands such requests to a
 * 'connect' listener and, without one, drops the connection with no answer. Answer 405 instead.
 */
export function answerConnect(socket: Duplex): void {
  endWithError(socket, 405, 'Method Not Allowed', 'method not allowed');
}

/** A response written straight to a socket no route will answer: a JSON error (none for ''), then close. */
function endWithError(socket: Duplex, status: number, reason: string, message: string): void {
  const body = message === '' ? '' : goJson({ error: message });
  const type = body === '' ? '' : `Content-Type: ${JSON_CONTENT_TYPE}\r\n`;
  socket.end(
    `HTTP/1.1 ${status} ${reason}\r\n${type}` +
      `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
  );
}

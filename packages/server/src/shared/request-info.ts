import type { TLSSocket } from 'node:tls';
import type { FastifyRequest } from 'fastify';

/** TLS on the socket, or a proxy saying so (the original trusts the header as is, compat 16.13). */
export function isHttps(req: FastifyRequest): boolean {
  if ((req.raw.socket as Partial<TLSSocket>).encrypted === true) return true;
  const proto = req.headers['x-forwarded-proto'];
  const first = (Array.isArray(proto) ? proto[0] : proto)?.split(',')[0]?.trim().toLowerCase();
  return first === 'https';
}

/** The fields of a form-encoded body (bodies arrive as raw bytes, see http/app.ts). */
export function formFields(body: unknown): URLSearchParams {
  return new URLSearchParams(Buffer.isBuffer(body) ? body.toString('utf8') : '');
}

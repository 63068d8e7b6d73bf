import { promisify } from 'node:util';
import { brotliCompress, constants, gzip } from 'node:zlib';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Html } from './html.js';

const brotli = promisify(brotliCompress);
const gzipAsync = promisify(gzip);

/**
 * Only the server's own scripts and styles; no inline script, no eval, nothing framed.
 * `wasm-unsafe-eval` lets WebAssembly compile (Argon2id for zero-knowledge values), not JS eval.
 */
export const PAGE_CSP =
  "default-src 'none'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
  "form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

const PAGE_HEADERS: readonly [string, string][] = [
  ['content-security-policy', PAGE_CSP],
  ['x-content-type-options', 'nosniff'],
  ['x-frame-options', 'DENY'],
  ['referrer-policy', 'same-origin'],
  ['cache-control', 'no-store'],
  ['vary', 'Accept-Encoding'],
];

/** The encoding to answer with: brotli, then gzip, when the client takes it. */
export function pickEncoding(accept: string | string[] | undefined): 'br' | 'gzip' | undefined {
  const header = (Array.isArray(accept) ? accept.join(',') : accept ?? '').toLowerCase();
  const takes = (name: string): boolean =>
    header.split(',').some((part) => {
      const [token, ...params] = part.trim().split(';');
      return token?.trim() === name && !params.some((p) => /^\s*q=0(?:\.0*)?\s*$/.test(p));
    });
  if (takes('br')) return 'br';
  if (takes('gzip')) return 'gzip';
  return undefined;
}

const COMPRESS_FROM = 1024;

/** A page or fragment: security headers, compressed when worth it. */
export async function sendHtml(req: FastifyRequest, reply: FastifyReply, status: number, body: Html): Promise<void> {
  for (const [name, value] of PAGE_HEADERS) reply.header(name, value);
  reply.code(status).header('content-type', 'text/html; charset=utf-8');
  const text = body.text;
  const encoding = text.length >= COMPRESS_FROM ? pickEncoding(req.headers['accept-encoding']) : undefined;
  if (req.method === 'HEAD' || encoding === undefined) return void reply.send(text);
  const packed =
    encoding === 'br'
      ? await brotli(text, { params: { [constants.BROTLI_PARAM_QUALITY]: 5 } })
      : await gzipAsync(text, { level: 6 });
  void reply.header('content-encoding', encoding).send(packed);
}

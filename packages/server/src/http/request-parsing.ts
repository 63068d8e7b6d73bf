import { FORMAT_HEADER, isFormat, type Format } from '@stash/client/core';
import type { FastifyRequest } from 'fastify';
import { ValidationError } from '../domain/errors.js';
import type { SecretsFilter } from '../domain/kv-service.js';

export type Query = Record<string, string | string[] | undefined>;

/** First value of a query parameter. */
export function queryParam(req: FastifyRequest, name: string): string | undefined {
  const v = (req.query as Query)[name];
  return Array.isArray(v) ? v[0] : v;
}

/** Format from `X-Stash-Format`, else `?format=`; anything unknown silently becomes text (compat 5.2). */
export function requestFormat(req: FastifyRequest): Format {
  const header = req.headers[FORMAT_HEADER];
  const raw = typeof header === 'string' && header !== '' ? header : queryParam(req, 'format');
  return isFormat(raw) ? raw : 'text';
}

/** A non-negative integer parameter, or a 400 naming it. */
export function parseNonNegativeInt(raw: string, what: string): number {
  if (!/^\d{1,15}$/.test(raw)) throw new ValidationError(`invalid ${what}`);
  return Number(raw);
}

const ETAG = /^(?:W\/)?"(\d{1,15})"$|^(\d{1,15})$/;

/** Revision named by an entity tag (`"12"`, `W/"12"` or bare `12`). */
export function parseEtag(raw: string, header: string): number {
  const m = ETAG.exec(raw.trim());
  if (!m) throw new ValidationError(`invalid ${header} header`);
  return Number(m[1] ?? m[2]);
}

/**
 * If-None-Match on a read, compared weakly (RFC 9110 13.1.2): `*` or any listed tag naming the
 * current revision. Tags that are not revisions never match (a malformed header is ignored).
 */
export function noneMatchHits(raw: string, revision: number): boolean {
  if (raw.trim() === '*') return true;
  for (const part of raw.split(',')) {
    const m = ETAG.exec(part.trim());
    if (m && Number(m[1] ?? m[2]) === revision) return true;
  }
  return false;
}

/**
 * The condition of a write: `If-Match: "N"`, `If-None-Match: *` or `?cas=N` (0 = create only).
 * Returns undefined for an unconditional write.
 */
export function writeCondition(req: FastifyRequest): number | undefined {
  const ifMatch = req.headers['if-match'];
  if (typeof ifMatch === 'string' && ifMatch !== '') {
    if (ifMatch.trim() === '*') throw new ValidationError('invalid If-Match header: * is not supported, send a revision');
    return parseEtag(ifMatch, 'If-Match');
  }
  const ifNoneMatch = req.headers['if-none-match'];
  if (typeof ifNoneMatch === 'string' && ifNoneMatch !== '') {
    if (ifNoneMatch.trim() !== '*') throw new ValidationError('invalid If-None-Match header: only * is supported on writes');
    return 0;
  }
  const cas = queryParam(req, 'cas');
  return cas === undefined ? undefined : parseNonNegativeInt(cas, 'cas parameter');
}

/** List `?filter=` (compat 5.4). */
export function secretsFilter(raw: string | undefined): SecretsFilter {
  switch ((raw ?? '').toLowerCase()) {
    case '':
    case 'all':
      return 'all';
    case 'secrets':
    case 'secretsonly':
    case 'true':
      return 'secrets';
    case 'keys':
    case 'keysonly':
    case 'false':
      return 'keys';
    default:
      throw new ValidationError('invalid filter parameter');
  }
}

export function isTruthy(raw: string | undefined): boolean {
  return raw !== undefined && ['1', 'true', 'yes', 't'].includes(raw.toLowerCase());
}

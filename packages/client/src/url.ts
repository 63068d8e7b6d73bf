import { InvalidArgumentError } from './errors.js';
import { normalizeKey } from './keys.js';

/**
 * Validate a base URL and drop its trailing slashes (`http://host/stash/` -> `http://host/stash`).
 * @throws InvalidArgumentError when it is not an absolute http(s) URL
 */
export function normalizeBaseUrl(baseUrl: string): string {
  if (typeof baseUrl !== 'string' || baseUrl.trim() === '') throw new InvalidArgumentError('base URL is required');
  let parsed: URL;
  try {
    parsed = new URL(baseUrl.trim());
  } catch {
    throw new InvalidArgumentError(`invalid base URL "${baseUrl}": not an absolute URL`);
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    throw new InvalidArgumentError(`invalid base URL "${baseUrl}": only http and https are supported`);
  }
  if (parsed.search !== '' || parsed.hash !== '') {
    throw new InvalidArgumentError(`invalid base URL "${baseUrl}": must not have a query or fragment`);
  }
  return parsed.toString().replace(/\/+$/, '');
}

/**
 * A key as the server will store it (normalised), or an InvalidArgumentError when nothing is left.
 */
export function requireKey(key: string): string {
  if (typeof key !== 'string') throw new InvalidArgumentError('key must be a string');
  const normalized = normalizeKey(key);
  if (normalized === '') throw new InvalidArgumentError('key is required');
  return normalized;
}

/**
 * Percent-encode a key per `/`-segment so the server decodes it back exactly: `encodeURIComponent`
 * for each segment (space, `?`, `#`, `%`, unicode...), `*` too, and `.`/`..` segments as `%2E`
 * so no URL parser or router cleans them away. Empty segments are dropped (the server would
 * redirect `a//b` to `a/b` anyway).
 */
export function encodeKeyPath(key: string): string {
  return key
    .split('/')
    .filter((segment) => segment !== '')
    .map((segment) => (segment === '.' || segment === '..' ? segment.replaceAll('.', '%2E') : encodeSegment(segment)))
    .join('/');
}

// encodeURIComponent keeps !'()* which some routers treat specially; escape them all
function encodeSegment(segment: string): string {
  return encodeURIComponent(segment).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

/** A query string (`?a=1&b=2`) from the defined entries, or '' when there are none. */
export function queryString(params: Record<string, string | number | boolean | undefined>): string {
  const parts: string[] = [];
  for (const [name, value] of Object.entries(params)) {
    if (value === undefined) continue;
    parts.push(`${encodeURIComponent(name)}=${encodeURIComponent(String(value))}`);
  }
  return parts.length === 0 ? '' : `?${parts.join('&')}`;
}

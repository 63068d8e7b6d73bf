/** Split a raw request URL into its path and query string (without `?`). */
export function splitUrl(url: string): { path: string; query: string } {
  const q = url.indexOf('?');
  return q === -1 ? { path: url, query: '' } : { path: url.slice(0, q), query: url.slice(q + 1) };
}

/**
 * Go's path.Clean for request paths, keeping a trailing slash: `//`, `/./`, `/../` collapse
 * (on the path as sent, so `%2E` and `%2F` are not touched).
 * The router answers 301 to the cleaned path when it differs (compat 3.3).
 */
export function cleanPath(path: string): string {
  if (path === '') return '/';
  if (!path.includes('//') && !path.includes('/.')) return path;
  const out: string[] = [];
  for (const part of path.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') out.pop();
    else out.push(part);
  }
  let cleaned = `/${out.join('/')}`;
  // as Go's cleanPath: only a literal trailing slash survives (`/a/.` cleans to `/a`)
  if (path.endsWith('/') && cleaned !== '/') cleaned += '/';
  return cleaned;
}

/** Percent-decode a path wildcard; undefined when the escape is malformed. */
export function decodePathPart(raw: string): string | undefined {
  if (!raw.includes('%')) return raw;
  try {
    return decodeURIComponent(raw);
  } catch {
    return undefined;
  }
}

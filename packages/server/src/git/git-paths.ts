import { posix } from 'node:path';

/** Suffix of every key file in the history repository (compat 9.4). */
export const VAL_SUFFIX = '.val';

/** A key the mirror refuses to turn into a repository path; the database write still stands. */
export class UnsafeKeyError extends Error {
  override readonly name = 'UnsafeKeyError';
  constructor(
    readonly key: string,
    reason: string,
  ) {
    super(`key ${JSON.stringify(key)} cannot be mirrored to git: ${reason}`);
  }
}

// NAME_MAX and PATH_MAX (less the NUL): git cannot check out a longer name, and one such file in
// the branch would make every later checkout of the work tree fail (each commit logged as failed)
const MAX_NAME_BYTES = 255;
const MAX_PATH_BYTES = process.platform === 'darwin' ? 1023 : 4095;

// control characters would need quoting everywhere git prints paths, and no real key has them
const hasControl = (s: string): boolean => [...s].some((c) => c.charCodeAt(0) < 0x20 || c.charCodeAt(0) === 0x7f);

/**
 * Map a key to its file inside the repository (`a/b/c` -> `a/b/c.val`), refusing anything that
 * could land outside the work tree or inside `.git`.
 * @throws UnsafeKeyError
 */
export function keyToPath(key: string): string {
  if (key === '') throw new UnsafeKeyError(key, 'empty key');
  if (key.startsWith('/') || /^[A-Za-z]:/.test(key)) throw new UnsafeKeyError(key, 'absolute path');
  if (key.includes('\\')) throw new UnsafeKeyError(key, 'backslash in key');
  if (hasControl(key)) throw new UnsafeKeyError(key, 'control character in key');
  for (const segment of key.split('/')) {
    if (segment === '') throw new UnsafeKeyError(key, 'empty path segment');
    if (segment === '.' || segment === '..') throw new UnsafeKeyError(key, `"${segment}" path segment`);
    // `.git` in any case and with trailing dots/spaces, as case-insensitive file systems see it
    if (/^\.git[. ]*$/i.test(segment)) throw new UnsafeKeyError(key, '".git" path segment');
  }
  const path = `${key}${VAL_SUFFIX}`;
  const normalized = posix.normalize(path);
  if (normalized !== path || normalized.startsWith('../')) throw new UnsafeKeyError(key, 'path escapes the repository');
  if (path.split('/').some((name) => Buffer.byteLength(name) > MAX_NAME_BYTES)) {
    throw new UnsafeKeyError(key, `a path segment is longer than ${MAX_NAME_BYTES} bytes`);
  }
  if (Buffer.byteLength(path) > MAX_PATH_BYTES) throw new UnsafeKeyError(key, `path longer than ${MAX_PATH_BYTES} bytes`);
  return path;
}

/** The key a repository file holds, or undefined for files that are not key files. */
export function pathToKey(path: string): string | undefined {
  if (!path.endsWith(VAL_SUFFIX) || path.length === VAL_SUFFIX.length) return undefined;
  return path.slice(0, -VAL_SUFFIX.length);
}

/** C-style quoting git fast-import accepts for any path (spaces, quotes, non-ASCII). */
export function quoteFastImportPath(path: string): string {
  return `"${path.replace(/["\\]/g, (c) => `\\${c}`)}"`;
}

import { StoreUnavailableError } from './store.js';

/**
 * What a storage failure means for the caller: `unavailable` = the database cannot be reached
 * or did not answer (retry later, 503); `full` = it is out of space (507). Anything else is not
 * a storage-availability problem and keeps its own mapping.
 */
export type StorageErrorClass = 'unavailable' | 'full';

// driver and socket codes of a connection that failed, was cut or timed out (Node net, postgres.js)
const UNAVAILABLE_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENETDOWN',
  'EAI_AGAIN',
  'CONNECTION_CLOSED',
  'CONNECTION_ENDED',
  'CONNECTION_DESTROYED',
  'CONNECT_TIMEOUT',
  'ERR_STREAM_DESTROYED',
  'ERR_STREAM_WRITE_AFTER_END',
  // PostgreSQL SQLSTATEs: admin/crash shutdown, cannot connect now, too many connections,
  // statement or lock timeout, idle-in-transaction timeout (the session was closed)
  '57P01',
  '57P02',
  '57P03',
  '53300',
  '57014',
  '55P03',
  '25P03',
]);

// SQLITE_IOERR_SHMSIZE: the WAL index (-shm) could not grow, which on a full disk is what a
// large transaction spilling to the WAL hits instead of SQLITE_FULL (better-sqlite3 exposes no
// errno, so the other SQLITE_IOERR_* codes stay unclassified: they may be EIO)
const FULL_CODES = new Set(['ENOSPC', 'EDQUOT', '53100', 'SQLITE_FULL', 'SQLITE_IOERR_SHMSIZE']);

function classifyCode(code: string): StorageErrorClass | undefined {
  if (FULL_CODES.has(code)) return 'full';
  if (UNAVAILABLE_CODES.has(code)) return 'unavailable';
  // SQLSTATE class 08: connection exception (08000, 08003, 08006, 08001, 08004, ...)
  if (/^08[0-9A-Z]{3}$/.test(code)) return 'unavailable';
  // SQLITE_BUSY and its extended codes: another process holds the lock past busy_timeout
  if (code === 'SQLITE_BUSY' || code.startsWith('SQLITE_BUSY_')) return 'unavailable';
  return undefined;
}

/**
 * Classify a storage failure by its driver code (engine-neutral: PostgreSQL and SQLite codes
 * do not overlap). Looks through `cause` and AggregateError members, as Node wraps socket errors.
 * @param error whatever a store method threw
 * @returns the class, or undefined when the error is not about storage availability or space
 */
export function classifyStorageError(error: unknown): StorageErrorClass | undefined {
  const seen = new Set<unknown>();
  const queue: unknown[] = [error];
  while (queue.length > 0 && seen.size < 8) {
    const e = queue.shift();
    if (typeof e !== 'object' || e === null || seen.has(e)) continue;
    seen.add(e);
    if (e instanceof StoreUnavailableError) return 'unavailable';
    const code = (e as { code?: unknown }).code;
    const found = typeof code === 'string' ? classifyCode(code) : undefined;
    if (found) return found;
    queue.push((e as { cause?: unknown }).cause);
    if (e instanceof AggregateError) queue.push(...(e.errors as unknown[]));
  }
  return undefined;
}

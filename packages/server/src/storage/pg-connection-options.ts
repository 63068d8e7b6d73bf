import type { Options } from 'postgres';
import { createPgSocketFactory } from './pg-socket.js';

/**
 * How long a connection may stay silent while a query waits before it is cut (and the query
 * fails with 503), unless the database answers a probe on a new connection: then the statement
 * is only slow (a prune of a large history) and may run up to PG_LONG_STATEMENT_MS.
 */
export const PG_SILENCE_MS = 5000;
/** Connecting (TCP, startup, authentication) gives up after this many seconds. */
export const PG_CONNECT_TIMEOUT_S = 5;
/**
 * The server ends a session that keeps a transaction open this long without a statement: a
 * client cut off mid-transaction (partition, black hole) must not hold the revision-counter lock
 * and stall every other server's writes until TCP notices. Below PG_SILENCE_MS, so a healthy
 * server's write queued behind that lock gets it before its own connection counts as silent.
 * Our transactions never wait on anything but the database, so no healthy one comes near this.
 */
export const PG_IDLE_IN_TRANSACTION_MS = 4000;

/**
 * Reconnect delay in seconds: 0.1 to 0.2 s. The driver grows its default to 20 s over a few
 * failed attempts, so a server would stay "down" long after PostgreSQL is back. (The attempt
 * count stays 0 anyway: pg-socket.ts hands every close to the driver as a clean one.)
 */
export function reconnectBackoff(): number {
  return 0.1 + Math.random() * 0.1;
}

/**
 * postgres.js options that bound every wait on an unreachable, restarting or silent database,
 * for the store's pool and the LISTEN connection alike:
 * - `connect_timeout`: a black-holed database fails a connection attempt in 5 s;
 * - `backoff`: reconnects retried within 0.2 s;
 * - `socket`: connections cut when the server owes an answer and stays silent, and closes
 *   handed to the driver safely (pg-socket.ts).
 */
export function boundedConnectionOptions(): Partial<Options<Record<string, never>>> {
  // `socket` is a documented option that the type definitions leave out
  const socket = { socket: createPgSocketFactory(PG_SILENCE_MS) } as Partial<Options<Record<string, never>>>;
  return { ...socket, connect_timeout: PG_CONNECT_TIMEOUT_S, backoff: reconnectBackoff };
}

import type { Sql } from 'postgres';

/** The application_name every session of ours sets, so only our own sessions are ended. */
export const PG_APPLICATION_NAME = 'stash';

/**
 * End our sessions that hold a lock someone waits for while they wait on their own client
 * mid-statement: `active` and reading from the client for `stalledMs`, inside a transaction.
 * That is a client cut off between the answer to a Parse/Describe and its Bind (the driver
 * describes a new statement first, without a Sync), which `idle_in_transaction_session_timeout`
 * does not cover and which would otherwise hold the revision-counter lock, and stall every
 * server's writes, until TCP gives up on that connection. A healthy client sends its Bind within
 * microseconds. Returns how many sessions were ended; a role without the right to end them
 * (another role's sessions) ends none, and the wait goes on as before.
 */
export async function endStalledLockHolders(sql: Sql, stalledMs: number): Promise<number> {
  const ended = await sql`
    SELECT pg_terminate_backend(holder.pid) AS ended
    FROM pg_stat_activity holder
    WHERE holder.datname = current_database()
      AND holder.application_name = ${PG_APPLICATION_NAME}
      AND holder.pid <> pg_backend_pid()
      AND holder.state = 'active'
      AND holder.wait_event = 'ClientRead'
      AND holder.xact_start IS NOT NULL
      AND holder.state_change < now() - make_interval(secs => ${stalledMs / 1000})
      AND EXISTS (
        SELECT 1 FROM pg_stat_activity waiter
        WHERE waiter.datname = current_database() AND holder.pid = ANY(pg_blocking_pids(waiter.pid))
      )`.catch(() => []); // not allowed to end them, or the database is gone: the wait goes on
  return ended.filter((row) => row['ended'] === true).length;
}

import postgres from 'postgres';
import type { ChangePublisher } from '../domain/ports.js';
import type { Logger } from '../logger.js';
import { boundedConnectionOptions } from '../storage/pg-connection-options.js';
import type { ChangeEntry } from '../storage/store.js';
import type { ChangeBus } from './change-bus.js';

/** The LISTEN/NOTIFY channel every Stash server on one database shares. */
export const CHANGES_CHANNEL = 'stash_changes';

export interface PgNotifyBridgeOptions {
  url: string;
  bus: ChangeBus;
  log: Logger;
  /** safety poll of the change log, in case a NOTIFY was lost (writer crashed between commit and notify) */
  pollMs?: number;
}

/** Cross-server change delivery for PostgreSQL; `publisher` is what the KV service publishes to. */
export interface PgNotifyBridge {
  readonly publisher: ChangePublisher;
  close(): Promise<void>;
}

/**
 * Several servers on one PostgreSQL database. After a local commit the writer hands the entries
 * to its own bus (delivered at once) and NOTIFYs the revision; every server LISTENs and asks its
 * bus to read the change log up to that revision. The bus is a sequencer (last delivered
 * revision), so each server delivers every revision exactly once and in order, whichever way
 * it learns about it; its own NOTIFY coming back is a no-op.
 */
export async function startPgNotifyBridge(options: PgNotifyBridgeOptions): Promise<PgNotifyBridge> {
  const { bus, log } = options;
  // bounded like the store's pool: a restarted database is listened to again within about a
  // second (the driver re-runs LISTEN and onlisten on every reconnect), a silent one cuts NOTIFY
  const sql = postgres(options.url, {
    max: 1,
    onnotice: () => undefined,
    ...boundedConnectionOptions(),
    connection: { application_name: 'stash-listen' },
  });
  let closed = false;
  try {
    // onlisten runs on every (re)connect of the listening connection: catch up on what was missed
    await sql.listen(
      CHANGES_CHANNEL,
      (payload) => bus.notify(Number(payload)),
      () => bus.catchUp(),
    );
  } catch (error) {
    await sql.end({ timeout: 1 });
    throw error;
  }
  const poll = setInterval(() => bus.catchUp(), options.pollMs ?? 5000);
  poll.unref();

  const announce = (revision: number): void => {
    sql.notify(CHANGES_CHANNEL, String(revision)).catch((error: unknown) => {
      if (!closed) log.warn(`change stream: NOTIFY failed (other servers catch up by polling): ${String(error)}`);
    });
  };

  return {
    publisher: {
      publish(changes: readonly ChangeEntry[]): void {
        bus.publish(changes);
        const top = changes.reduce((max, c) => Math.max(max, c.revision), 0);
        if (top > 0) announce(top);
      },
    },
    async close() {
      closed = true;
      clearInterval(poll);
      await sql.end({ timeout: 2 });
    },
  };
}

import type { ChangePublisher } from '../domain/ports.js';
import type { AccessControl } from '../shared/access.js';
import type { StreamHandler } from '../shared/ports.js';
import type { Logger } from '../logger.js';
import type { Metrics } from '../metrics/metrics.js';
import type { Store } from '../storage/store.js';
import { ChangeBus, type KeyInvalidator } from './change-bus.js';
import type { PgNotifyBridge } from './pg-notify-bridge.js';
import { SseHub } from './sse-hub.js';
import { createStreamHandler } from './subscribe-handler.js';

export interface ChangeStreamsOptions {
  store: Store;
  log: Logger;
  sse: { heartbeatMs: number; buffer: number };
  metrics?: Metrics | undefined;
  /** the read cache, told to drop every changed key (also changes made by other servers) */
  invalidator?: KeyInvalidator | undefined;
  /** PostgreSQL URL when several servers may share the database (LISTEN/NOTIFY) */
  postgresUrl?: string | undefined;
}

/** The change-streams module as the composition root sees it. */
export interface ChangeStreams {
  /** give to the KV service: every committed write goes here */
  readonly publisher: ChangePublisher;
  /** give to the HTTP app: serves `GET /kv/subscribe/...`, asking `access` who may read what */
  handler(access: AccessControl): StreamHandler;
  readonly bus: ChangeBus;
  readonly hub: SseHub;
  /** end every stream (clients resume elsewhere) and stop listening; call before closing the app */
  close(): Promise<void>;
}

/** Build bus, hub, subscribe handler and (for PostgreSQL) the cross-server bridge. */
export async function startChangeStreams(options: ChangeStreamsOptions): Promise<ChangeStreams> {
  const bus = new ChangeBus({ store: options.store, log: options.log, invalidator: options.invalidator });
  await bus.start();
  const hub = new SseHub({ heartbeatMs: options.sse.heartbeatMs, metrics: options.metrics });
  bus.subscribe(hub.deliver);
  let bridge: PgNotifyBridge | undefined;
  if (options.postgresUrl !== undefined) {
    const { startPgNotifyBridge } = await import('./pg-notify-bridge.js');
    bridge = await startPgNotifyBridge({ url: options.postgresUrl, bus, log: options.log });
  }
  let closing: Promise<void> | undefined;
  return {
    publisher: bridge?.publisher ?? bus,
    handler: (access) =>
      createStreamHandler({ hub, store: options.store, access, log: options.log, buffer: options.sse.buffer }),
    bus,
    hub,
    close: () =>
      (closing ??= (async () => {
        await bus.settle(); // changes committed before the end reach the streams before it
        await hub.close();
        bus.stop();
        await bridge?.close();
      })()),
  };
}

/** One publisher that hands every commit to each present one, in order (git mirror, streams). */
export function fanOutPublishers(...publishers: ReadonlyArray<ChangePublisher | undefined>): ChangePublisher {
  const present = publishers.filter((p): p is ChangePublisher => p !== undefined);
  if (present.length === 1) return present[0] as ChangePublisher;
  return {
    publish(changes) {
      for (const p of present) p.publish(changes);
    },
  };
}

import type { Logger } from '../logger.js';
import type { Store } from '../storage/store.js';

/** Versions of each key kept whatever their age (extensions.md section 3). */
export const HISTORY_KEEP_PER_KEY = 10;
const HOUR_MS = 3_600_000;

/** Prune the change log at start and hourly; retention 0 keeps everything. */
export function createHistoryPruner(store: Store, retentionMs: number, log: Logger): { stop(): void } {
  if (retentionMs <= 0) return { stop() {} };
  const run = (): void => {
    store
      .pruneHistory(new Date(Date.now() - retentionMs), HISTORY_KEEP_PER_KEY)
      .then((n) => {
        if (n > 0) log.info(`pruned ${n} change-log entries older than the retention`);
      })
      .catch((error: unknown) => log.warn(`change-log pruning failed: ${String(error)}`));
  };
  run();
  const timer = setInterval(run, HOUR_MS);
  timer.unref();
  return { stop: () => clearInterval(timer) };
}

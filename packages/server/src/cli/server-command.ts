import type { ServerConfig } from '../config/server-config.js';
import { startStashServer } from '../compose.js';
import type { Logger } from '../logger.js';

/** `stash server`: start, then wait for SIGINT/SIGTERM and shut down gracefully. */
export async function runServer(config: ServerConfig, version: string, log: Logger): Promise<number> {
  const server = await startStashServer(config, { version, log });
  return new Promise<number>((resolve) => {
    let stopping = false;
    const stop = (signal: string): void => {
      if (stopping) return;
      stopping = true;
      log.info(`${signal} received, shutting down`);
      const force = setTimeout(() => {
        log.warn('shutdown timeout reached, closing connections');
        resolve(0);
      }, Math.max(config.server.shutdownTimeoutMs, 100));
      force.unref();
      server.close().then(
        () => {
          clearTimeout(force);
          log.info('server stopped');
          resolve(0);
        },
        (error: unknown) => {
          log.error(`shutdown failed: ${String(error)}`);
          resolve(1);
        },
      );
    };
    process.once('SIGINT', () => stop('SIGINT'));
    process.once('SIGTERM', () => stop('SIGTERM'));
  });
}

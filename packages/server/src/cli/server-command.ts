import type { ServerConfig } from '../config/server-config.js';
import { startStashServer } from '../compose.js';
import type { Logger } from '../logger.js';

// time allowed past --server.shutdown-timeout for flushing writes and closing the database
const CLOSE_GRACE_MS = 2000;

/**
 * `stash server`: start, then wait for SIGINT/SIGTERM and shut down gracefully (in-flight requests
 * finish, the group-commit queue is flushed, the database is closed). A second signal, or a close
 * that outlives the shutdown timeout, exits at once with code 1.
 */
export async function runServer(config: ServerConfig, version: string, log: Logger): Promise<number> {
  const server = await startStashServer(config, { version, log });
  // a stray rejected promise in a background task must not take the whole server down
  process.on('unhandledRejection', (reason: unknown) => {
    log.error(`unhandled rejection: ${reason instanceof Error ? (reason.stack ?? reason.message) : String(reason)}`);
  });
  return new Promise<number>((resolve) => {
    let stopping = false;
    const stop = (signal: string): void => {
      if (stopping) {
        log.warn(`${signal} received again, exiting without waiting`);
        process.exit(1);
      }
      stopping = true;
      log.info(`${signal} received, shutting down`);
      const force = setTimeout(() => {
        log.error('shutdown did not finish in time, exiting');
        process.exit(1);
      }, config.server.shutdownTimeoutMs + CLOSE_GRACE_MS);
      force.unref();
      server.close().then(
        () => {
          clearTimeout(force);
          log.info('server stopped');
          // a stray handle (timer, socket) must not keep a stopped server alive
          setTimeout(() => process.exit(process.exitCode ?? 0), 1000).unref();
          resolve(0);
        },
        (error: unknown) => {
          clearTimeout(force);
          log.error(`shutdown failed: ${error instanceof Error ? error.message : String(error)}`);
          resolve(1);
        },
      );
    };
    process.on('SIGINT', () => stop('SIGINT'));
    process.on('SIGTERM', () => stop('SIGTERM'));
    // the original dumps goroutine stacks on SIGQUIT; Node's nearest equivalent is a diagnostic report
    process.on('SIGQUIT', () => {
      process.stdout.write(`${JSON.stringify(process.report.getReport(), null, 2)}\n`);
    });
  });
}

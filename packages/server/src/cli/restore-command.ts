import type { ServerConfig } from '../config/server-config.js';
import type { Logger } from '../logger.js';

/** `stash restore --rev=REV` arrives with the git mirror. */
export function runRestore(_config: ServerConfig, _rev: string, log: Logger): Promise<number> {
  log.error('restore is not implemented yet (git mirror)');
  return Promise.resolve(1);
}

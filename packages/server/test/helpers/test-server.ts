import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseOptions } from '../../src/config/flag-parser.js';
import { GLOBAL_OPTIONS } from '../../src/config/options.js';
import { buildServerConfig, type ServerConfig } from '../../src/config/server-config.js';
import { startStashServer, type StashServer } from '../../src/compose.js';
import { createLogger, silentLogger, type Logger } from '../../src/logger.js';

export interface TestServer extends StashServer {
  config: ServerConfig;
  /** the temp directory holding the SQLite file (removed on close) */
  dir: string;
}

/** PostgreSQL URL for tests, from the environment; undefined means PG tests skip with a message. */
export const PG_URL = process.env['STASH_TEST_PG_URL'];

export function makeTempDir(prefix = 'stash-test-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/**
 * Start a real server on 127.0.0.1 and an ephemeral port, configured through the real flag
 * parser. Defaults: a fresh SQLite file, no rate limit. `args` are `stash server` flags.
 */
export async function startTestServer(
  args: string[] = [],
  options: { log?: Logger; fastReads?: boolean } = {},
): Promise<TestServer> {
  const dir = makeTempDir();
  const parsed = parseOptions(
    ['--db', join(dir, 'stash.db'), '--server.address', '127.0.0.1:0', '--limits.requests-per-sec', '0', ...args],
    GLOBAL_OPTIONS,
    {},
  );
  const config = buildServerConfig(parsed.values);
  const log = options.log ?? (process.env['STASH_TEST_LOG'] ? createLogger({ debug: true }) : silentLogger);
  const server = await startStashServer(config, { version: 'test', log, fastReads: options.fastReads });
  return {
    ...server,
    config,
    dir,
    close: async () => {
      await server.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

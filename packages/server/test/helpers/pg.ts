import { randomBytes } from 'node:crypto';
import postgres from 'postgres';
import { PG_URL } from './test-server.js';

export { PG_URL };

/** A throwaway database; `drop()` removes it (forcibly closing leftover connections). */
export interface TestDatabase {
  url: string;
  drop(): Promise<void>;
}

/**
 * Create a uniquely named, empty database on the server of STASH_TEST_PG_URL (the role needs
 * CREATEDB) so each test file runs isolated from the others and from earlier runs.
 */
export async function createTestDatabase(): Promise<TestDatabase> {
  const server = PG_URL;
  if (!server) throw new Error('STASH_TEST_PG_URL is not set');
  const name = `stash_t_${Date.now().toString(36)}_${randomBytes(4).toString('hex')}`;
  const admin = postgres(server, { max: 1, onnotice: () => undefined });
  try {
    await admin.unsafe(`CREATE DATABASE "${name}"`);
  } finally {
    await admin.end();
  }
  const url = new URL(server);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    async drop() {
      const sql = postgres(server, { max: 1, onnotice: () => undefined });
      try {
        await sql.unsafe(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
      } finally {
        await sql.end();
      }
    },
  };
}

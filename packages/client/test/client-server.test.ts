import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  Client,
  ConflictError,
  DecryptionError,
  ForbiddenError,
  NotFoundError,
  UnauthorizedError,
  isValidZkEnvelope,
} from '@stash/client';
import { makeTempDir, startTestServer, type TestServer } from '../../server/test/helpers/test-server.js';
import { PG_URL, createTestDatabase, type TestDatabase } from '../../server/test/helpers/pg.js';

const ZK_KEY = 'client-test-passphrase-16';
const decoder = new TextDecoder();
const text = (bytes: Uint8Array): string => decoder.decode(bytes);

if (!PG_URL) console.warn('client PostgreSQL tests skipped: STASH_TEST_PG_URL is not set');

const ENGINES = [
  { name: 'SQLite', skip: false, db: async (): Promise<{ args: string[]; db?: TestDatabase }> => ({ args: [] }) },
  {
    name: 'PostgreSQL',
    skip: !PG_URL,
    db: async (): Promise<{ args: string[]; db?: TestDatabase }> => {
      const db = await createTestDatabase();
      return { args: ['--db', db.url], db };
    },
  },
];

describe.each(ENGINES)('Client against a real server ($name)', ({ skip, db: makeDb }) => {
  let server: TestServer;
  let db: TestDatabase | undefined;
  let client: Client;

  beforeAll(async () => {
    if (skip) return;
    const made = await makeDb();
    db = made.db;
    server = await startTestServer(made.args);
    client = new Client(`${server.url}/`, { retries: 0 });
  });

  afterAll(async () => {
    client?.close();
    await server?.close();
    await db?.drop();
  });

  it.skipIf(skip)('ping', async () => {
    await expect(client.ping()).resolves.toBeUndefined();
  });

  it.skipIf(skip)('set/get/getBytes/getOrDefault/info/has/delete', async () => {
    const first = await client.set('app/config', '{"debug":true}', 'json');
    expect(first.created).toBe(true);
    expect(first.revision).toBeGreaterThan(0);
    const second = await client.set('app/config', '{"debug":false}', { format: 'json' });
    expect(second).toEqual({ revision: first.revision + 1, created: false });
    expect(await client.get('app/config')).toBe('{"debug":false}');
    expect(text(await client.getBytes('app/config'))).toBe('{"debug":false}');
    expect(await client.getOrDefault('app/missing', 'fallback')).toBe('fallback');
    const info = await client.info('app/config');
    expect(info).toMatchObject({ key: 'app/config', format: 'json', size: 15, secret: false, zkEncrypted: false });
    expect(info.revision).toBe(second.revision);
    expect(info.createdAt).toBeInstanceOf(Date);
    expect(info.updatedAt.getTime()).toBeGreaterThanOrEqual(info.createdAt.getTime());
    expect(await client.has('app/config')).toBe(true);
    expect(await client.has('app/conf')).toBe(false);
    await client.delete('app/config');
    await expect(client.get('app/config')).rejects.toBeInstanceOf(NotFoundError);
    await expect(client.delete('app/config')).rejects.toBeInstanceOf(NotFoundError);
    await expect(client.info('app/config')).rejects.toBeInstanceOf(NotFoundError);
  });

  it.skipIf(skip)('NotFoundError keeps the key', async () => {
    const error = await client.get('no/such key').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(NotFoundError);
    expect((error as NotFoundError).key).toBe('no/such_key');
  });

  it.skipIf(skip)('binary values round-trip', async () => {
    const bytes = new Uint8Array(256).map((_, i) => i);
    await client.set('bin/all-bytes', bytes);
    expect(await client.getBytes('bin/all-bytes')).toEqual(bytes);
  });

  it.skipIf(skip)('keys with spaces, ?, #, %, *, unicode round-trip', async () => {
    const keys = ['odd/a b', 'odd/what?', 'odd/hash#tag', 'odd/100%', 'odd/star*', 'odd/ünïcödé/日本', 'odd/%2F', "odd/a!'()~.b"];
    for (const [i, key] of keys.entries()) await client.set(key, `v${i}`);
    for (const [i, key] of keys.entries()) expect(await client.get(key)).toBe(`v${i}`);
    const listed = (await client.list('odd/')).map((k) => k.key).sort();
    expect(listed).toEqual(keys.map((k) => k.replaceAll(' ', '_')).sort());
    for (const key of keys) expect((await client.info(key)).key).toBe(key.replaceAll(' ', '_'));
  });

  it.skipIf(skip)('list with a prefix, and an empty match', async () => {
    await client.set('list/a', '1');
    await client.set('list/b', '2');
    await client.set('listing', '3');
    expect((await client.list('list/')).map((k) => k.key).sort()).toEqual(['list/a', 'list/b']);
    expect(await client.list('nothing/here/')).toEqual([]);
    expect((await client.list()).length).toBeGreaterThanOrEqual(3);
  });

  it.skipIf(skip)('conditional set and delete -> ConflictError with the current revision', async () => {
    const { revision } = await client.set('cas/k', 'v1', { ifAbsent: true });
    const again = await client.set('cas/k', 'x', { ifAbsent: true }).catch((e: unknown) => e);
    expect(again).toBeInstanceOf(ConflictError);
    expect((again as ConflictError).currentRevision).toBe(revision);
    expect((again as ConflictError).key).toBe('cas/k');
    const next = await client.set('cas/k', 'v2', { ifRevision: revision });
    expect(next.revision).toBeGreaterThan(revision);
    const stale = await client.set('cas/k', 'v3', { ifRevision: revision }).catch((e: unknown) => e);
    expect((stale as ConflictError).currentRevision).toBe(next.revision);
    const staleDelete = await client.delete('cas/k', { ifRevision: revision }).catch((e: unknown) => e);
    expect(staleDelete).toBeInstanceOf(ConflictError);
    await client.delete('cas/k', { ifRevision: next.revision });
    expect(await client.has('cas/k')).toBe(false);
    const absent = await client.set('cas/k', 'v', { ifRevision: next.revision }).catch((e: unknown) => e);
    expect((absent as ConflictError).currentRevision).toBe(0);
  });

  it.skipIf(skip)('history and getAt', async () => {
    const r1 = await client.set('hist/k', 'one');
    const r2 = await client.set('hist/k', 'two', 'yaml');
    await client.delete('hist/k');
    const entries = await client.history('hist/k');
    expect(entries.map((e) => e.operation)).toEqual(['delete', 'update', 'create']);
    expect(entries.map((e) => e.revision)).toEqual([r2.revision + 1, r2.revision, r1.revision]);
    expect(text(entries[1]!.value)).toBe('two');
    expect(entries[1]!.format).toBe('yaml');
    expect(entries[1]!.timestamp).toBeInstanceOf(Date);
    expect(await client.history('hist/k', { limit: 1 })).toHaveLength(1);
    expect(text(await client.getAt('hist/k', r1.revision))).toBe('one');
    expect(text(await client.getAt('hist/k', r2.revision))).toBe('two');
    await expect(client.getAt('hist/k', r2.revision + 1)).rejects.toBeInstanceOf(NotFoundError);
  });

  it.skipIf(skip)('setMany and exportValues', async () => {
    await client.set('batch/gone', 'x');
    const bytes = new Uint8Array([0, 255, 10]);
    const { revision } = await client.setMany([
      { key: 'batch/a', value: 'A', format: 'json' },
      { key: 'batch/b', value: bytes },
      { key: 'batch/gone', delete: true },
    ]);
    expect(revision).toBeGreaterThan(0);
    const exported = await client.exportValues('batch/');
    expect(exported.revision).toBe(revision);
    const byKey = new Map(exported.items.map((item) => [item.key, item]));
    expect([...byKey.keys()].sort()).toEqual(['batch/a', 'batch/b']);
    expect(text(byKey.get('batch/a')!.value)).toBe('A');
    expect(byKey.get('batch/a')!.format).toBe('json');
    expect(byKey.get('batch/b')!.value).toEqual(bytes);
  });

  it.skipIf(skip)('setMany is all or nothing', async () => {
    await expect(
      client.setMany([
        { key: 'atomic/a', value: 'A' },
        { key: 'atomic/missing', delete: true },
      ]),
    ).rejects.toThrow();
    expect(await client.has('atomic/a')).toBe(false);
  });

  it.skipIf(skip)('ZK values: stored as $ZK$, decrypted on read, plain values passed through', async () => {
    await using zk = new Client(server.url, { zkKey: ZK_KEY, retries: 0 });
    await client.set('zk/plain', 'not encrypted');
    await zk.set('zk/secret', 'sk-secret-value 🔐');
    const stored = await client.get('zk/secret');
    expect(stored.startsWith('$ZK$')).toBe(true);
    expect(isValidZkEnvelope(stored)).toBe(true);
    expect(await zk.get('zk/secret')).toBe('sk-secret-value 🔐');
    expect(await zk.get('zk/plain')).toBe('not encrypted');
    expect((await zk.info('zk/secret')).zkEncrypted).toBe(true);
    await zk.setMany([{ key: 'zk/batch', value: 'batched' }]);
    expect((await client.get('zk/batch')).startsWith('$ZK$')).toBe(true);
    const exported = await zk.exportValues('zk/');
    expect(text(exported.items.find((i) => i.key === 'zk/batch')!.value)).toBe('batched');
    expect(text((await zk.history('zk/secret'))[0]!.value)).toBe('sk-secret-value 🔐');
    expect(text((await zk.history('zk/secret', { decrypt: false }))[0]!.value)).toBe(stored);
    await using other = new Client(server.url, { zkKey: 'a-different-passphrase', retries: 0 });
    await expect(other.get('zk/secret')).rejects.toBeInstanceOf(DecryptionError);
  });

  it.skipIf(skip)('await using closes the client at the end of the scope', async () => {
    let outside: Client;
    {
      await using scoped = new Client(server.url, { zkKey: ZK_KEY });
      outside = scoped;
      await scoped.set('scoped/k', 'v');
    }
    await expect(outside.get('scoped/k')).rejects.toThrow(/closed/);
  });
});

describe('Client with auth (SQLite)', () => {
  let server: TestServer;
  const dir = makeTempDir('stash-client-auth-');

  beforeAll(async () => {
    const file = join(dir, 'auth.yml');
    writeFileSync(
      file,
      ['tokens:', '  - token: writer-token', '    permissions:', '      - prefix: "app/*"', '        access: rw'].join('\n'),
    );
    server = await startTestServer(['--auth.file', file]);
  });

  afterAll(async () => {
    await server?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('token allows, missing token -> 401, other prefix -> 403', async () => {
    await using writer = new Client(server.url, { token: 'writer-token' });
    await writer.set('app/x', '1');
    expect(await writer.get('app/x')).toBe('1');
    await expect(writer.set('other/x', '1')).rejects.toBeInstanceOf(ForbiddenError);
    await using anonymous = new Client(server.url);
    await expect(anonymous.get('app/x')).rejects.toBeInstanceOf(UnauthorizedError);
    await using wrong = new Client(server.url, { token: 'nope' });
    await expect(wrong.list()).rejects.toBeInstanceOf(UnauthorizedError);
  });
});

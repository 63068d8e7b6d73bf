import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConsulExport, parseEtcdJson, parseVaultJson, toConsulExport, toEtcdJson } from '../../src/cli/client/peer-formats.js';
import { makeTempDir, startTestServer, type TestServer } from '../helpers/test-server.js';
import { buildOnce, runCli } from './run-cli.js';

const PEERS = fileURLToPath(new URL('../fixtures/peers/', import.meta.url));
const CONSUL = join(PEERS, 'consul-kv-export.json');
const ETCD = join(PEERS, 'etcdctl-get-prefix.json');
const VAULT_V2 = join(PEERS, 'vault-kv2-get.json');
const VAULT_V1 = join(PEERS, 'vault-kv1-get.json');
const SECRETS_KEY = 'peer-test-secrets-key-0123456789';

type Item = { key: string; value: string; format: string; encoding: string };

/** What the fixture's keys hold, decoded by hand (folder entry left out). */
const CONSUL_VALUES: Record<string, Buffer> = {
  'app/binary': Buffer.from([0xff, 0x00, 0x01]),
  'app/config/db_host': Buffer.from('db.internal'),
  'app/config/db_port': Buffer.from('5432'),
  'app/config/settings.json': Buffer.from('{"debug": true,\n "level": "info"}\n'),
  'app/empty': Buffer.alloc(0),
  'app/feature/flags': Buffer.from('on'),
  'app/unicode': Buffer.from('grüße ✓'),
};

describe('import --from and export --to Consul, etcd and Vault (built bin)', () => {
  let plain: TestServer;
  let sealed: TestServer;
  let dir: string;
  const on = (server: TestServer) => ({ env: { STASH_URL: server.url } });
  const value = async (server: TestServer, key: string): Promise<Buffer> => Buffer.from((await server.service.get(key)).value);
  const keysUnder = async (server: TestServer, prefix: string): Promise<string[]> =>
    (await server.service.list(prefix, 'all')).map((k) => k.key).sort();

  beforeAll(async () => {
    await buildOnce();
    [plain, sealed] = await Promise.all([startTestServer(), startTestServer(['--secrets.key', SECRETS_KEY])]);
    dir = makeTempDir('stash-cli-peers-');
  });

  afterAll(async () => {
    await Promise.all([plain?.close(), sealed?.close()]);
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('consul: --dry-run shows the plan and writes nothing; then one batch; then nothing left to do', async () => {
    const dry = await runCli(['import', '--from', 'consul', CONSUL, '--prefix', 'c1', '--dry-run'], on(plain));
    expect(dry.code).toBe(0);
    const rows = dry.stdout.trimEnd().split('\n').map((l) => l.split('\t'));
    expect(rows.map((r) => r[1])).toEqual(Object.keys(CONSUL_VALUES).map((k) => `c1/${k}`));
    expect(rows.every((r) => r[0] === 'create')).toBe(true);
    expect(dry.stderr).toContain('skipped 1 folder entry');
    expect(dry.stderr).toContain('dropped the consul flags of 1 key');
    expect(dry.stderr).toContain('dry run: 7 to create, 0 to update, 0 left alone; nothing was written');
    expect(await keysUnder(plain, 'c1/')).toEqual([]);

    const applied = await runCli(['import', '--from', 'consul', CONSUL, '--prefix', 'c1'], on(plain));
    expect(applied.code).toBe(0);
    const batchRevision = Number(/imported 7 keys \(revision (\d+)\): 7 created, 0 updated, 0 left alone/.exec(applied.stderr)?.[1]);
    for (const [key, bytes] of Object.entries(CONSUL_VALUES)) expect((await value(plain, `c1/${key}`)).equals(bytes), key).toBe(true);
    // one batch: seven consecutive revisions that end at the one the batch answered
    const revisions = (await plain.service.list('c1/', 'all')).map((k) => k.revision ?? 0).sort((a, b) => a - b);
    expect(revisions).toEqual(Array.from({ length: 7 }, (_, i) => batchRevision - 6 + i));

    const again = await runCli(['import', '--from', 'consul', CONSUL, '--prefix', 'c1'], on(plain));
    expect(again.code).toBe(0);
    expect(again.stderr).toContain('nothing to import: all 7 keys are already up to date');

    await plain.service.put('c1/app/config/db_port', Buffer.from('6543'), 'text', { actor: '' });
    const json = await runCli(['import', '--from', 'consul', CONSUL, '--prefix', 'c1', '--dry-run', '--json'], on(plain));
    const plan = JSON.parse(json.stdout) as { dry_run: boolean; counts: Record<string, number>; items: { key: string; change: string }[] };
    expect(plan.dry_run).toBe(true);
    expect(plan.counts).toEqual({ create: 0, update: 1, unchanged: 6 });
    expect(plan.items.find((i) => i.change === 'update')?.key).toBe('c1/app/config/db_port');
  });

  it('etcd: keys lose their leading slash, an absent value is empty, leases are noted', async () => {
    const res = await runCli(['import', '--from', 'etcd', ETCD, '--prefix', 'e1', '--json'], on(plain));
    expect(res.code).toBe(0);
    expect(res.stderr).toContain('1 key has an etcd lease');
    expect(JSON.parse(res.stdout)).toMatchObject({ dry_run: false, counts: { create: 5, update: 0, unchanged: 0 } });
    expect(await keysUnder(plain, 'e1/')).toEqual(['e1/app/binary', 'e1/app/config/db_host', 'e1/app/config/db_port', 'e1/app/empty', 'e1/app/lease']);
    expect((await value(plain, 'e1/app/empty')).length).toBe(0);
    expect((await value(plain, 'e1/app/binary')).equals(Buffer.from([0xff, 0x00, 0x01]))).toBe(true);
  });

  it('vault: fields become keys under --prefix; with a secrets key they land under secrets/', async () => {
    const needsPrefix = await runCli(['import', '--from', 'vault', VAULT_V2], on(plain));
    expect(needsPrefix.code).toBe(2);
    expect(needsPrefix.stderr).toContain('--prefix');

    const open = await runCli(['import', '--from', 'vault', VAULT_V2, '--prefix', 'svc/db'], on(plain));
    expect(open.code).toBe(0);
    expect(await keysUnder(plain, 'svc/')).toEqual(['svc/db/options', 'svc/db/password', 'svc/db/port', 'svc/db/username']);
    expect((await value(plain, 'svc/db/password')).toString()).toBe('s3cr3t!');
    expect((await value(plain, 'svc/db/port')).toString()).toBe('5432');
    const options = await plain.service.get('svc/db/options');
    expect(options.format).toBe('json');
    expect(JSON.parse(Buffer.from(options.value).toString())).toEqual({ ssl: true, pool: 10 });

    const secret = await runCli(['import', '--from', 'vault', VAULT_V2, '--prefix', 'svc/db'], on(sealed));
    expect(secret.code).toBe(0);
    expect(secret.stderr).toContain('the fields go under svc/db/secrets/');
    const listed = await sealed.service.list('svc/', 'all');
    expect(listed.map((k) => k.key).sort()).toEqual(['svc/db/secrets/options', 'svc/db/secrets/password', 'svc/db/secrets/port', 'svc/db/secrets/username']);
    expect(listed.every((k) => k.secret)).toBe(true);
    expect((await value(sealed, 'svc/db/secrets/password')).toString()).toBe('s3cr3t!');

    // KV v1, and a prefix that already is a secret path: no second secrets/ segment
    const v1 = await runCli(['import', '--from', 'vault', VAULT_V1, '--prefix', 'api/secrets'], on(sealed));
    expect(v1.code).toBe(0);
    expect(await keysUnder(sealed, 'api/')).toEqual(['api/secrets/api_key', 'api/secrets/region']);
  });

  it('consul round trip: export --to consul, import --from consul, same bytes', async () => {
    const file = join(dir, 'consul-out.json');
    const exported = await runCli(['export', '--to', 'consul', '--prefix', 'c1/app', file], on(plain));
    expect(exported.code).toBe(0);
    expect(exported.stderr).toMatch(/exported 7 keys at revision \d+ as consul JSON to /);
    const text = readFileSync(file, 'utf8');
    expect(text.startsWith('[\n\t{\n\t\t"key": ')).toBe(true); // consul's own indentation
    const entries = JSON.parse(text) as { key: string; flags: number; value: string }[];
    expect(entries.map((e) => e.key)).toEqual(Object.keys(CONSUL_VALUES).map((k) => k.slice('app/'.length)).sort());
    expect(entries.every((e) => e.flags === 0 && typeof e.value === 'string')).toBe(true);

    const back = await runCli(['import', '--from', 'consul', file, '--prefix', 'rt/consul'], on(sealed));
    expect(back.code).toBe(0);
    for (const key of Object.keys(CONSUL_VALUES)) {
      const name = key.slice('app/'.length);
      expect((await value(sealed, `rt/consul/${name}`)).equals(await value(plain, `c1/app/${name}`)), key).toBe(true);
    }
    expect((await value(sealed, 'rt/consul/binary')).equals(Buffer.from([0xff, 0x00, 0x01]))).toBe(true);
  });

  it('etcd round trip: export --to etcd to stdout, import --from etcd, same bytes', async () => {
    const exported = await runCli(['export', '--to', 'etcd', '--prefix', 'e1'], on(plain));
    expect(exported.code).toBe(0);
    const parsed = JSON.parse(exported.stdout) as { header: { revision: number }; kvs: { key: string; value?: string; mod_revision: number }[]; count: number };
    expect(parsed.count).toBe(5);
    expect(parsed.header.revision).toBeGreaterThan(0);
    const names = parsed.kvs.map((kv) => Buffer.from(kv.key, 'base64').toString());
    expect(names).toEqual(['app/binary', 'app/config/db_host', 'app/config/db_port', 'app/empty', 'app/lease']);
    expect(parsed.kvs.find((kv) => Buffer.from(kv.key, 'base64').toString() === 'app/empty')).not.toHaveProperty('value');
    const file = join(dir, 'etcd-out.json');
    writeFileSync(file, exported.stdout);
    expect((await runCli(['import', '--from', 'etcd', file, '--prefix', 'rt/etcd'], on(plain))).code).toBe(0);
    for (const name of names) expect((await value(plain, `rt/etcd/${name}`)).equals(await value(plain, `e1/${name}`)), name).toBe(true);
  });

  it('native export/import take --prefix the same way', async () => {
    const exported = await runCli(['export', '--prefix', 'e1/app/config'], on(plain));
    const items = JSON.parse(exported.stdout) as Item[];
    expect(items.map((i) => i.key).sort()).toEqual(['db_host', 'db_port']);
    const file = join(dir, 'native.json');
    writeFileSync(file, exported.stdout);
    expect((await runCli(['import', file, '--prefix', 'moved/config'], on(plain))).code).toBe(0);
    expect((await value(plain, 'moved/config/db_host')).toString()).toBe('db.internal');
  });

  it('a malformed peer file is refused before anything is sent', async () => {
    const file = join(dir, 'bad-etcd.json');
    writeFileSync(file, JSON.stringify({ kvs: [{ key: Buffer.from('ok').toString('base64'), value: 'b2s=' }, { key: 'not base64!', value: 'eA==' }] }));
    const res = await runCli(['import', '--from', 'etcd', file, '--prefix', 'bad'], on(plain));
    expect(res.code).toBe(5);
    expect(res.stderr).toContain('kvs[1]: "key" is not padded standard base64');
    expect(await keysUnder(plain, 'bad/')).toEqual([]);
    const wrongTool = await runCli(['import', '--from', 'vault', CONSUL, '--prefix', 'bad'], on(plain));
    expect(wrongTool.code).toBe(5);
    expect(wrongTool.stderr).toContain('expected {"data": {...}} (vault kv get -format=json)');
  });
});

describe('peer file readers', () => {
  it('vault: KV v2 and v1 are told apart; a deleted version and a non-object are refused', () => {
    expect(parseVaultJson(readFileSync(VAULT_V2, 'utf8'), 'v2').version).toBe(2);
    const v1 = parseVaultJson(readFileSync(VAULT_V1, 'utf8'), 'v1');
    expect(v1.version).toBe(1);
    expect(v1.items).toEqual([
      { key: 'api_key', value: 'abc123', format: 'text' },
      { key: 'region', value: 'eu-west-1', format: 'text' },
    ]);
    const deleted = JSON.stringify({ data: { data: null, metadata: { deletion_time: '2024-01-01T00:00:00Z', destroyed: false, version: 2 } } });
    expect(() => parseVaultJson(deleted, 'd.json')).toThrow(/deleted or destroyed/);
    expect(() => parseVaultJson('[]', 'a.json')).toThrow(/expected \{"data"/);
    expect(() => parseVaultJson('{"data": {"": "x"}}', 'e.json')).toThrow(/empty field name/);
  });

  it('consul: not an array, bad base64 and duplicates are refused naming the entry', () => {
    expect(() => parseConsulExport('{}', 'c.json')).toThrow(/expected a JSON array/);
    expect(() => parseConsulExport('[{"key": "a", "flags": 0, "value": "!!"}]', 'c.json')).toThrow(/entry 0 \("a"\): "value" is not padded standard base64/);
    expect(() => parseConsulExport('[{"key": "a", "value": ""}, {"key": "a", "value": ""}]', 'c.json')).toThrow(/entry 1: duplicate key "a"/);
    expect(() => parseConsulExport('not json', 'c.json')).toThrow(/c\.json: not valid JSON/);
  });

  it('etcd: an empty result has no kvs; keys must be UTF-8', () => {
    expect(parseEtcdJson('{"header": {"revision": 3}, "count": 0}', 'e.json').items).toEqual([]);
    const latin1 = JSON.stringify({ kvs: [{ key: Buffer.from([0xff, 0xfe]).toString('base64'), value: 'eA==' }] });
    expect(() => parseEtcdJson(latin1, 'e.json')).toThrow(/kvs\[0\]: the key is not UTF-8 text/);
  });

  it('written files read back to the same items', () => {
    const items = [
      { name: 'b/text', value: new Uint8Array(Buffer.from('grüße')), revision: 4 },
      { name: 'a/bin', value: new Uint8Array([0, 255]), revision: 7 },
      { name: 'c/empty', value: new Uint8Array(), revision: 9 },
    ];
    const expected = [
      { key: 'a/bin', value: new Uint8Array([0, 255]), format: 'text' },
      { key: 'b/text', value: 'grüße', format: 'text' },
      { key: 'c/empty', value: '', format: 'text' },
    ];
    expect(parseConsulExport(toConsulExport(items), 'c').items).toEqual(expected);
    expect(parseEtcdJson(toEtcdJson(items, 9), 'e').items).toEqual(expected);
  });
});

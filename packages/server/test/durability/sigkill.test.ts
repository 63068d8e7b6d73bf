import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeTempDir } from '../helpers/test-server.js';
import { buildOnce, startStashProcess, type Spawned } from '../helpers/spawned-server.js';

const CLIENTS = 16;
const CYCLES = 3;
const LOAD_MS = 1000;
// on a busy machine the first second may see few writes: keep loading until this many are acknowledged
const MIN_ACKED = 200;

/** One PUT as a client sent it; `acked` once a 2xx came back. */
interface Attempt {
  value: string;
  acked: boolean;
  revision?: number;
}

/** Everything the clients tried, per key, in the order they tried it (writes to one key are sequential). */
const attempts = new Map<string, Attempt[]>();
const ackedRevisions: number[] = [];
let ackedThisCycle = 0;

/**
 * One client: PUTs of fresh keys, and every fourth request an update of one of its own earlier
 * keys, back to back on a keep-alive connection until the server dies under it.
 */
async function runClient(url: string, id: number, cycle: number, own: string[]): Promise<number> {
  let acked = 0;
  let lastRevision = 0;
  for (let n = 0; ; n++) {
    const update = own.length > 0 && n % 4 === 3;
    const key = update ? (own[Math.floor(Math.random() * own.length)] as string) : `c${cycle}/w${id}/k${n}`;
    const attempt: Attempt = { value: `${key}@${cycle}.${n}.${randomBytes(6).toString('hex')}`, acked: false };
    attempts.set(key, [...(attempts.get(key) ?? []), attempt]);
    let res: Response;
    try {
      res = await fetch(`${url}/kv/${key}`, { method: 'PUT', body: attempt.value });
      await res.arrayBuffer();
    } catch {
      return acked; // the server was killed
    }
    if (res.status !== 200 && res.status !== 201) throw new Error(`PUT ${key}: unexpected ${res.status}`);
    attempt.acked = true;
    attempt.revision = Number(res.headers.get('x-stash-revision'));
    // one client's writes are sequential, so their revisions must grow
    if (!(attempt.revision > lastRevision)) throw new Error(`revision ${attempt.revision} after ${lastRevision}`);
    lastRevision = attempt.revision;
    ackedRevisions.push(attempt.revision);
    ackedThisCycle++;
    if (!update) own.push(key);
    acked++;
  }
}

/** Every acknowledged write survived with its value or a later attempted one; nothing else is there. */
async function verify(url: string): Promise<void> {
  const res = await fetch(`${url}/kv/?values=true`);
  expect(res.status).toBe(200);
  const items = (await res.json()) as { key: string; value: string; revision: number }[];
  const stored = new Map(items.map((i) => [i.key, { value: Buffer.from(i.value, 'base64').toString(), revision: i.revision }]));
  for (const key of stored.keys()) expect(attempts.has(key), `unexpected key ${key}`).toBe(true);
  let checked = 0;
  for (const [key, tries] of attempts) {
    const lastAck = tries.findLastIndex((t) => t.acked);
    const found = stored.get(key);
    if (lastAck === -1) {
      // never acknowledged: absent, or one of the attempted values
      if (found) expect(tries.map((t) => t.value)).toContain(found.value);
      continue;
    }
    expect(found, `acknowledged key ${key} is missing`).toBeDefined();
    const at = tries.findIndex((t) => t.value === found?.value);
    expect(at, `key ${key} holds ${found?.value}, acknowledged ${tries[lastAck]?.value}`).toBeGreaterThanOrEqual(lastAck);
    if (at === lastAck) expect(found?.revision).toBe(tries[lastAck]?.revision);
    checked++;
  }
  expect(checked).toBeGreaterThan(0);
}

function integrityCheck(db: string): void {
  const conn = new Database(db, { readonly: true });
  try {
    expect(conn.pragma('integrity_check', { simple: true })).toBe('ok');
  } finally {
    conn.close();
  }
}

describe('kill -9 under concurrent writes', () => {
  let dir: string;
  let server: (Spawned & { url: string }) | undefined;

  beforeAll(async () => {
    await buildOnce();
    dir = makeTempDir('stash-sigkill-');
  });
  afterAll(() => {
    server?.proc.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  });

  it('loses no acknowledged write and leaves a database that opens cleanly, over 3 kill cycles', { timeout: 90_000 }, async () => {
    const db = join(dir, 'stash.db');
    const own = Array.from({ length: CLIENTS }, () => [] as string[]);
    for (let cycle = 0; cycle < CYCLES; cycle++) {
      server = await startStashProcess(db);
      if (cycle > 0) await verify(server.url); // the previous cycle's writes, after WAL recovery
      const url = server.url;
      ackedThisCycle = 0;
      const load = Promise.all(own.map((mine, id) => runClient(url, id, cycle, mine)));
      const started = Date.now();
      while (Date.now() - started < LOAD_MS || (ackedThisCycle < MIN_ACKED && Date.now() - started < 15_000)) {
        await new Promise((r) => setTimeout(r, 50));
      }
      server.proc.kill('SIGKILL');
      expect(await server.exited).toBe('SIGKILL');
      const acked = (await load).reduce((a, b) => a + b, 0);
      expect(acked, `cycle ${cycle}: too few acknowledged writes to prove anything`).toBeGreaterThanOrEqual(MIN_ACKED);
      integrityCheck(db);
    }
    server = await startStashProcess(db);
    await verify(server.url);
    expect(new Set(ackedRevisions).size).toBe(ackedRevisions.length);
    const current = Number((await fetch(`${server.url}/kv/?values=true`)).headers.get('x-stash-revision'));
    expect(current).toBeGreaterThanOrEqual(Math.max(...ackedRevisions));
    server.proc.kill('SIGTERM');
    expect(await server.exited).toBe(0);
    server = undefined;
    integrityCheck(db);
  });
});

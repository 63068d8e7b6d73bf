import { randomBytes } from 'node:crypto';
import Database from 'better-sqlite3';
import { expect } from 'vitest';
import { startStashProcess, type Spawned } from './spawned-server.js';

export interface KillCyclesOptions {
  /** concurrent writers, each on its own keep-alive connection */
  writers: number;
  /** start, load, kill -9 and restart this many times */
  cycles: number;
  /** load at least this long before the kill */
  loadMs: number;
  /** on a busy machine the first second may see few writes: keep loading until this many are acknowledged */
  minAcked: number;
  /** runs after each kill and after the final clean stop (the SQLite integrity check) */
  afterStop?: () => void;
}

/** One PUT as a writer sent it; `acked` once a 2xx came back. */
interface Attempt {
  value: string;
  acked: boolean;
  revision?: number;
}

/** What the cycles measured, for the test's log. */
export interface KillCyclesResult {
  ackedPerCycle: number[];
  keys: number;
}

/**
 * Everything the writers tried, per key, in the order they tried it (one writer owns a key,
 * so its writes to it are sequential), and every revision a 2xx answer carried.
 */
class WriteLedger {
  readonly attempts = new Map<string, Attempt[]>();
  readonly ackedRevisions: number[] = [];
  ackedThisCycle = 0;

  /**
   * One writer: PUTs of fresh keys, and every fourth request an update of one of its own earlier
   * keys, back to back until the server dies under it. Resolves with the writes acknowledged.
   */
  async runWriter(url: string, id: number, cycle: number, own: string[]): Promise<number> {
    let acked = 0;
    let lastRevision = 0;
    for (let n = 0; ; n++) {
      const update = own.length > 0 && n % 4 === 3;
      const key = update ? (own[Math.floor(Math.random() * own.length)] as string) : `c${cycle}/w${id}/k${n}`;
      const attempt: Attempt = { value: `${key}@${cycle}.${n}.${randomBytes(6).toString('hex')}`, acked: false };
      this.attempts.set(key, [...(this.attempts.get(key) ?? []), attempt]);
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
      // one writer's writes are sequential, so their revisions must grow
      if (!(attempt.revision > lastRevision)) throw new Error(`revision ${attempt.revision} after ${lastRevision}`);
      lastRevision = attempt.revision;
      this.ackedRevisions.push(attempt.revision);
      this.ackedThisCycle++;
      if (!update) own.push(key);
      acked++;
    }
  }

  /** Every acknowledged write survived with its value or a later attempted one; nothing else is there. */
  async verify(url: string): Promise<void> {
    const res = await fetch(`${url}/kv/?values=true`);
    expect(res.status).toBe(200);
    const items = (await res.json()) as { key: string; value: string; revision: number }[];
    const stored = new Map(
      items.map((i) => [i.key, { value: Buffer.from(i.value, 'base64').toString(), revision: i.revision }]),
    );
    for (const key of stored.keys()) expect(this.attempts.has(key), `unexpected key ${key}`).toBe(true);
    let checked = 0;
    for (const [key, tries] of this.attempts) {
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
}

/** `PRAGMA integrity_check` of a SQLite file no server has open. */
export function expectSqliteIntact(db: string): void {
  const conn = new Database(db, { readonly: true });
  try {
    expect(conn.pragma('integrity_check', { simple: true })).toBe('ok');
  } finally {
    conn.close();
  }
}

/**
 * kill -9 under concurrent writers, `cycles` times, on the database `db` (a SQLite path or a
 * postgres:// URL): after each restart every acknowledged write is there with its value (or a
 * later one of its writer), revisions are unique, and a clean stop exits 0. `current` holds the
 * running server so the caller's afterAll can kill it when an assertion fails mid-cycle.
 */
export async function runKillCycles(
  db: string,
  options: KillCyclesOptions,
  current: { server?: Spawned | undefined },
): Promise<KillCyclesResult> {
  const ledger = new WriteLedger();
  const own = Array.from({ length: options.writers }, () => [] as string[]);
  const ackedPerCycle: number[] = [];
  for (let cycle = 0; cycle < options.cycles; cycle++) {
    const server = await startStashProcess(db);
    current.server = server;
    if (cycle > 0) await ledger.verify(server.url); // the previous cycle's writes, after recovery
    ledger.ackedThisCycle = 0;
    const load = Promise.all(own.map((mine, id) => ledger.runWriter(server.url, id, cycle, mine)));
    const started = Date.now();
    while (
      Date.now() - started < options.loadMs ||
      (ledger.ackedThisCycle < options.minAcked && Date.now() - started < 15_000)
    ) {
      await new Promise((r) => setTimeout(r, 50));
    }
    server.proc.kill('SIGKILL');
    expect(await server.exited).toBe('SIGKILL');
    const acked = (await load).reduce((a, b) => a + b, 0);
    expect(acked, `cycle ${cycle}: too few acknowledged writes to prove anything`).toBeGreaterThanOrEqual(options.minAcked);
    ackedPerCycle.push(acked);
    options.afterStop?.();
  }
  const server = await startStashProcess(db);
  current.server = server;
  await ledger.verify(server.url);
  const revisions = ledger.ackedRevisions;
  expect(new Set(revisions).size, 'an acknowledged revision was handed out twice').toBe(revisions.length);
  const head = Number((await fetch(`${server.url}/kv/?values=true`)).headers.get('x-stash-revision'));
  expect(head).toBeGreaterThanOrEqual(revisions.reduce((a, b) => Math.max(a, b), 0));
  server.proc.kill('SIGTERM');
  expect(await server.exited).toBe(0);
  current.server = undefined;
  options.afterStop?.();
  return { ackedPerCycle, keys: ledger.attempts.size };
}

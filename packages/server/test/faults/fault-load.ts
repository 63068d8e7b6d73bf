import { expect } from 'vitest';

/**
 * The longest a request may take while the database is down, cut off or silent, well under the
 * server's 30 s write timeout. Every database step is bounded at about 6 s (a connection that owes
 * an answer is cut after 5 s of silence, checked every second; connecting gives up after 5 s).
 * A write waits for at most the group commit in flight and its own: 2 steps. A read waits for at
 * most the read batch in flight and its own (5 s each), and the fast GET path reads once more
 * through the full chain when its read fails: up to 4 read timeouts.
 */
export const FAULT_ANSWER_BOUND_MS = { write: 15_000, read: 25_000 } as const;

/** One request as the client saw it. */
export interface Outcome {
  op: 'put' | 'batch' | 'get' | 'list';
  /** the key written or read (a batch: its first key) */
  key: string;
  /** the full request URL (which server) */
  url: string;
  /** the value a put or batch wrote */
  value?: string;
  /** HTTP status, or what went wrong before one arrived */
  status: number | 'timeout' | 'network';
  startedAt: number;
  ms: number;
  contentType: string;
  body: string;
  /** X-Stash-Revision of the answer (a batch: its last revision) */
  revision?: number;
  /** batch items, for all-or-nothing checks */
  keys?: string[];
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** A request with a hard client-side deadline well past the bound, so a hang shows as 'timeout'. */
export async function timedFetch(
  op: Outcome['op'],
  key: string,
  url: string,
  init: RequestInit = {},
): Promise<Outcome> {
  const startedAt = Date.now();
  const done = (status: Outcome['status'], res?: Response, body = ''): Outcome => {
    const header = res?.headers.get('x-stash-revision');
    return {
      op,
      key,
      url,
      status,
      startedAt,
      ms: Date.now() - startedAt,
      contentType: res?.headers.get('content-type') ?? '',
      body,
      ...(header ? { revision: Number(header) } : {}),
    };
  };
  try {
    const res = await fetch(url, { ...init, signal: AbortSignal.timeout(FAULT_ANSWER_BOUND_MS.read + 10_000) });
    return done(res.status, res, await res.text());
  } catch (error) {
    return done((error as Error).name === 'TimeoutError' ? 'timeout' : 'network');
  }
}

export const ok = (o: Outcome): boolean => typeof o.status === 'number' && o.status >= 200 && o.status < 300;

/** Every answer is a success, a 404 of a read, or a 503 with a JSON error; none took past its bound. */
export function expectCleanFailures(outcomes: readonly Outcome[]): void {
  for (const o of outcomes) {
    const where = `${o.op} ${o.key} -> ${o.status} after ${o.ms} ms: ${o.body.slice(0, 200)}`;
    expect(typeof o.status, where).toBe('number');
    if (ok(o) || (o.status === 404 && (o.op === 'get' || o.op === 'list'))) continue;
    expect(o.status, where).toBe(503);
    expect(o.contentType, where).toMatch(/^application\/json/);
    expect(typeof (JSON.parse(o.body) as { error?: unknown }).error, where).toBe('string');
  }
  for (const kind of ['write', 'read'] as const) {
    const of = outcomes.filter((o) => (o.op === 'put' || o.op === 'batch') === (kind === 'write'));
    const slowest = of.reduce<Outcome | undefined>((max, o) => (max && max.ms >= o.ms ? max : o), undefined);
    const where = slowest && `the slowest ${kind}: ${slowest.op} ${slowest.url} -> ${slowest.status}`;
    expect(slowest?.ms ?? 0, where).toBeLessThan(FAULT_ANSWER_BOUND_MS[kind]);
  }
}

/** Median and maximum answer time of the 503s, for the report. */
export function unavailableTimes(outcomes: readonly Outcome[]): { count: number; medianMs: number; maxMs: number } {
  const ms = outcomes.filter((o) => o.status === 503).map((o) => o.ms).sort((a, b) => a - b);
  return { count: ms.length, medianMs: ms[Math.floor(ms.length / 2)] ?? 0, maxMs: ms.at(-1) ?? 0 };
}

export interface Load {
  readonly outcomes: Outcome[];
  stop(): Promise<void>;
}

/**
 * Closed-loop writers and readers against `urls` in turn: each writer PUTs fresh keys
 * `${prefix}/w<i>/<n>` (each key written once) or, with `batchSize`, POSTs batches of fresh keys;
 * readers GET `${prefix}/seed` and list the prefix. After a failure a client pauses briefly
 * instead of spinning on instant 503s.
 */
export function startLoad(options: { urls: string[]; prefix: string; writers: number; readers: number; batchSize?: number }): Load {
  const outcomes: Outcome[] = [];
  let running = true;
  const { urls, prefix } = options;
  const pace = async (o: Outcome): Promise<void> => {
    outcomes.push(o);
    if (!ok(o)) await sleep(25);
  };
  const writer = async (i: number): Promise<void> => {
    for (let n = 1; running; n++) {
      const url = urls[(i + n) % urls.length] as string;
      if (options.batchSize) {
        const keys = Array.from({ length: options.batchSize }, (_, j) => `${prefix}/b${i}-${n}/k${j}`);
        const body = JSON.stringify(keys.map((key) => ({ key, value: `batch ${i}-${n}` })));
        const o = await timedFetch('batch', keys[0] as string, `${url}/kv/`, { method: 'POST', body });
        await pace({ ...o, keys, value: `batch ${i}-${n}` });
      } else {
        const key = `${prefix}/w${i}/${n}`;
        const value = `value ${i}-${n}`;
        await pace({ ...(await timedFetch('put', key, `${url}/kv/${key}`, { method: 'PUT', body: value })), value });
      }
    }
  };
  const reader = async (i: number): Promise<void> => {
    for (let n = 0; running; n++) {
      const url = urls[(i + n) % urls.length] as string;
      await pace(
        n % 2 === 0
          ? await timedFetch('get', `${prefix}/seed`, `${url}/kv/${prefix}/seed`)
          : await timedFetch('list', prefix, `${url}/kv/?prefix=${encodeURIComponent(prefix)}`),
      );
    }
  };
  const all = [
    ...Array.from({ length: options.writers }, (_, i) => writer(i)),
    ...Array.from({ length: options.readers }, (_, i) => reader(i)),
  ];
  return {
    outcomes,
    async stop() {
      running = false;
      await Promise.all(all);
    },
  };
}

/** Poll `check` until it returns true; fails with `what` after `timeoutMs`. */
export async function waitUntil(what: string, check: () => Promise<boolean>, timeoutMs: number): Promise<number> {
  const started = Date.now();
  while (!(await check())) {
    if (Date.now() - started > timeoutMs) throw new Error(`timed out after ${timeoutMs} ms waiting until ${what}`);
    await sleep(50);
  }
  return Date.now() - started;
}

/** The key's value and revision as the server answers them now. */
export async function readKey(url: string, key: string): Promise<{ status: number; value: string; revision: number; etag: string }> {
  const res = await fetch(`${url}/kv/${key}`);
  return {
    status: res.status,
    value: await res.text(),
    revision: Number(res.headers.get('x-stash-revision') ?? 0),
    etag: res.headers.get('etag') ?? '',
  };
}

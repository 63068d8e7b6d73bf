import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync, rmSync } from 'node:fs';
import { Agent, request, type ClientRequest } from 'node:http';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeTempDir } from '../helpers/test-server.js';
import { buildOnce, startStashProcess, type Spawned } from '../helpers/spawned-server.js';

/** load duration; run longer by hand with STASH_SOAK_SECONDS=600 */
const SOAK_SECONDS = Number(process.env['STASH_SOAK_SECONDS'] ?? '60');
/** the warm-up runs the same mix this many times faster, to reach steady state (JIT, caches, allocator) sooner */
const WARMUP_SECONDS = 4;
const WARMUP_SPEED = 5;
const STREAMS = 1000;
const KEYS = 200;
/** growth allowed between the idle server after the warm-up and the idle server after the soak */
const TOLERANCE = 0.1;

interface Answer {
  status: number;
  body: string;
  revision: number;
}

/** One request on `agent` (node:http, so each phase's sockets can be closed with the agent). */
function send(url: string, agent: Agent | false, method: string, path: string, body?: string): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request(`${url}${path}`, { method, agent }, (res) => {
      let text = '';
      res.setEncoding('utf8').on('data', (d: string) => (text += d));
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, body: text, revision: Number(res.headers['x-stash-revision']) }),
      );
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** Resident set size (KiB) and open descriptors of a process, from /proc. */
function sample(pid: number): { rssKiB: number; fds: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const rssKiB = Number(/^VmRSS:\s+(\d+) kB$/m.exec(status)?.[1]);
  return { rssKiB, fds: readdirSync(`/proc/${pid}/fd`).length };
}

/** Open `GET /kv/subscribe/*` streams that remember the last event id each one received. */
class ChangeStreams {
  readonly lastRevision: number[] = [];
  private readonly requests: ClientRequest[] = [];
  private closing = false;
  endedEarly = 0;
  events = 0;

  constructor(
    private readonly url: string,
    private readonly agent: Agent,
  ) {}

  /** Open `count` streams, `step` at a time (the listen backlog is 511), each answered 200. */
  async open(count: number, step = 100): Promise<void> {
    for (let i = 0; i < count; i += step) {
      await Promise.all(Array.from({ length: Math.min(step, count - i) }, () => this.openOne()));
    }
  }

  private openOne(): Promise<void> {
    const index = this.lastRevision.push(0) - 1;
    return new Promise((resolve, reject) => {
      const req = request(`${this.url}/kv/subscribe/*`, { agent: this.agent }, (res) => {
        if (res.statusCode !== 200) return reject(new Error(`subscribe answered ${res.statusCode}`));
        let tail = '';
        res.setEncoding('utf8').on('data', (chunk: string) => {
          const events = (tail + chunk).split('\n\n');
          tail = events.pop() ?? '';
          for (const event of events) {
            const id = /^id: (\d+)$/m.exec(event)?.[1];
            if (id !== undefined) {
              this.lastRevision[index] = Number(id);
              this.events++;
            }
          }
        });
        res.on('close', () => {
          if (!this.closing) this.endedEarly++;
        });
        resolve();
      });
      req.on('error', (error) => (this.closing ? undefined : reject(error)));
      req.end();
      this.requests.push(req);
    });
  }

  /** Resolves once every stream has received revision `revision`, or rejects after `ms`. */
  async reached(revision: number, ms: number): Promise<void> {
    const deadline = Date.now() + ms;
    while (this.lastRevision.some((r) => r < revision)) {
      if (Date.now() > deadline) {
        const behind = this.lastRevision.filter((r) => r < revision).length;
        throw new Error(`${behind} of ${this.lastRevision.length} streams never got revision ${revision}`);
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  close(): void {
    this.closing = true;
    for (const req of this.requests) req.destroy();
  }
}

type Op = 'put' | 'delete' | 'get' | 'list' | 'batch';

/**
 * Paced mixed load on a fixed key space (a configuration service has a bounded set of keys):
 * writers that sometimes delete, readers, lists of the prefix and 5-item batches. Unexpected
 * answers are collected, not thrown, so the test reports them all.
 */
async function mixedLoad(
  url: string,
  seconds: number,
  speed: number,
): Promise<{ counts: Record<Op, number>; failures: string[] }> {
  const agent = new Agent({ keepAlive: true, maxSockets: 16 });
  const counts: Record<Op, number> = { put: 0, delete: 0, get: 0, list: 0, batch: 0 };
  const failures: string[] = [];
  const until = Date.now() + seconds * 1000;
  const key = (): string => `/kv/soak/k${Math.floor(Math.random() * KEYS)}`;
  const value = (): string => randomBytes(384).toString('base64');
  const run = async (op: Op, everyMs: number, path: () => string, method: string, ok: number[], body?: () => string) => {
    while (Date.now() < until) {
      const answer = await send(url, agent, method, path(), body?.());
      counts[op]++;
      if (!ok.includes(answer.status) && failures.length < 20) failures.push(`${op}: ${answer.status} ${answer.body}`);
      await new Promise((r) => setTimeout(r, everyMs / speed));
    }
  };
  const batch = (): string => JSON.stringify(Array.from({ length: 5 }, (_, i) => ({ key: `soak/b${i}`, value: value() })));
  await Promise.all([
    run('put', 50, key, 'PUT', [200, 201], value),
    run('put', 50, key, 'PUT', [200, 201], value),
    run('delete', 500, key, 'DELETE', [204, 404]),
    ...Array.from({ length: 4 }, () => run('get', 10, key, 'GET', [200, 404])),
    run('list', 100, () => '/kv/?prefix=soak/', 'GET', [200]),
    run('batch', 500, () => '/kv/', 'POST', [200], batch),
  ]);
  agent.destroy();
  return { counts, failures };
}

/**
 * SQLite's page cache (better-sqlite3 builds with cache_size -16000: up to 16 MB) fills as the
 * database grows, which the soak's small writes would take many minutes to do: RSS would creep
 * by ~16 MB that is no leak. Writing ~20 MB in 16 KB values first brings it to its bound (larger
 * values would leave the allocator holding more of their transient buffers).
 */
async function fillPageCache(url: string): Promise<void> {
  const agent = new Agent({ keepAlive: true, maxSockets: 4 });
  const writer = async (w: number): Promise<void> => {
    for (let n = 0; n < 160; n++) {
      const answer = await send(url, agent, 'PUT', `/kv/warm/w${w}/k${n % 4}`, randomBytes(12 * 1024).toString('base64'));
      expect(answer.status).toBeLessThan(300);
    }
  };
  await Promise.all([0, 1, 2, 3].map(writer));
  agent.destroy();
}

describe('soak: mixed load with 1,000 change streams', () => {
  let dir: string;
  let server: (Spawned & { url: string }) | undefined;

  beforeAll(async () => {
    await buildOnce();
    dir = makeTempDir('stash-soak-');
  });
  afterAll(async () => {
    if (server) {
      server.proc.kill('SIGKILL');
      await server.exited;
    }
    rmSync(dir, { recursive: true, force: true });
  });

  it(`keeps memory and descriptors level over ${SOAK_SECONDS} s`, { timeout: (SOAK_SECONDS + 45) * 1000 }, async () => {
    server = await startStashProcess(join(dir, 'stash.db'));
    const { url } = server;
    const pid = server.proc.pid as number;
    const subscribers = async (): Promise<number> => {
      const metrics = await send(url, false, 'GET', '/metrics');
      return Number(/^stash_sse_subscribers (\d+)$/m.exec(metrics.body)?.[1] ?? NaN);
    };
    /** Streams closed and the server idle: poll until the descriptor count stops moving. */
    const settle = async (): Promise<{ rssKiB: number; fds: number }> => {
      const deadline = Date.now() + 10_000;
      let last = sample(pid);
      while (Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 250));
        const now = sample(pid);
        if ((await subscribers()) === 0 && now.fds === last.fds) return now;
        last = now;
      }
      throw new Error(`server did not settle: ${JSON.stringify(last)}, ${await subscribers()} subscribers`);
    };
    /** Open the streams, load, check the last write reached every stream, close them, settle. */
    const phase = async (seconds: number, speed: number) => {
      const agent = new Agent({ keepAlive: false, maxSockets: Infinity });
      const streams = new ChangeStreams(url, agent);
      await streams.open(STREAMS);
      expect(await subscribers()).toBe(STREAMS);
      const loaded = sample(pid);
      const load = await mixedLoad(url, seconds, speed);
      const last = await send(url, false, 'PUT', '/kv/soak/final', String(Date.now()));
      expect(last.status).toBeLessThan(300);
      await streams.reached(last.revision, 15_000);
      expect(streams.endedEarly, 'streams the server ended under load').toBe(0);
      streams.close();
      agent.destroy();
      return { load, loaded, events: streams.events, idle: await settle() };
    };

    // prefill the key space so the warm-up already holds every key in the index and row cache
    const prefill = Array.from({ length: KEYS }, (_, i) => ({ key: `soak/k${i}`, value: 'initial' }));
    expect((await send(url, false, 'POST', '/kv/', JSON.stringify(prefill))).status).toBe(200);
    const filling = Date.now();
    await fillPageCache(url);
    const fillMs = Date.now() - filling;
    const warm = await phase(WARMUP_SECONDS, WARMUP_SPEED);
    const soak = await phase(SOAK_SECONDS, 1);
    console.log(
      `page cache filled in ${fillMs} ms; soak ${SOAK_SECONDS} s, ${STREAMS} streams: ${JSON.stringify(soak.load.counts)}, ${soak.events} events delivered; ` +
        `RSS ${warm.idle.rssKiB} KiB after warm-up (${warm.loaded.rssKiB} with streams open), ` +
        `${soak.idle.rssKiB} KiB after the soak (${soak.loaded.rssKiB} with streams open); ` +
        `fds ${warm.idle.fds} -> ${soak.idle.fds} (${soak.loaded.fds} with streams open)`,
    );
    expect([...warm.load.failures, ...soak.load.failures]).toEqual([]);
    expect(soak.idle.fds).toBeLessThanOrEqual(Math.ceil(warm.idle.fds * (1 + TOLERANCE)));
    expect(soak.idle.rssKiB).toBeLessThanOrEqual(warm.idle.rssKiB * (1 + TOLERANCE));
  });
});

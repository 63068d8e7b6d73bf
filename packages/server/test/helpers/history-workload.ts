import { request, Agent } from 'node:http';
import type { Op } from './history-checker.js';

export interface WorkloadOptions {
  /** servers to spread the clients over (client i talks to urls[i % urls.length]) */
  urls: readonly string[];
  clients: number;
  keys: readonly string[];
  durationMs: number;
  /** extra query string for reads, e.g. `consistency=serializable` */
  readQuery?: string;
}

interface Answer {
  status: number;
  revision: number;
  body: string;
}

function send(agent: Agent, url: string, method: string, path: string, body?: string, headers: Record<string, string> = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request(`${url}${path}`, { method, agent, headers: { ...headers, ...(body === undefined ? {} : { 'content-length': String(Buffer.byteLength(body)) }) } }, (res) => {
      let text = '';
      res.setEncoding('utf8').on('data', (d: string) => (text += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, revision: Number(res.headers['x-stash-revision'] ?? 0), body: text }));
      res.on('error', reject);
    });
    req.setTimeout(10_000, () => req.destroy(new Error(`${method} ${path} timed out`)));
    req.on('error', reject);
    req.end(body);
  });
}

/**
 * Run clients that read, write and compare-and-swap a few keys on several servers for a while,
 * recording every operation for checkHistory(). Each value written is unique (client and sequence).
 */
export async function runRegisterWorkload(options: WorkloadOptions): Promise<Op[]> {
  const history: Op[] = [];
  const deadline = performance.now() + options.durationMs;
  const query = options.readQuery ? `?${options.readQuery}` : '';
  const client = async (id: number): Promise<void> => {
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    const url = options.urls[id % options.urls.length] as string;
    let seq = 0;
    try {
      while (performance.now() < deadline) {
        const key = options.keys[Math.floor(Math.random() * options.keys.length)] as string;
        const path = `/kv/${key}`;
        const roll = Math.random();
        if (roll < 0.4) {
          const start = performance.now();
          const a = await send(agent, url, 'GET', `${path}${query}`);
          history.push({ client: id, kind: 'read', key, start, end: performance.now(), status: a.status, revision: a.status === 200 ? a.revision : 0, value: a.status === 200 ? a.body : undefined });
        } else if (roll < 0.7) {
          const value = `c${id}-${++seq}`;
          const start = performance.now();
          const a = await send(agent, url, 'PUT', path, value);
          history.push({ client: id, kind: 'write', key, start, end: performance.now(), status: a.status, revision: a.revision, value });
        } else {
          // read the revision, then write only if nobody wrote in between
          const start = performance.now();
          const seen = await send(agent, url, 'GET', path);
          const seenAt = performance.now();
          const known = seen.status === 200 ? seen.revision : 0;
          history.push({ client: id, kind: 'read', key, start, end: seenAt, status: seen.status, revision: known, value: seen.status === 200 ? seen.body : undefined });
          const value = `c${id}-${++seq}`;
          const headers: Record<string, string> = known === 0 ? { 'if-none-match': '*' } : { 'if-match': `"${known}"` };
          const casStart = performance.now();
          const a = await send(agent, url, 'PUT', path, value, headers);
          history.push({ client: id, kind: 'cas', key, start: casStart, end: performance.now(), status: a.status, revision: a.status < 300 ? a.revision : 0, value, ifRevision: known });
        }
      }
    } finally {
      agent.destroy();
    }
  };
  await Promise.all(Array.from({ length: options.clients }, (_, i) => client(i)));
  return history;
}

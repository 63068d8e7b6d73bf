import { connect, type Socket } from 'node:net';

/** One event as a standards-following reader sees it (only what the tests need). */
export interface WireEvent {
  id: string | undefined;
  event: string;
  data: string;
}

/** Parse complete LF-only SSE text (our server never sends CR) into events; comments dropped. */
export function parseWire(text: string): WireEvent[] {
  const out: WireEvent[] = [];
  for (const block of text.split('\n\n')) {
    if (block === '') continue;
    let id: string | undefined;
    let event = 'message';
    const data: string[] = [];
    for (const line of block.split('\n')) {
      if (line.startsWith(':')) continue;
      const colon = line.indexOf(': ');
      const field = colon === -1 ? line : line.slice(0, colon);
      const value = colon === -1 ? '' : line.slice(colon + 2);
      if (field === 'id') id = value;
      else if (field === 'event') event = value;
      else if (field === 'data') data.push(value);
    }
    if (data.length > 0) out.push({ id, event, data: data.join('\n') });
  }
  return out;
}

/** A change stream read with plain `fetch`, collecting the body as it arrives. */
export interface FetchStream {
  status: number;
  headers: Headers;
  /** the body text so far */
  text(): string;
  /** complete events so far (a trailing partial event is left out) */
  events(): WireEvent[];
  changes(): Array<{ key: string; action: string; timestamp: string; revision: number; format?: string }>;
  /** resolves when `pred` holds for the received text, rejects after `timeoutMs` */
  waitFor(pred: (s: FetchStream) => boolean, timeoutMs?: number): Promise<void>;
  /** resolves when the body ended, whichever way */
  ended: Promise<void>;
  /** 'done' once the server ended the body cleanly, 'error' when it was cut or aborted */
  endState(): 'open' | 'done' | 'error';
  close(): void;
}

export async function openStream(url: string, headers: Record<string, string> = {}): Promise<FetchStream> {
  const abort = new AbortController();
  const res = await fetch(url, { headers, signal: abort.signal });
  let text = '';
  const waiters = new Set<() => void>();
  const decoder = new TextDecoder();
  let endState: 'open' | 'done' | 'error' = 'open';
  const ended = (async () => {
    if (!res.body) return;
    const reader = res.body.getReader();
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        text += decoder.decode(value, { stream: true });
        for (const w of waiters) w();
      }
      endState = 'done';
    } catch {
      endState = 'error'; // aborted, or the connection was cut mid-body
    }
    for (const w of waiters) w();
  })();
  let finished = false;
  void ended.then(() => (finished = true));
  const stream: FetchStream = {
    status: res.status,
    headers: res.headers,
    text: () => text,
    events: () => parseWire(text.slice(0, text.lastIndexOf('\n\n') + 2)),
    changes: () => stream.events().filter((e) => e.event === 'change').map((e) => JSON.parse(e.data)),
    waitFor: (pred, timeoutMs = 5000) =>
      new Promise<void>((resolve, reject) => {
        const check = (): void => {
          if (pred(stream)) {
            cleanup();
            resolve();
          } else if (finished) {
            cleanup();
            reject(new Error(`stream ended before the condition held; got:\n${text}`));
          }
        };
        const timer = setTimeout(() => {
          cleanup();
          reject(new Error(`timed out after ${timeoutMs} ms; got:\n${text}`));
        }, timeoutMs);
        const cleanup = (): void => {
          clearTimeout(timer);
          waiters.delete(check);
        };
        waiters.add(check);
        check();
      }),
    ended,
    endState: () => endState,
    close: () => abort.abort(),
  };
  return stream;
}

/** An HTTP/1.1 response read off a raw socket, with its chunked body kept chunk by chunk. */
export interface RawResponse {
  socket: Socket;
  head(): string;
  /** decoded transfer-encoding chunks, exactly as the server framed them */
  chunks(): string[];
  waitForChunks(n: number, timeoutMs?: number): Promise<void>;
  close(): void;
}

/** GET `path` over a raw socket so the test sees the server's write boundaries (HTTP chunks). */
export function rawGet(url: string, path: string, headers: Record<string, string> = {}): Promise<RawResponse> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname);
    let buf = Buffer.alloc(0);
    let head: string | undefined;
    const chunks: string[] = [];
    const waiters = new Set<() => void>();
    socket.once('error', reject);
    socket.on('data', (data: Buffer) => {
      buf = Buffer.concat([buf, data]);
      if (head === undefined) {
        const end = buf.indexOf('\r\n\r\n');
        if (end === -1) return;
        head = buf.subarray(0, end).toString('latin1');
        buf = buf.subarray(end + 4);
        resolve(response);
      }
      for (;;) {
        const line = buf.indexOf('\r\n');
        if (line === -1) break;
        const size = parseInt(buf.subarray(0, line).toString('latin1'), 16);
        if (buf.length < line + 2 + size + 2) break;
        chunks.push(buf.subarray(line + 2, line + 2 + size).toString('utf8'));
        buf = buf.subarray(line + 2 + size + 2);
      }
      for (const w of waiters) w();
    });
    const extra = Object.entries(headers)
      .map(([k, v]) => `${k}: ${v}\r\n`)
      .join('');
    socket.write(`GET ${path} HTTP/1.1\r\nHost: ${hostname}:${port}\r\n${extra}\r\n`);
    const response: RawResponse = {
      socket,
      head: () => head ?? '',
      chunks: () => chunks,
      waitForChunks: (n, timeoutMs = 5000) =>
        new Promise<void>((res, rej) => {
          const check = (): void => {
            if (chunks.length >= n) {
              clearTimeout(timer);
              waiters.delete(check);
              res();
            }
          };
          const timer = setTimeout(() => {
            waiters.delete(check);
            rej(new Error(`expected ${n} chunks, got ${chunks.length}: ${JSON.stringify(chunks)}`));
          }, timeoutMs);
          waiters.add(check);
          check();
        }),
      close: () => socket.destroy(),
    };
  });
}

/** Current value of a prom-client gauge or counter without labels. */
export async function metricValue(metric: { get(): Promise<{ values: Array<{ value: number }> }> }): Promise<number> {
  return (await metric.get()).values[0]?.value ?? 0;
}

/** Poll `fn` until it returns true (for metrics that settle asynchronously). */
export async function eventually(fn: () => Promise<boolean> | boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await fn())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 20));
  }
}

export async function put(url: string, key: string, value: string, headers: Record<string, string> = {}): Promise<number> {
  const res = await fetch(`${url}/kv/${key}`, { method: 'PUT', body: value, headers });
  await res.arrayBuffer();
  return res.status;
}

export async function del(url: string, key: string): Promise<number> {
  const res = await fetch(`${url}/kv/${key}`, { method: 'DELETE' });
  await res.arrayBuffer();
  return res.status;
}

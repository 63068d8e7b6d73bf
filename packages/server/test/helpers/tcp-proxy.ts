import { connect, createServer, type Server, type Socket } from 'node:net';

/**
 * What the proxy does with traffic:
 * - `pass`: forward both ways;
 * - `delay`: forward every chunk `ms` later, in order;
 * - `blackhole`: accept connections and keep them, forward nothing, not even a close (a network
 *   partition); what arrives is held and delivered when the mode changes, as TCP retransmits
 *   after a partition heals;
 * - `refuse`: new connections are reset at once; existing ones keep their mode from before.
 */
export type ProxyMode = { kind: 'pass' } | { kind: 'delay'; ms: number } | { kind: 'blackhole' } | { kind: 'refuse' };

export interface TcpProxy {
  readonly port: number;
  /** `url` with its host and port replaced by the proxy's */
  via(url: string): string;
  setMode(mode: ProxyMode): void;
  /** destroy every current connection on both sides (an abrupt network cut); returns how many */
  cut(): number;
  /** connections open right now */
  readonly connections: number;
  /** connections accepted so far */
  readonly accepted: number;
  close(): Promise<void>;
}

interface Pipe {
  client: Socket;
  upstream: Socket;
  /** chunks and ends held while black-holed, per direction */
  held: Array<{ to: Socket; chunk: Buffer | null }>;
}

/** A loopback TCP proxy in front of `target`, for fault tests between a server and its database. */
export async function startTcpProxy(target: { host: string; port: number }): Promise<TcpProxy> {
  let mode: ProxyMode = { kind: 'pass' };
  const pipes = new Set<Pipe>();
  let accepted = 0;

  const send = (pipe: Pipe, to: Socket, chunk: Buffer | null): void => {
    if (mode.kind === 'blackhole') {
      pipe.held.push({ to, chunk });
      return;
    }
    const deliver = (): void => {
      if (to.destroyed) return;
      if (chunk === null) to.end();
      else to.write(chunk);
    };
    if (mode.kind === 'delay') setTimeout(deliver, mode.ms);
    else deliver();
  };

  const server: Server = createServer((client) => {
    if (mode.kind === 'refuse') {
      client.resetAndDestroy();
      return;
    }
    accepted++;
    const upstream = connect(target.port, target.host);
    const pipe: Pipe = { client, upstream, held: [] };
    pipes.add(pipe);
    const drop = (): void => {
      pipes.delete(pipe);
      client.destroy();
      upstream.destroy();
    };
    client.on('data', (chunk: Buffer) => send(pipe, upstream, chunk));
    upstream.on('data', (chunk: Buffer) => send(pipe, client, chunk));
    client.on('end', () => send(pipe, upstream, null));
    upstream.on('end', () => send(pipe, client, null));
    // a reset or error on one side: the other side sees it only when not partitioned
    const failed = (): void => {
      if (mode.kind === 'blackhole') return;
      drop();
    };
    client.on('error', failed);
    upstream.on('error', failed);
    // a graceful end travels as a held or delayed `null` chunk; the pipe is gone once both sides are
    client.on('close', () => {
      if (upstream.destroyed) pipes.delete(pipe);
    });
    upstream.on('close', () => {
      if (client.destroyed) pipes.delete(pipe);
    });
  });
  server.on('error', () => undefined);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;

  return {
    port,
    via(url) {
      const u = new URL(url);
      u.hostname = '127.0.0.1';
      u.port = String(port);
      return u.toString();
    },
    setMode(next) {
      const wasHole = mode.kind === 'blackhole';
      mode = next;
      if (!wasHole || next.kind === 'blackhole') return;
      // the partition heals: what was held goes through, and sockets closed meanwhile close the other side
      for (const pipe of [...pipes]) {
        const held = pipe.held;
        pipe.held = [];
        for (const { to, chunk } of held) send(pipe, to, chunk);
        if (pipe.client.destroyed || pipe.upstream.destroyed) {
          pipes.delete(pipe);
          pipe.client.destroy();
          pipe.upstream.destroy();
        }
      }
    },
    cut() {
      const n = pipes.size;
      for (const pipe of pipes) {
        pipe.client.destroy();
        pipe.upstream.destroy();
      }
      pipes.clear();
      return n;
    },
    get connections() {
      return pipes.size;
    },
    get accepted() {
      return accepted;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const pipe of pipes) {
          pipe.client.destroy();
          pipe.upstream.destroy();
        }
        pipes.clear();
        server.close(() => resolve());
      }),
  };
}

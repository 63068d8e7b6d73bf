import { connect, type Socket } from 'node:net';

/** A `reset` event as one subscriber saw it. */
export interface SeenReset {
  /** the Last-Event-ID the connection asked for */
  requested: number;
  /** the last change or reset seen before it (the requested one when it came first) */
  previous: number;
  /** the revision the server told it to re-list at */
  revision: number;
  /** how many changes the subscriber had seen before it */
  afterChanges: number;
  /** false when it came after other events on the same connection (a replay cut short) */
  firstOnConnection: boolean;
}

export interface ChaosSubscriberOptions {
  /** ms to wait before reconnecting after any close (ours or the server's) */
  reconnectDelay: () => number;
  /** awaited before each reconnect (after the delay): lets a test keep a subscriber away */
  beforeReconnect?: (lastId: number) => Promise<void>;
  /** keep every change's block text (for the one reference stream) */
  keepBlocks?: boolean;
}

/** FNV-1a of an event block: enough to tell two renderings of one change apart. */
function hashBlock(block: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < block.length; i++) h = Math.imul(h ^ block.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

/** An HTTP/1.1 response read incrementally: the head, then the chunked body as text. */
class ChunkedBodyReader {
  head: string | undefined;
  problem: string | undefined;
  private buf: Buffer = Buffer.alloc(0);

  /** Take bytes off the socket; returns the body text of the chunks completed by them. */
  push(data: Buffer): string {
    this.buf = this.buf.length === 0 ? data : Buffer.concat([this.buf, data]);
    if (this.head === undefined) {
      const end = this.buf.indexOf('\r\n\r\n');
      if (end === -1) return '';
      this.head = this.buf.toString('latin1', 0, end);
      this.buf = this.buf.subarray(end + 4);
      if (!/\r\ntransfer-encoding: chunked/i.test(this.head)) this.problem = 'stream is not chunked';
    }
    const parts: Buffer[] = [];
    let at = 0;
    for (;;) {
      const eol = this.buf.indexOf('\r\n', at);
      if (eol === -1) break;
      const size = parseInt(this.buf.toString('latin1', at, eol), 16);
      if (!(size > 0)) {
        if (size !== 0) this.problem = `bad chunk size ${this.buf.toString('latin1', at, eol)}`;
        break;
      }
      if (this.buf.length < eol + 4 + size) break;
      parts.push(this.buf.subarray(eol + 2, eol + 2 + size));
      at = eol + 4 + size;
    }
    this.buf = this.buf.subarray(at);
    // every chunk is whole events, so whole UTF-8 sequences
    return Buffer.concat(parts).toString('utf8');
  }
}

/**
 * One change-stream subscriber on a raw socket (`Connection: close`: one socket per
 * connection, no pool; the chunked body parsed here, far cheaper than node:http for 200 of
 * them). It reconnects after every close with `Last-Event-ID` of the last complete event and
 * records each change's revision and a hash of its block, to compare with a reference. Partial events cut by a drop are discarded, as an EventSource does.
 */
export class ChaosSubscriber {
  readonly revisions: number[] = [];
  readonly hashes: number[] = [];
  /** change blocks as received, when `keepBlocks` is set */
  readonly blocks: string[] = [];
  readonly resets: SeenReset[] = [];
  /** out-of-order or malformed events, bad statuses: anything a correct server never causes */
  readonly problems: string[] = [];
  lastId = 0;
  connections = 0;
  serverCloses = 0;
  private socket: Socket | undefined;
  private connected = false;
  private stopped = false;
  private droppedByUs = false;
  private readonly waiters = new Set<() => void>();

  constructor(
    private readonly url: string,
    private readonly path: string,
    private readonly options: ChaosSubscriberOptions,
  ) {}

  /** Connect now; resolves once the response headers arrived (or the attempt failed). */
  start(): Promise<void> {
    return new Promise((resolve) => this.open(resolve));
  }

  get isConnected(): boolean {
    return this.connected;
  }

  /** Cut the connection from the client side; it reconnects on its own after the delay. */
  drop(): void {
    if (!this.connected || !this.socket) return;
    this.droppedByUs = true;
    this.socket.destroy();
  }

  /** Resolves once a change or reset at `revision` or later was seen; rejects after `timeoutMs`. */
  waitFor(revision: number, timeoutMs: number): Promise<void> {
    return new Promise((resolve, reject) => {
      const check = (): void => {
        if (this.lastId < revision) return;
        clearTimeout(timer);
        this.waiters.delete(check);
        resolve();
      };
      const timer = setTimeout(() => {
        this.waiters.delete(check);
        reject(new Error(`${this.path}: at ${this.lastId}, expected ${revision} (${this.connections} connections)`));
      }, timeoutMs);
      this.waiters.add(check);
      check();
    });
  }

  /** Stop reading (the server's socket fills up and its writes wait); `resume` reads on. */
  pause(): void {
    this.socket?.pause();
  }

  resume(): void {
    this.socket?.resume();
  }

  stop(): void {
    this.stopped = true;
    this.socket?.destroy();
  }

  private open(onHeaders?: () => void): void {
    if (this.stopped) return onHeaders?.();
    const { hostname, port } = new URL(this.url);
    const requested = this.lastId;
    const connection = { events: 0 };
    const reader = new ChunkedBodyReader();
    let pending = '';
    this.connections++;
    this.droppedByUs = false;
    const socket = connect(Number(port), hostname);
    this.socket = socket;
    socket.write(
      `GET ${this.path} HTTP/1.1\r\nHost: ${hostname}:${port}\r\nLast-Event-ID: ${requested}\r\nConnection: close\r\n\r\n`,
    );
    socket.on('data', (data: Buffer) => {
      const hadHead = reader.head !== undefined;
      const text = reader.push(data);
      if (!hadHead && reader.head !== undefined) {
        this.connected = true;
        onHeaders?.();
        if (!reader.head.startsWith('HTTP/1.1 200 ')) {
          this.problems.push(`answered ${reader.head.split('\r\n')[0] ?? ''}`);
          socket.destroy();
          return;
        }
      }
      if (reader.problem !== undefined) {
        this.problems.push(reader.problem);
        socket.destroy();
        return;
      }
      if (text === '') return;
      pending += text;
      let at = 0;
      for (let end = pending.indexOf('\n\n'); end !== -1; end = pending.indexOf('\n\n', at)) {
        this.handle(pending.slice(at, end), requested, connection);
        at = end + 2;
      }
      pending = pending.slice(at);
      for (const w of this.waiters) w();
    });
    socket.on('error', () => onHeaders?.()); // refused, reset: 'close' decides what follows
    socket.on('close', () => {
      this.connected = false;
      onHeaders?.();
      if (!this.droppedByUs && !this.stopped) this.serverCloses++;
      if (this.stopped) return;
      setTimeout(() => {
        const gate = this.options.beforeReconnect?.(this.lastId) ?? Promise.resolve();
        void gate.then(() => this.open());
      }, this.options.reconnectDelay());
    });
  }

  private handle(block: string, requested: number, connection: { events: number }): void {
    if (block.startsWith(':')) return; // heartbeat
    const first = connection.events++ === 0;
    const lines = block.split('\n');
    const id = Number(lines[0]?.slice(4));
    const event = lines[1]?.slice(7);
    if (!lines[0]?.startsWith('id: ') || !Number.isSafeInteger(id)) {
      this.problems.push(`event without a numeric id: ${JSON.stringify(block)}`);
      return;
    }
    if (event === 'reset') {
      const data = JSON.parse(lines[2]?.slice(6) ?? '{}') as { revision?: number };
      if (data.revision !== id) this.problems.push(`reset id ${id} but data ${lines[2] ?? ''}`);
      if (id < this.lastId) this.problems.push(`reset back to ${id} after ${this.lastId}`);
      this.resets.push({ requested, previous: this.lastId, revision: id, afterChanges: this.revisions.length, firstOnConnection: first });
      this.lastId = id;
      return;
    }
    if (event !== 'change') {
      this.problems.push(`unexpected event ${JSON.stringify(block)}`);
      return;
    }
    if (id <= this.lastId) this.problems.push(`change ${id} after ${this.lastId} (duplicate or out of order)`);
    this.revisions.push(id);
    this.hashes.push(hashBlock(block));
    if (this.options.keepBlocks) this.blocks.push(block);
    this.lastId = id;
  }
}

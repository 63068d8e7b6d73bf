import { connect, type NetConnectOpts, type Socket } from 'node:net';

// message types of the PostgreSQL frontend/backend protocol 3.0
const PROTOCOL_3 = 196608; // the startup message's code (the client's first message has no type byte)
const READY_FOR_QUERY = 0x5a; // 'Z'
const SYNC = 0x53; // 'S'
const SIMPLE_QUERY = 0x51; // 'Q'
const FLUSH = 0x48; // 'H'
const CANCEL_REQUEST = 80877102;
const SSL_REQUEST = 80877103;

const EMPTY = Buffer.alloc(0);

/** Splits one direction of the wire protocol into messages (1-byte type + int32 length) and reports their types. */
export class MessageFramer {
  private header = EMPTY;
  private skip = 0;

  constructor(
    private untypedFirst: boolean,
    private readonly onMessage: (type: number, startupCode: number) => void,
  ) {}

  feed(chunk: Buffer): void {
    let i = 0;
    while (i < chunk.length) {
      if (this.skip > 0) {
        const n = Math.min(this.skip, chunk.length - i);
        this.skip -= n;
        i += n;
        continue;
      }
      const need = this.untypedFirst ? 8 : 5;
      let header: Buffer;
      if (this.header.length === 0 && chunk.length - i >= need) {
        // the common case: the whole header is in this chunk, read it in place
        header = chunk.subarray(i, i + need);
        i += need;
      } else {
        const take = Math.min(need - this.header.length, chunk.length - i);
        this.header = Buffer.concat([this.header, chunk.subarray(i, i + take)]);
        i += take;
        if (this.header.length < need) return;
        header = this.header;
        this.header = EMPTY;
      }
      if (this.untypedFirst) {
        this.untypedFirst = false;
        this.skip = Math.max(0, header.readUInt32BE(0) - 8);
        this.onMessage(0, header.readUInt32BE(4));
      } else {
        this.skip = Math.max(0, header.readUInt32BE(1) - 4);
        this.onMessage(header[0] ?? 0, 0);
      }
    }
  }
}

/**
 * How long a statement may run without sending anything while the database itself answers
 * probes: a prune or an index build on a large table is slow, not a partition.
 */
export const PG_LONG_STATEMENT_MS = 10 * 60_000;
const PROBE_TIMEOUT_MS = 1000;

/**
 * Whether a PostgreSQL server answers at `where`: an SSLRequest is answered with one byte before
 * any authentication, and a connection closed right after it is not logged by the server.
 */
export function probeDatabase(where: NetConnectOpts, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = connect(where);
    let settled = false;
    const finish = (alive: boolean): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      probe.destroy();
      resolve(alive);
    };
    const timer = setTimeout(() => finish(false), timeoutMs);
    probe.once('connect', () => {
      const request = Buffer.alloc(8);
      request.writeUInt32BE(8, 0);
      request.writeUInt32BE(SSL_REQUEST, 4);
      probe.write(request);
    });
    probe.once('data', () => finish(true));
    probe.once('error', () => finish(false));
    probe.once('close', () => finish(false));
  });
}

/**
 * Destroy `socket` when the server stays silent for `silenceMs` while an answer is owed. Every
 * Sync, simple Query and the startup message is answered by one ReadyForQuery, and a Flush by
 * some message, so counting them tells a waiting connection from an idle one (an idle pooled or
 * LISTEN connection is never cut). A black-holed or partitioned database otherwise leaves the
 * query waiting for TCP to give up, which takes many minutes. Before cutting, a new connection
 * probes the database (`where`): while it answers, the statement is only slow and may go on, up
 * to `longMs` of silence. TLS connections are not watched (their bytes cannot be framed); they
 * keep the driver's TCP keepalive.
 */
function watchSilence(
  socket: Socket,
  silenceMs: number,
  where: NetConnectOpts,
  longMs: number,
): { sent(chunk: Buffer): void; readonly isCancel: boolean } {
  let watching = true;
  let isCancel = false;
  let owed = 0; // ReadyForQuery messages the server still owes
  let flushPending = false;
  let since = 0; // last sign of life while waiting
  let probing = false;
  let vouchedUntil = 0; // a probe answered: the silence is a slow statement until then
  const waiting = (): boolean => owed > 0 || flushPending;
  const silentTooLong = (): boolean => watching && waiting() && Date.now() - since >= silenceMs && !socket.destroyed;

  const sent = new MessageFramer(true, (type, startupCode) => {
    const wasWaiting = waiting();
    if (type === 0) {
      if (startupCode === PROTOCOL_3) owed++;
      else [watching, isCancel] = [false, startupCode === CANCEL_REQUEST]; // SSL or GSS negotiation, or a cancel (answered by closing)
    } else if (type === SYNC || type === SIMPLE_QUERY) owed++;
    else if (type === FLUSH) flushPending = true;
    if (!wasWaiting && waiting()) since = Date.now();
  });
  const received = new MessageFramer(false, (type) => {
    if (type === READY_FOR_QUERY && owed > 0) owed--;
  });
  socket.on('data', (chunk: Buffer) => {
    if (!watching) return;
    flushPending = false;
    since = Date.now();
    received.feed(chunk);
  });

  const cut = (why: string): void => {
    clearInterval(timer);
    socket.destroy(Object.assign(new Error(why), { code: 'ETIMEDOUT' }));
  };
  const timer = setInterval(() => {
    if (probing || Date.now() < vouchedUntil || !silentTooLong()) return;
    if (Date.now() - since >= longMs) return cut(`database sent nothing for ${longMs} ms while a query waited`);
    probing = true;
    void probeDatabase(where, Math.min(PROBE_TIMEOUT_MS, silenceMs)).then((alive) => {
      probing = false;
      if (alive) vouchedUntil = Date.now() + silenceMs;
      else if (silentTooLong()) cut(`database sent nothing for ${silenceMs} ms while a query waited, and did not answer a probe`);
    });
  }, Math.max(20, Math.min(1000, Math.floor(silenceMs / 5))));
  timer.unref();
  socket.once('close', () => clearInterval(timer));
  return {
    sent(chunk) {
      if (watching) sent.feed(chunk);
    },
    get isCancel() {
      return isCancel;
    },
  };
}

/**
 * postgres.js 3.4.9 crashes the process or poisons a pooled connection when a connection closes
 * while the driver still writes to it (porsager/postgres#1154, #1208; fixes unreleased): its
 * `close` handler drops the socket and rejects the running query, whose transaction then sends
 * ROLLBACK through a write deferred with setImmediate, which dereferences the dropped socket; a
 * deferred write pending at `close` is cancelled but stays marked as scheduled, so that
 * connection never sends its next startup message. Both need the driver to see `close` only
 * after its writes are done. So, when the socket closes: (1) the driver gets an `error` first
 * (if the close had none), which rejects what waits while it still holds the socket, so the
 * ROLLBACK goes into the dead socket harmlessly; (2) the `close` reaches it once two event-loop
 * turns passed without a write, as a clean close, which rejects whatever was queued meanwhile.
 */
function settleBeforeClose(socket: Socket, writes: () => number, isCancel: () => boolean): void {
  const emit = socket.emit.bind(socket) as (event: string | symbol, ...args: unknown[]) => boolean;
  socket.emit = ((event: string | symbol, ...args: unknown[]): boolean => {
    if (event !== 'close') return emit(event, ...args);
    // a cancel request is answered by the close itself: that one is no failure
    if (args[0] !== true && !isCancel() && socket.listenerCount('error') > 0) {
      const error = new Error('the database closed the connection');
      emit('error', Object.assign(error, { code: 'CONNECTION_CLOSED' }));
    }
    let seen = -1;
    let quiet = 0;
    let rounds = 0;
    const check = (): void => {
      if (writes() === seen) quiet++;
      else [seen, quiet] = [writes(), 0];
      if (quiet >= 2 || ++rounds > 50) emit('close', false);
      else setImmediate(check);
    };
    setImmediate(check);
    return true;
  }) as Socket['emit'];
}

/** The parts of postgres.js's parsed options a socket factory reads. */
export interface PgSocketTarget {
  host: string[];
  port: number[];
  path?: string | false | undefined;
}

/**
 * A postgres.js `socket` option: connects as the driver would (unix path, or the hosts in
 * turn), cuts a connection the database stays silent on (`silenceMs`, or `longMs` while the
 * database answers probes) and hands closes to the driver only once it is safe (see
 * settleBeforeClose).
 */
export function createPgSocketFactory(silenceMs: number, longMs = PG_LONG_STATEMENT_MS): (target: PgSocketTarget) => Socket {
  let next = 0;
  return (target) => {
    let socket: Socket;
    let where: NetConnectOpts;
    if (target.path) {
      where = { path: target.path };
      socket = connect(target.path);
    } else {
      const i = next++ % Math.max(1, target.host.length);
      const host = target.host[i] ?? 'localhost';
      const port = target.port[i] ?? target.port[0] ?? 5432;
      where = { host, port };
      // small query messages go out at once, as libpq sends them (TCP_NODELAY)
      socket = connect({ host, port, noDelay: true });
      // the driver names host and port in its connection errors from these
      Object.assign(socket, { host, port });
    }
    const watch = watchSilence(socket, silenceMs, where, longMs);
    let writes = 0;
    const write = socket.write.bind(socket) as (...args: unknown[]) => boolean;
    socket.write = ((chunk: unknown, ...rest: unknown[]): boolean => {
      writes++;
      if (Buffer.isBuffer(chunk)) watch.sent(chunk);
      return write(chunk, ...rest);
    }) as Socket['write'];
    settleBeforeClose(socket, () => writes, () => watch.isCancel);
    return socket;
  };
}

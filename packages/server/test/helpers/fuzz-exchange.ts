import { connect } from 'node:net';

/** What came back for one fuzzed request. */
export interface FuzzAnswer {
  /** status codes of every response on the connection, in order (pipelined leftovers answer too) */
  statuses: number[];
  /** the bytes received, for a failure message */
  raw: Buffer;
  /** the server neither answered completely nor closed within the bound */
  hung: boolean;
  /** the server reset or aborted the connection */
  error: string | undefined;
}

/** Where the first complete response in `buf` ends (undefined: not complete yet; -1: ends at close). */
function responseEnd(buf: Buffer, headRequest: boolean): number | undefined {
  let at = 0;
  for (;;) {
    const headEnd = buf.indexOf('\r\n\r\n', at);
    if (headEnd === -1) return undefined;
    const head = buf.toString('latin1', at, headEnd);
    const status = Number(/^HTTP\/\d\.\d (\d{3})/.exec(head)?.[1] ?? 0);
    const bodyStart = headEnd + 4;
    if (status >= 100 && status < 200) {
      at = bodyStart; // 100 Continue: the real response follows
      continue;
    }
    // a change stream is answered once its head is out; it would stream on forever
    if (/\r\ncontent-type: text\/event-stream/i.test(head)) return bodyStart;
    if (headRequest || status === 204 || status === 304) return bodyStart;
    const length = /\r\ncontent-length: *(\d+)/i.exec(head);
    if (length) return buf.length >= bodyStart + Number(length[1]) ? bodyStart + Number(length[1]) : undefined;
    if (!/\r\ntransfer-encoding: *chunked/i.test(head)) return -1;
    for (let chunk = bodyStart; ; ) {
      const eol = buf.indexOf('\r\n', chunk);
      if (eol === -1) return undefined;
      const size = parseInt(buf.toString('latin1', chunk, eol), 16);
      if (size === 0) return buf.indexOf('\r\n\r\n', eol) === -1 ? undefined : buf.indexOf('\r\n\r\n', eol) + 4;
      chunk = eol + 2 + size + 2;
      if (!(size > 0) || chunk > buf.length) return undefined;
    }
  }
}

const STATUS_LINE = /(?:^|\r\n)HTTP\/\d\.\d (\d{3}) /g;

/**
 * Write `bytes` on a fresh socket and read. Once a first response is complete the client
 * half-closes (so a pipelined leftover is answered too, then the server closes); a client that
 * half-closed right away would look like one that went away, and slow handlers are abandoned.
 * A change stream counts as answered once its head arrived. An `incomplete` request (its body
 * shorter than announced) half-closes at once: the client is gone. Whatever neither answers
 * nor closes within `boundMs` hangs.
 */
export function fuzzExchange(port: number, bytes: Buffer, boundMs: number, options: { head?: boolean; incomplete?: boolean } = {}): Promise<FuzzAnswer> {
  const headRequest = options.head ?? false;
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let error: string | undefined;
    let hung = false;
    let ended = false;
    // a request sent incomplete would only wait for the server's timeouts: the client goes away instead
    const socket = connect(port, '127.0.0.1', () => (options.incomplete ? socket.end(bytes) : socket.write(bytes)));
    const timer = setTimeout(() => {
      hung = true;
      socket.destroy();
    }, boundMs);
    socket.on('data', (c: Buffer) => {
      chunks.push(c);
      if (ended) return;
      const raw = Buffer.concat(chunks);
      const end = responseEnd(raw, headRequest);
      if (end === undefined || end === -1) return;
      if (/\r\ncontent-type: text\/event-stream/i.test(raw.toString('latin1', 0, end))) socket.destroy();
      else socket.end();
      ended = true;
    });
    socket.on('error', (e: NodeJS.ErrnoException) => (error = e.code ?? e.message));
    socket.on('close', () => {
      clearTimeout(timer);
      const raw = Buffer.concat(chunks);
      const statuses = [...raw.toString('latin1').matchAll(STATUS_LINE)].map((m) => Number(m[1]));
      resolve({ statuses, raw, hung, error });
    });
  });
}

/** The answer shortened for a failure message (head and the start of the body). */
export function describeAnswer(answer: FuzzAnswer): string {
  const text = answer.raw.toString('latin1');
  const shown = text.length > 600 ? `${text.slice(0, 600)}... (${text.length} bytes)` : text;
  return `${answer.hung ? 'HUNG ' : ''}${answer.error ? `error ${answer.error} ` : ''}${JSON.stringify(shown)}`;
}

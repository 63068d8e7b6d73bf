/** One dispatched server-sent event, as the HTML standard's EventSource would deliver it. */
export interface SseMessage {
  /** event type (`message` when the stream gave none) */
  event: string;
  /** data lines joined with `\n` */
  data: string;
  /** the last event ID in effect (it carries over to later events that have no `id:`) */
  lastEventId: string;
}

export interface SseParserHandlers {
  onMessage(message: SseMessage): void;
  /** a valid `retry:` field: the server's reconnection delay in ms */
  onRetry?(ms: number): void;
  /** a comment line (without the leading colon), e.g. the server's `: ping` heartbeat */
  onComment?(text: string): void;
}

const LF = 0x0a;
const CR = 0x0d;

/**
 * Incremental `text/event-stream` parser following the HTML standard (9.2.6): lines end in CR,
 * LF or CRLF (also when CR and LF arrive in different chunks), a leading BOM is dropped, `:`
 * starts a comment, one space after the colon is removed, `data` lines accumulate, `id`
 * without NUL sets the last event ID, `retry` takes digits only, a blank line dispatches, and an
 * unterminated event at the end of the stream is discarded. Chunks may split anywhere, even
 * inside a UTF-8 sequence. No Node-only APIs: works on any fetch body stream.
 */
export class SseParser {
  private readonly decoder = new TextDecoder('utf-8', { ignoreBOM: false });
  private readonly handlers: SseParserHandlers;
  private line = '';
  private afterCr = false;
  private started = false;
  private data = '';
  private hasData = false;
  private event = '';
  private lastEventId: string;

  /** @param lastEventId the ID to start from (the one a resumed connection sent) */
  constructor(handlers: SseParserHandlers, lastEventId = '') {
    this.handlers = handlers;
    this.lastEventId = lastEventId;
  }

  /** Feed the next chunk of the body, bytes or already decoded text. */
  feed(chunk: Uint8Array | string): void {
    let text = typeof chunk === 'string' ? chunk : this.decoder.decode(chunk, { stream: true });
    if (!this.started && text.length > 0) {
      this.started = true;
      if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
    }
    let start = 0;
    let i = 0;
    if (this.afterCr && text.length > 0) {
      // a CR ended the previous chunk: an LF right here completes that CRLF
      if (text.charCodeAt(0) === LF) start = i = 1;
      this.afterCr = false;
    }
    for (; i < text.length; i++) {
      const c = text.charCodeAt(i);
      if (c !== LF && c !== CR) continue;
      this.processLine(this.line + text.slice(start, i));
      this.line = '';
      if (c === CR) {
        if (i + 1 === text.length) this.afterCr = true;
        else if (text.charCodeAt(i + 1) === LF) i++;
      }
      start = i + 1;
    }
    this.line += text.slice(start);
  }

  /** The body ended: flush the decoder; an event without its blank line is dropped, per the standard. */
  end(): void {
    const rest = this.decoder.decode();
    if (rest !== '') this.feed(rest);
    this.line = '';
    this.afterCr = false;
    this.data = '';
    this.hasData = false;
    this.event = '';
  }

  /** The last event ID seen so far (what a reconnect sends as `Last-Event-ID`). */
  get id(): string {
    return this.lastEventId;
  }

  private processLine(line: string): void {
    if (line === '') {
      this.dispatch();
      return;
    }
    if (line.charCodeAt(0) === 0x3a) {
      this.handlers.onComment?.(line.slice(1).replace(/^ /, ''));
      return;
    }
    const colon = line.indexOf(':');
    const field = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? '' : line.slice(colon + 1);
    if (value.charCodeAt(0) === 0x20) value = value.slice(1);
    switch (field) {
      case 'event':
        this.event = value;
        break;
      case 'data':
        this.data += `${value}\n`;
        this.hasData = true;
        break;
      case 'id':
        if (!value.includes('\u0000')) this.lastEventId = value;
        break;
      case 'retry':
        if (/^\d+$/.test(value)) this.handlers.onRetry?.(Number(value));
        break;
      default:
        break; // unknown fields are ignored
    }
  }

  private dispatch(): void {
    const event = this.event;
    const data = this.data;
    const hasData = this.hasData;
    this.event = '';
    this.data = '';
    this.hasData = false;
    if (!hasData) return;
    this.handlers.onMessage({ event: event === '' ? 'message' : event, data: data.slice(0, -1), lastEventId: this.lastEventId });
  }
}

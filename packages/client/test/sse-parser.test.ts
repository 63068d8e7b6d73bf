import { describe, expect, it } from 'vitest';
import { SseParser, type SseMessage } from '@stash/client';

function parse(chunks: Array<string | Uint8Array>, lastEventId = ''): { messages: SseMessage[]; retries: number[]; comments: string[] } {
  const messages: SseMessage[] = [];
  const retries: number[] = [];
  const comments: string[] = [];
  const parser = new SseParser(
    { onMessage: (m) => messages.push(m), onRetry: (ms) => retries.push(ms), onComment: (c) => comments.push(c) },
    lastEventId,
  );
  for (const c of chunks) parser.feed(c);
  parser.end();
  return { messages, retries, comments };
}

const SERVER_EVENT =
  'id: 7\nevent: change\ndata: {"key":"app/a","action":"update","timestamp":"2026-01-03T10:30:00Z","revision":7,"format":"text"}\n\n';

describe('SseParser (HTML standard event-stream parsing)', () => {
  it('parses our server event', () => {
    const { messages } = parse([SERVER_EVENT]);
    expect(messages).toEqual([{ event: 'change', data: SERVER_EVENT.split('\n')[2]?.slice(6), lastEventId: '7' }]);
  });

  it('gives the same result for every split point, in bytes and in text', () => {
    const text = `\uFEFF: ping\n\n${SERVER_EVENT}id: 8\r\nevent: change\r\ndata: {"key":"ключ/✓"}\r\n\r\nevent: reset\rdata: {"revision":9}\r\r`;
    const whole = parse([text]).messages;
    expect(whole.map((m) => m.event)).toEqual(['change', 'change', 'reset']);
    expect(whole[1]?.data).toBe('{"key":"ключ/✓"}');
    expect(whole[2]?.lastEventId).toBe('8');
    const bytes = new TextEncoder().encode(text);
    for (let i = 0; i <= bytes.length; i++) {
      expect(parse([bytes.subarray(0, i), bytes.subarray(i)]).messages).toEqual(whole);
    }
    for (let i = 0; i <= text.length; i++) {
      expect(parse([text.slice(0, i), text.slice(i)]).messages).toEqual(whole);
    }
    // one byte at a time
    expect(parse(Array.from(bytes, (b) => new Uint8Array([b]))).messages).toEqual(whole);
  });

  it('treats CR, LF and CRLF as line ends, with CRLF split across chunks counted once', () => {
    expect(parse(['data: a\r', '\ndata: b\r', '\r', '\n']).messages).toEqual([{ event: 'message', data: 'a\nb', lastEventId: '' }]);
    // CR CR is two line ends: the second dispatches
    expect(parse(['data: x\r\rdata: y\n\n']).messages.map((m) => m.data)).toEqual(['x', 'y']);
  });

  it('joins multi-line data with LF and keeps empty data lines', () => {
    expect(parse(['data: one\ndata:two\ndata\ndata:  three\n\n']).messages[0]?.data).toBe('one\ntwo\n\n three');
  });

  it('ignores comments (reporting them) and unknown fields; a line without colon is a field with empty value', () => {
    const { messages, comments } = parse([': ping\n\n:\n\nfoo: bar\nevent\ndata: x\n\n']);
    expect(comments).toEqual(['ping', '']);
    expect(messages).toEqual([{ event: 'message', data: 'x', lastEventId: '' }]);
  });

  it('does not dispatch blocks without data, but an id there still counts', () => {
    const { messages } = parse(['id: 5\nevent: change\n\ndata: later\n\n']);
    expect(messages).toEqual([{ event: 'message', data: 'later', lastEventId: '5' }]);
  });

  it('keeps the last event id across events, ignores ids with NUL, and an empty id resets it', () => {
    const { messages } = parse(['id: 1\ndata: a\n\ndata: b\n\nid: 2\u00003\ndata: c\n\nid\ndata: d\n\n'], 'start');
    expect(messages.map((m) => m.lastEventId)).toEqual(['1', '1', '1', '']);
    expect(parse(['data: a\n\n'], '41').messages[0]?.lastEventId).toBe('41');
  });

  it('accepts retry with digits only', () => {
    expect(parse(['retry: 2500\nretry: 1.5\nretry: x\nretry:\n\n']).retries).toEqual([2500]);
  });

  it('drops a BOM only at the very start, and an unterminated event at the end', () => {
    expect(parse(['\uFEFFdata: a\n\n\uFEFFdata: b\n\n']).messages.map((m) => m.data)).toEqual(['a']);
    expect(parse(['data: a\n\ndata: cut off\n']).messages.map((m) => m.data)).toEqual(['a']);
  });

  it('removes exactly one space after the colon', () => {
    expect(parse(['data:   x  \n\n']).messages[0]?.data).toBe('  x  ');
  });
});

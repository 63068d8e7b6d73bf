import { describe, expect, it } from 'vitest';
import { MessageFramer } from '../../src/storage/pg-socket.js';

/** One backend message: type byte, int32 length (itself included), body. */
const message = (type: string, body: Buffer): Buffer => {
  const head = Buffer.alloc(5);
  head.write(type, 0, 'latin1');
  head.writeUInt32BE(body.length + 4, 1);
  return Buffer.concat([head, body]);
};
const startup = (code: number, body: Buffer): Buffer => {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(body.length + 8, 0);
  head.writeUInt32BE(code, 4);
  return Buffer.concat([head, body]);
};

function framed(chunks: Buffer[], untypedFirst = false): string[] {
  const seen: string[] = [];
  const framer = new MessageFramer(untypedFirst, (type, code) => seen.push(type === 0 ? `startup:${code}` : String.fromCharCode(type)));
  for (const chunk of chunks) framer.feed(chunk);
  return seen;
}

describe('PostgreSQL message framing (the silence watch counts answers by it)', () => {
  const stream = Buffer.concat([
    message('T', Buffer.alloc(30, 1)),
    message('D', Buffer.alloc(3000, 2)),
    message('C', Buffer.from('SELECT 1\0')),
    message('Z', Buffer.from('I')),
  ]);

  it('finds every message whether it comes whole, byte by byte or cut at random points', () => {
    const whole = framed([stream]);
    expect(whole).toEqual(['T', 'D', 'C', 'Z']);
    expect(framed([...stream].map((b) => Buffer.from([b])))).toEqual(whole);
    for (let cut = 1; cut < stream.length; cut += 7) {
      expect(framed([stream.subarray(0, cut), stream.subarray(cut)])).toEqual(whole);
    }
  });

  it('reads the untyped startup message first, then typed ones', () => {
    const sent = Buffer.concat([startup(196608, Buffer.from('user\0x\0\0')), message('S', Buffer.alloc(0))]);
    expect(framed([sent], true)).toEqual(['startup:196608', 'S']);
    expect(framed([sent.subarray(0, 3), sent.subarray(3, 9), sent.subarray(9)], true)).toEqual(['startup:196608', 'S']);
  });
});

import { isStdBase64 } from './zk-envelope.js';

const encoder = new TextEncoder();
const utf8Decoder = new TextDecoder();
// chunk size for String.fromCharCode: stays far below every engine's argument limit
const CHUNK = 0x8000;

/** UTF-8 bytes of a string. */
export function utf8(text: string): Uint8Array<ArrayBuffer> {
  return encoder.encode(text);
}

/** A string from UTF-8 bytes (invalid sequences become U+FFFD, as Go/Python `get` do). */
export function fromUtf8(bytes: Uint8Array): string {
  return utf8Decoder.decode(bytes);
}

/** Padded standard base64 (btoa-based, so it runs in browsers, Deno, Bun and Node). */
export function toBase64(bytes: Uint8Array): string {
  let binary = '';
  for (let i = 0; i < bytes.length; i += CHUNK) {
    binary += String.fromCharCode(...bytes.subarray(i, i + CHUNK));
  }
  return btoa(binary);
}

/** Strict padded standard base64 decode; undefined when the text is not exactly that. */
export function fromBase64(text: string): Uint8Array<ArrayBuffer> | undefined {
  // atob alone accepts whitespace and missing padding; Go's StdEncoding does not
  if (!isStdBase64(text)) return undefined;
  const binary = atob(text);
  const out = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) out[i] = binary.charCodeAt(i);
  return out;
}

/** Copy into a fresh ArrayBuffer-backed array (what WebCrypto's BufferSource typing wants). */
export function toOwnedBytes(bytes: Uint8Array): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(bytes.byteLength);
  out.set(bytes);
  return out;
}

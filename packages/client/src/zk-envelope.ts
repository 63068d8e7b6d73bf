/** Marker that starts every zero-knowledge value. */
export const ZK_PREFIX = '$ZK$';
export const ZK_SALT_BYTES = 16;
export const ZK_NONCE_BYTES = 12;
export const ZK_TAG_BYTES = 16;
/** Smallest decoded envelope: salt + nonce + tag (an empty plaintext). */
export const ZK_MIN_PAYLOAD_BYTES = ZK_SALT_BYTES + ZK_NONCE_BYTES + ZK_TAG_BYTES;

const STD_BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** True when the value is longer than the marker and starts with `$ZK$` (all SDKs agree). */
export function isZkValue(value: string | Uint8Array): boolean {
  if (typeof value === 'string') return value.length > ZK_PREFIX.length && value.startsWith(ZK_PREFIX);
  return (
    value.length > 4 && value[0] === 0x24 && value[1] === 0x5a && value[2] === 0x4b && value[3] === 0x24
  );
}

/** Padded standard base64 check, as Go's StdEncoding decodes (no whitespace, padding required). */
export function isStdBase64(text: string): boolean {
  return STD_BASE64.test(text);
}

/** Decoded byte length of a string already known to be valid padded base64. */
export function base64DecodedLength(text: string): number {
  const pad = text.endsWith('==') ? 2 : text.endsWith('=') ? 1 : 0;
  return (text.length / 4) * 3 - pad;
}

/** Server-side shape check of a `$ZK$` envelope (never decrypts): base64 of at least 44 bytes. */
export function isValidZkEnvelope(value: string): boolean {
  if (!isZkValue(value)) return false;
  const body = value.slice(ZK_PREFIX.length);
  return isStdBase64(body) && base64DecodedLength(body) >= ZK_MIN_PAYLOAD_BYTES;
}

import { randomBytes } from 'node:crypto';
import { poly1305 } from '@noble/ciphers/_poly1305.js';
import { xsalsa20 } from '@noble/ciphers/salsa.js';
import argon2 from 'argon2';

// the original's secrets format assembled by hand from primitives, independent of the vault:
// Argon2id (Go x/crypto argon2.IDKey defaults: v=0x13) + NaCl secretbox = tag ‖ XSalsa20 stream xor

/** Argon2id(masterKey, salt, t=1, m=64 MiB, p=4) -> 32 bytes, as Go's argon2.IDKey. */
export function originalKey(masterKey: string, salt: Uint8Array): Promise<Buffer> {
  return argon2.hash(Buffer.from(masterKey, 'utf8'), {
    raw: true,
    salt: Buffer.from(salt),
    type: argon2.argon2id,
    version: 0x13,
    timeCost: 1,
    memoryCost: 65536,
    parallelism: 4,
    hashLength: 32,
  });
}

/** NaCl crypto_secretbox: the first 32 keystream bytes key Poly1305, the rest encrypt. */
export function secretboxSeal(key: Uint8Array, nonce: Uint8Array, message: Uint8Array): Buffer {
  const stream = xsalsa20(key, nonce, new Uint8Array(32 + message.length));
  const ct = Buffer.alloc(message.length);
  for (let i = 0; i < message.length; i++) ct[i] = (message[i] as number) ^ (stream[32 + i] as number);
  const tag = poly1305(ct, stream.subarray(0, 32));
  return Buffer.concat([tag, ct]);
}

/** Inverse of secretboxSeal; throws when the tag does not verify. */
export function secretboxOpen(key: Uint8Array, nonce: Uint8Array, box: Uint8Array): Buffer {
  const tag = box.subarray(0, 16);
  const ct = box.subarray(16);
  const stream = xsalsa20(key, nonce, new Uint8Array(32 + ct.length));
  if (!Buffer.from(poly1305(ct, stream.subarray(0, 32))).equals(Buffer.from(tag))) throw new Error('bad tag');
  const out = Buffer.alloc(ct.length);
  for (let i = 0; i < ct.length; i++) out[i] = (ct[i] as number) ^ (stream[32 + i] as number);
  return out;
}

/** What the original stores for `plain` under `masterKey`: base64(salt ‖ nonce ‖ box). */
export async function originalSeal(masterKey: string, plain: Uint8Array, salt = randomBytes(16)): Promise<string> {
  const nonce = randomBytes(24);
  const box = secretboxSeal(await originalKey(masterKey, salt), nonce, plain);
  return Buffer.concat([salt, nonce, box]).toString('base64');
}

/** Decrypt a stored value the original's way. */
export async function originalOpen(masterKey: string, stored: string): Promise<Buffer> {
  const raw = Buffer.from(stored, 'base64');
  const salt = raw.subarray(0, 16);
  return secretboxOpen(await originalKey(masterKey, salt), raw.subarray(16, 40), raw.subarray(40));
}

import { randomBytes } from 'node:crypto';
import { xsalsa20poly1305 } from '@noble/ciphers/salsa.js';
import { isStdBase64 } from '@stash/client/core';
import argon2 from 'argon2';
import { LRUCache } from 'lru-cache';
import type { ValueVault } from '../domain/ports.js';

// the original's format (compat 7): base64(salt16 ‖ nonce24 ‖ secretbox), key = Argon2id per salt
export const SALT_BYTES = 16;
export const NONCE_BYTES = 24;
const TAG_BYTES = 16;
/** Smallest decoded envelope: salt + nonce + tag (an empty plaintext). */
export const MIN_SEALED_BYTES = SALT_BYTES + NONCE_BYTES + TAG_BYTES;

/** Argon2id parameters of the original; they must match exactly or old values never open. */
export const VAULT_KDF = { timeCost: 1, memoryCost: 64 * 1024, parallelism: 4, hashLength: 32 } as const;

const DEFAULT_CACHE_SIZE = 4096;
const textEncoder = new TextEncoder();

/** A stored secret that is not a valid envelope or fails authentication; never carries the value. */
export class SecretsDecryptError extends Error {
  override readonly name = 'SecretsDecryptError';
}

export interface SecretsVaultOptions {
  /** the `--secrets.key` text; its UTF-8 bytes are the Argon2id password */
  masterKey: string;
  /** derived keys kept in memory (32 bytes each); default 4096 */
  cacheSize?: number | undefined;
}

/**
 * Server-side encryption of values under `secrets` paths, byte-compatible with the original:
 * every seal draws a fresh salt and nonce, so databases move both ways unchanged. What differs
 * is cost: the key derived for a salt is kept in a bounded LRU, so reading a value again (or
 * reading what this process just wrote) is one XSalsa20-Poly1305 open instead of a 64 MiB
 * Argon2id. Concurrent first reads of one salt share a single derivation.
 */
export class SecretsVault implements ValueVault {
  private readonly password: Buffer;
  private readonly keys: LRUCache<string, Promise<Uint8Array>>;
  private derivationCount = 0;

  constructor(options: SecretsVaultOptions) {
    this.password = Buffer.from(textEncoder.encode(options.masterKey));
    this.keys = new LRUCache({ max: options.cacheSize ?? DEFAULT_CACHE_SIZE });
  }

  /** Cache figures for tests and the bench: keys held now, Argon2id runs so far. */
  get stats(): { cachedKeys: number; derivations: number } {
    return { cachedKeys: this.keys.size, derivations: this.derivationCount };
  }

  async seal(plain: Uint8Array): Promise<Uint8Array> {
    // one fresh salt (one Argon2id) per write, as the original: reusing a salt per process would
    // be as compatible and faster, but would tie all its values to one key, visibly in the database
    const salt = randomBytes(SALT_BYTES);
    const nonce = randomBytes(NONCE_BYTES);
    const key = await this.keyFor(salt);
    const box = xsalsa20poly1305(key, nonce).encrypt(plain);
    const sealed = Buffer.concat([salt, nonce, box]);
    return Buffer.from(sealed.toString('base64'), 'latin1');
  }

  async open(stored: Uint8Array): Promise<Uint8Array> {
    const text = Buffer.from(stored.buffer, stored.byteOffset, stored.byteLength).toString('latin1');
    if (!isStdBase64(text)) throw new SecretsDecryptError('stored secret is not valid base64');
    const raw = Buffer.from(text, 'base64');
    if (raw.length < MIN_SEALED_BYTES) throw new SecretsDecryptError('stored secret is too short');
    const salt = raw.subarray(0, SALT_BYTES);
    const nonce = raw.subarray(SALT_BYTES, SALT_BYTES + NONCE_BYTES);
    const key = await this.keyFor(salt);
    try {
      return xsalsa20poly1305(key, nonce).decrypt(raw.subarray(SALT_BYTES + NONCE_BYTES));
    } catch {
      throw new SecretsDecryptError('stored secret failed authentication (wrong --secrets.key?)');
    }
  }

  private keyFor(salt: Buffer): Promise<Uint8Array> {
    const id = salt.toString('base64');
    const cached = this.keys.get(id);
    if (cached) return cached;
    this.derivationCount++;
    const derived = deriveVaultKey(this.password, salt).then((key) => new Uint8Array(key));
    this.keys.set(id, derived);
    derived.catch(() => this.keys.delete(id));
    return derived;
  }
}

/** Argon2id(password, salt) with the original's parameters: the 32-byte secretbox key. */
export function deriveVaultKey(password: Uint8Array, salt: Uint8Array): Promise<Buffer> {
  return argon2.hash(Buffer.from(password), {
    raw: true,
    salt: Buffer.from(salt),
    type: argon2.argon2id,
    version: 0x13,
    ...VAULT_KDF,
  });
}

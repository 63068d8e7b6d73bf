import { argon2id } from 'hash-wasm';
import { fromBase64, toBase64, toOwnedBytes, utf8 } from './bytes.js';
import { DecryptionError, InvalidArgumentError, StashError } from './errors.js';
import { LruCache } from './lru-cache.js';
import { ZK_MIN_PAYLOAD_BYTES, ZK_NONCE_BYTES, ZK_PREFIX, ZK_SALT_BYTES, isZkValue } from './zk-envelope.js';

/** Smallest passphrase, in UTF-8 bytes (Go, TS, Java and Rust clients count bytes). */
export const ZK_MIN_PASSPHRASE_BYTES = 16;
/** Argon2id parameters every Stash client uses (compat 8.1): must match byte for byte. */
export const ZK_ARGON2ID = { iterations: 1, memorySize: 65536, parallelism: 4, hashLength: 32 } as const;
/** Derived keys kept per salt by default. */
export const ZK_DEFAULT_CACHE_SIZE = 256;

/** Derives the 32-byte AES key from the passphrase bytes and a 16-byte salt. */
export type ZkKdf = (passphrase: Uint8Array, salt: Uint8Array) => Promise<Uint8Array>;

/** Argon2id (t=1, m=64 MiB, p=4) in WASM via hash-wasm, so it runs in every JS runtime. */
export const argon2idKdf: ZkKdf = (passphrase, salt) =>
  argon2id({ password: passphrase, salt, ...ZK_ARGON2ID, outputType: 'binary' });

export interface ZkCryptoOptions {
  /** key derivation; the default is Argon2id (tests inject a counting wrapper) */
  kdf?: ZkKdf;
  /** how many derived keys to keep, one per salt (default 256) */
  cacheSize?: number;
}

/**
 * Zero-knowledge encryption as every official client does it: AES-256-GCM with a key from
 * Argon2id(passphrase, random 16-byte salt); the value is `$ZK$` + padded standard base64 of
 * salt ‖ nonce(12) ‖ ciphertext ‖ tag(16). Each encryption uses a fresh salt and nonce.
 * Derived keys are cached per salt (bounded LRU), so reading a value again costs no Argon2id.
 *
 * @example
 * const zk = new ZkCrypto('a passphrase of 16+ bytes');
 * const sealed = await zk.encrypt('secret'); // "$ZK$..."
 * new TextDecoder().decode(await zk.decrypt(sealed)); // "secret"
 */
export class ZkCrypto {
  readonly #passphrase: Uint8Array;
  readonly #kdf: ZkKdf;
  readonly #keys: LruCache<string, Promise<CryptoKey>>;
  #wiped = false;

  /** @throws InvalidArgumentError when the passphrase is shorter than 16 UTF-8 bytes */
  constructor(passphrase: string | Uint8Array, options: ZkCryptoOptions = {}) {
    const bytes = typeof passphrase === 'string' ? utf8(passphrase) : toOwnedBytes(passphrase);
    if (bytes.length < ZK_MIN_PASSPHRASE_BYTES) {
      bytes.fill(0);
      throw new InvalidArgumentError(
        `ZK passphrase too short: ${bytes.length} bytes, at least ${ZK_MIN_PASSPHRASE_BYTES} UTF-8 bytes required`,
      );
    }
    this.#passphrase = bytes;
    this.#kdf = options.kdf ?? argon2idKdf;
    this.#keys = new LruCache(options.cacheSize ?? ZK_DEFAULT_CACHE_SIZE);
  }

  /** Encrypt a value into a `$ZK$` envelope (fresh random salt and nonce). */
  async encrypt(plaintext: string | Uint8Array): Promise<string> {
    const [sealed] = await this.encryptMany([plaintext]);
    return sealed ?? '';
  }

  /**
   * Encrypt several values with ONE fresh salt (one Argon2id) and a fresh random nonce each:
   * a batch of N values costs one derivation instead of N. Random 96-bit nonces under one key
   * are safe far beyond any batch size, and every client decrypts the envelopes as usual.
   */
  async encryptMany(plaintexts: readonly (string | Uint8Array)[]): Promise<string[]> {
    if (plaintexts.length === 0) return [];
    const salt = crypto.getRandomValues(new Uint8Array(ZK_SALT_BYTES));
    const key = await this.#key(salt);
    const out: string[] = [];
    for (const plaintext of plaintexts) {
      const data = typeof plaintext === 'string' ? utf8(plaintext) : toOwnedBytes(plaintext);
      const nonce = crypto.getRandomValues(new Uint8Array(ZK_NONCE_BYTES));
      const sealed = new Uint8Array(await crypto.subtle.encrypt({ name: 'AES-GCM', iv: nonce, tagLength: 128 }, key, data));
      const envelope = new Uint8Array(ZK_SALT_BYTES + ZK_NONCE_BYTES + sealed.length);
      envelope.set(salt, 0);
      envelope.set(nonce, ZK_SALT_BYTES);
      envelope.set(sealed, ZK_SALT_BYTES + ZK_NONCE_BYTES);
      out.push(ZK_PREFIX + toBase64(envelope));
    }
    return out;
  }

  /**
   * Decrypt a `$ZK$` envelope.
   * @throws DecryptionError for a malformed, truncated or tampered value or a wrong passphrase
   */
  async decrypt(value: string, key?: string): Promise<Uint8Array> {
    if (!isZkValue(value)) throw new DecryptionError('not a $ZK$ value', { key });
    const payload = fromBase64(value.slice(ZK_PREFIX.length));
    if (payload === undefined) throw new DecryptionError('corrupted $ZK$ value: not padded standard base64', { key });
    if (payload.length < ZK_MIN_PAYLOAD_BYTES) {
      throw new DecryptionError(`truncated $ZK$ value: ${payload.length} bytes, at least ${ZK_MIN_PAYLOAD_BYTES} expected`, {
        key,
      });
    }
    const salt = payload.slice(0, ZK_SALT_BYTES);
    const nonce = payload.slice(ZK_SALT_BYTES, ZK_SALT_BYTES + ZK_NONCE_BYTES);
    const sealed = payload.slice(ZK_SALT_BYTES + ZK_NONCE_BYTES);
    const aesKey = await this.#key(salt);
    try {
      const plain = await crypto.subtle.decrypt({ name: 'AES-GCM', iv: nonce, tagLength: 128 }, aesKey, sealed);
      return new Uint8Array(plain);
    } catch (error) {
      throw new DecryptionError('cannot decrypt $ZK$ value: wrong passphrase or corrupted value', { key, cause: error });
    }
  }

  /** Zero the passphrase bytes and forget every derived key; later calls throw. */
  wipe(): void {
    this.#passphrase.fill(0);
    this.#keys.clear();
    this.#wiped = true;
  }

  /** True once wipe() ran. */
  get wiped(): boolean {
    return this.#wiped;
  }

  #key(salt: Uint8Array<ArrayBuffer>): Promise<CryptoKey> {
    if (this.#wiped) return Promise.reject(new StashError('ZK passphrase was wiped: the client is closed'));
    const id = toBase64(salt);
    const cached = this.#keys.get(id);
    if (cached) return cached;
    // the promise is cached, so concurrent reads of one value share a single derivation
    const derived = this.#derive(salt);
    this.#keys.set(id, derived);
    derived.catch(() => this.#keys.delete(id));
    return derived;
  }

  async #derive(salt: Uint8Array<ArrayBuffer>): Promise<CryptoKey> {
    let raw: Uint8Array<ArrayBuffer>;
    try {
      const output = await this.#kdf(this.#passphrase, salt);
      raw = toOwnedBytes(output);
      output.fill(0);
    } catch (error) {
      throw new DecryptionError('ZK key derivation failed', { cause: error });
    }
    try {
      return await crypto.subtle.importKey('raw', raw, { name: 'AES-GCM' }, false, ['encrypt', 'decrypt']);
    } finally {
      raw.fill(0);
    }
  }
}

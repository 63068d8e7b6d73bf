import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  DecryptionError,
  InvalidArgumentError,
  ZK_ARGON2ID,
  ZkCrypto,
  argon2idKdf,
  isDecryptionError,
  isValidZkEnvelope,
  type ZkKdf,
} from '@stash/client';

// Vectors made by the original's Go, Python, TypeScript and Rust clients (fixtures/zk/README.md).
const FIXTURES = join(import.meta.dirname, 'fixtures', 'zk');
const PASSPHRASE = 'cross-compat-key-16';
const decoder = new TextDecoder();

function countingKdf(): { kdf: ZkKdf; calls: () => number } {
  let calls = 0;
  return {
    kdf: (passphrase, salt) => {
      calls++;
      return argon2idKdf(passphrase, salt);
    },
    calls: () => calls,
  };
}

function decodeEnvelope(value: string): Uint8Array {
  return Uint8Array.from(atob(value.slice(4)), (c) => c.charCodeAt(0));
}

describe('ZK cross-SDK vectors', () => {
  const files = readdirSync(FIXTURES).filter((f) => f.endsWith('.bin'));

  it('has the fixture files', () => {
    expect(files.length).toBeGreaterThanOrEqual(6);
  });

  it.each(files)('%s decrypts to its plaintext', async (file) => {
    const plaintextFile = `${file.split('_')[0] ?? ''}_plaintext.txt`;
    const expected = readFileSync(join(FIXTURES, plaintextFile), 'utf8');
    const value = readFileSync(join(FIXTURES, file), 'utf8');
    const zk = new ZkCrypto(PASSPHRASE);
    expect(decoder.decode(await zk.decrypt(value))).toBe(expected);
  });

  it('decrypts values of different salts concurrently', async () => {
    const zk = new ZkCrypto(PASSPHRASE);
    const [go, rust] = await Promise.all([
      zk.decrypt(readFileSync(join(FIXTURES, 'go_encrypted.bin'), 'utf8')),
      zk.decrypt(readFileSync(join(FIXTURES, 'rust_encrypted.bin'), 'utf8')),
    ]);
    expect(decoder.decode(go)).toBe(readFileSync(join(FIXTURES, 'go_plaintext.txt'), 'utf8'));
    expect(decoder.decode(rust)).toBe(readFileSync(join(FIXTURES, 'rust_plaintext.txt'), 'utf8'));
  });

  it('uses the Argon2id parameters of compat 8.1', () => {
    expect(ZK_ARGON2ID).toEqual({ iterations: 1, memorySize: 65536, parallelism: 4, hashLength: 32 });
  });
});

describe('ZkCrypto', () => {
  it('produces the exact envelope layout and round-trips', async () => {
    const zk = new ZkCrypto(PASSPHRASE);
    for (const plain of ['', 'x', 'hello from TypeScript! 🚀', 'a'.repeat(1000)]) {
      const sealed = await zk.encrypt(plain);
      expect(sealed.startsWith('$ZK$')).toBe(true);
      const body = sealed.slice(4);
      expect(body).toMatch(/^[A-Za-z0-9+/]*={0,2}$/);
      expect(body.length % 4).toBe(0);
      const plainBytes = new TextEncoder().encode(plain).length;
      expect(decodeEnvelope(sealed).length).toBe(16 + 12 + plainBytes + 16);
      expect(isValidZkEnvelope(sealed)).toBe(true);
      expect(decoder.decode(await zk.decrypt(sealed))).toBe(plain);
    }
  });

  it('uses a fresh salt and nonce for every encryption', async () => {
    const zk = new ZkCrypto(PASSPHRASE);
    const a = decodeEnvelope(await zk.encrypt('same'));
    const b = decodeEnvelope(await zk.encrypt('same'));
    expect(a.slice(0, 16)).not.toEqual(b.slice(0, 16));
    expect(a.slice(16, 28)).not.toEqual(b.slice(16, 28));
  });

  it('encrypts bytes', async () => {
    const zk = new ZkCrypto(PASSPHRASE);
    const bytes = new Uint8Array([0, 1, 2, 255, 254]);
    expect(await zk.decrypt(await zk.encrypt(bytes))).toEqual(bytes);
  });

  it('derives a key once per salt: the second decrypt runs no Argon2id', async () => {
    const value = readFileSync(join(FIXTURES, 'go_encrypted.bin'), 'utf8');
    const counter = countingKdf();
    const zk = new ZkCrypto(PASSPHRASE, { kdf: counter.kdf });
    const t0 = performance.now();
    await zk.decrypt(value);
    const first = performance.now() - t0;
    expect(counter.calls()).toBe(1);
    const t1 = performance.now();
    await zk.decrypt(value);
    const second = performance.now() - t1;
    expect(counter.calls()).toBe(1);
    // a cached read is pure AES-GCM: far below the 64 MiB Argon2id (logged for the record)
    console.info(`ZK decrypt: first ${first.toFixed(1)} ms, cached ${second.toFixed(3)} ms`);
  });

  it('shares one derivation between concurrent decrypts and caches what it encrypted', async () => {
    const counter = countingKdf();
    const zk = new ZkCrypto(PASSPHRASE, { kdf: counter.kdf });
    const sealed = await zk.encrypt('mine');
    expect(counter.calls()).toBe(1);
    await Promise.all([zk.decrypt(sealed), zk.decrypt(sealed), zk.decrypt(sealed)]);
    expect(counter.calls()).toBe(1);
  });

  it('encryptMany: one derivation for a batch, distinct nonces, each envelope decrypts alone', async () => {
    const counter = countingKdf();
    const zk = new ZkCrypto(PASSPHRASE, { kdf: counter.kdf });
    const sealed = await zk.encryptMany(['a', 'b', new Uint8Array([1, 2])]);
    expect(counter.calls()).toBe(1);
    const nonces = new Set(sealed.map((v) => btoa(String.fromCharCode(...decodeEnvelope(v).slice(16, 28)))));
    expect(nonces.size).toBe(3);
    const fresh = new ZkCrypto(PASSPHRASE);
    expect(decoder.decode(await fresh.decrypt(sealed[1]!))).toBe('b');
    expect(await fresh.decrypt(sealed[2]!)).toEqual(new Uint8Array([1, 2]));
  });

  it('keeps the cache bounded (LRU)', async () => {
    const calls: string[] = [];
    const fastKdf: ZkKdf = (_p, salt) => {
      calls.push(btoa(String.fromCharCode(...salt)));
      return Promise.resolve(new Uint8Array(32).fill(7));
    };
    const zk = new ZkCrypto(PASSPHRASE, { kdf: fastKdf, cacheSize: 2 });
    const a = await zk.encrypt('a');
    const b = await zk.encrypt('b');
    await zk.decrypt(a); // a is now most recent
    const c = await zk.encrypt('c'); // evicts b
    expect(calls.length).toBe(3);
    await zk.decrypt(a);
    await zk.decrypt(c);
    expect(calls.length).toBe(3);
    await zk.decrypt(b);
    expect(calls.length).toBe(4);
  });

  it('wrong passphrase -> DecryptionError', async () => {
    const value = readFileSync(join(FIXTURES, 'python_encrypted.bin'), 'utf8');
    const zk = new ZkCrypto('another-passphrase-of-16');
    await expect(zk.decrypt(value)).rejects.toBeInstanceOf(DecryptionError);
  });

  it('tampered, truncated and malformed values -> DecryptionError', async () => {
    const value = readFileSync(join(FIXTURES, 'rust_encrypted.bin'), 'utf8');
    const zk = new ZkCrypto(PASSPHRASE);
    const bytes = decodeEnvelope(value);
    bytes[bytes.length - 1] = (bytes[bytes.length - 1] ?? 0) ^ 1;
    const tampered = `$ZK$${btoa(String.fromCharCode(...bytes))}`;
    const truncated = `$ZK$${btoa(String.fromCharCode(...bytes.slice(0, 40)))}`;
    const cutTag = `$ZK$${btoa(String.fromCharCode(...decodeEnvelope(value).slice(0, -1)))}`;
    for (const bad of [tampered, truncated, cutTag, value.slice(0, -2), '$ZK$not base64!', '$ZK$', 'plain']) {
      const error = await zk.decrypt(bad).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(isDecryptionError(error), bad).toBe(true);
      expect((error as Error).message).toMatch(/ZK|decrypt/);
    }
  });

  it('rejects a passphrase shorter than 16 UTF-8 bytes, counting bytes not characters', () => {
    expect(() => new ZkCrypto('fifteen-chars!!')).toThrow(InvalidArgumentError);
    expect(() => new ZkCrypto('fifteen-chars!!')).toThrow(/at least 16 UTF-8 bytes/);
    // 8 characters, 16 bytes
    expect(() => new ZkCrypto('éééééééé')).not.toThrow();
  });

  it('wipe() zeroes the passphrase and refuses further use', async () => {
    const passphrase = new TextEncoder().encode(PASSPHRASE);
    const zk = new ZkCrypto(passphrase);
    const sealed = await zk.encrypt('x');
    zk.wipe();
    expect(zk.wiped).toBe(true);
    await expect(zk.decrypt(sealed)).rejects.toThrow(/wiped/);
    await expect(zk.encrypt('y')).rejects.toThrow(/wiped/);
  });
});

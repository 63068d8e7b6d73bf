import { describe, expect, it } from 'vitest';
import { deriveVaultKey, MIN_SEALED_BYTES, SecretsDecryptError, SecretsVault } from '../../src/crypto/secrets-vault.js';
import { originalOpen, originalSeal, secretboxOpen, secretboxSeal } from './original-format.js';

const MASTER = '0123456789abcdef-test';
const hex = (s: string): Buffer => Buffer.from(s, 'hex');
const text = (b: Uint8Array): string => Buffer.from(b).toString('utf8');
const bytes = (s: string): Uint8Array => new TextEncoder().encode(s);

// Argon2id answer computed with OpenSSL's implementation (Python cryptography 48), not with `argon2`
const KDF_SALT = Buffer.from(Array.from({ length: 16 }, (_, i) => i));
const KDF_EXPECTED = 'b03bd0e97c92297d40d1e3bfcc83f42ee3f448f562b984a97579cc22f4c8a339';

// NaCl's own crypto_secretbox test vector (tests/secretbox.c: firstkey, nonce, m -> c)
const NACL_KEY = hex('1b27556473e985d462cd51197a9a46c76009549eac6474f206c4ee0844f68389');
const NACL_NONCE = hex('69696ee955b62b73cd62bda875fc73d68219e0036b7a0b37');
const NACL_M = hex(
  'be075fc53c81f2d5cf141316ebeb0c7b5228c52a4c62cbd44b66849b64244ffce5ecbaaf33bd751a1ac728d45e6c61296cdc3c01233561f41db66cce314adb310e3be8250c46f06dceea3a7fa1348057e2f6556ad6b1318a024a838f21af1fde048977eb48f59ffd4924ca1c60902e52f0a089bc76897040e082f937763848645e0705',
);
const NACL_C = hex(
  'f3ffc7703f9400e52a7dfb4b3d3305d98e993b9f48681273c29650ba32fc76ce48332ea7164d96a4476fb8c531a1186ac0dfc17c98dce87b4da7f011ec48c97271d2c20f9b928fe2270d6fb863d51738b48eeee314a7cc8ab932164548e526ae90224368517acfeabd6bb3732bc0e9da99832b61ca01b6de56244a9e88d5f9b37973f622a43d14a6599b1f654cb45a74e355a5',
);

describe('the original format, checked against independent answers', () => {
  it('Argon2id with the original parameters matches another implementation', async () => {
    expect((await deriveVaultKey(bytes(MASTER), KDF_SALT)).toString('hex')).toBe(KDF_EXPECTED);
  });

  it('the hand-made secretbox reproduces the NaCl test vector (tag first, then ciphertext)', () => {
    expect(secretboxSeal(NACL_KEY, NACL_NONCE, NACL_M).toString('hex')).toBe(NACL_C.toString('hex'));
    expect(secretboxOpen(NACL_KEY, NACL_NONCE, NACL_C).equals(NACL_M)).toBe(true);
  });
});

describe('SecretsVault', () => {
  it('opens a value encrypted the original way', async () => {
    const stored = await originalSeal(MASTER, bytes('db-password: hunter2 🔑'));
    const vault = new SecretsVault({ masterKey: MASTER });
    expect(text(await vault.open(Buffer.from(stored)))).toBe('db-password: hunter2 🔑');
  });

  it('seals values the original can open, with padded standard base64 of salt ‖ nonce ‖ box', async () => {
    const vault = new SecretsVault({ masterKey: MASTER });
    for (const plain of ['', 'x', 'twelve bytes', 'a longer secret value with unicode ✓']) {
      const stored = Buffer.from(await vault.seal(bytes(plain))).toString('latin1');
      expect(stored).toMatch(/^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/);
      expect(Buffer.from(stored, 'base64').length).toBe(MIN_SEALED_BYTES + Buffer.byteLength(plain));
      expect(text(await originalOpen(MASTER, stored))).toBe(plain);
    }
  });

  it('uses a fresh salt and nonce for every seal', async () => {
    const vault = new SecretsVault({ masterKey: MASTER });
    const a = Buffer.from(Buffer.from(await vault.seal(bytes('same'))).toString(), 'base64');
    const b = Buffer.from(Buffer.from(await vault.seal(bytes('same'))).toString(), 'base64');
    expect(a.subarray(0, 16).equals(b.subarray(0, 16))).toBe(false);
    expect(a.subarray(16, 40).equals(b.subarray(16, 40))).toBe(false);
    expect(vault.stats.derivations).toBe(2);
  });

  it('derives a key once per salt: repeated and concurrent reads cost no Argon2id', async () => {
    const stored = Buffer.from(await originalSeal(MASTER, bytes('cached')));
    const vault = new SecretsVault({ masterKey: MASTER });
    const first = await Promise.all([1, 2, 3, 4].map(() => vault.open(stored)));
    expect(first.map(text)).toEqual(['cached', 'cached', 'cached', 'cached']);
    for (let i = 0; i < 20; i++) expect(text(await vault.open(stored))).toBe('cached');
    expect(vault.stats).toEqual({ cachedKeys: 1, derivations: 1 });
  });

  it('reading what this process wrote needs no further derivation', async () => {
    const vault = new SecretsVault({ masterKey: MASTER });
    const stored = await vault.seal(bytes('mine'));
    expect(text(await vault.open(stored))).toBe('mine');
    expect(vault.stats.derivations).toBe(1);
  });

  it('keeps the cache bounded', async () => {
    const vault = new SecretsVault({ masterKey: MASTER, cacheSize: 2 });
    for (let i = 0; i < 3; i++) await vault.seal(bytes(`v${i}`));
    expect(vault.stats).toEqual({ cachedKeys: 2, derivations: 3 });
  });

  it('rejects stored values that are not an envelope, without echoing them', async () => {
    const vault = new SecretsVault({ masterKey: MASTER });
    const good = Buffer.from(await vault.seal(bytes('plaintext-value'))).toString();
    const raw = Buffer.from(good, 'base64');
    const tampered = Buffer.from(raw);
    tampered[tampered.length - 1] = (tampered[tampered.length - 1] as number) ^ 1;
    const cases = [
      'plaintext-value', // a legacy plaintext secret
      'AAAA', // valid base64, too short
      raw.subarray(0, MIN_SEALED_BYTES - 1).toString('base64'),
      good.slice(0, -1), // padding missing
      `${good.slice(0, 8)}\n${good.slice(8)}`, // whitespace
      tampered.toString('base64'),
    ];
    for (const stored of cases) {
      const error = await vault.open(Buffer.from(stored)).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(SecretsDecryptError);
      expect(String(error)).not.toContain('plaintext-value');
    }
  });

  it('a different master key cannot open the value', async () => {
    const stored = await new SecretsVault({ masterKey: MASTER }).seal(bytes('x'));
    await expect(new SecretsVault({ masterKey: 'another-key-16-bytes' }).open(stored)).rejects.toThrow(SecretsDecryptError);
  });

  it('opens the minimum envelope (empty plaintext) of exactly 56 bytes', async () => {
    const stored = await originalSeal(MASTER, new Uint8Array(0));
    expect(Buffer.from(stored, 'base64').length).toBe(56);
    expect((await new SecretsVault({ masterKey: MASTER }).open(Buffer.from(stored))).length).toBe(0);
  });
});

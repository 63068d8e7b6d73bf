// Zero-knowledge values in the browser, bundled on its own (web-assets/zk.js, with Argon2id in
// WebAssembly) and loaded only when a page first opens one: this project's own client does the
// work, so what the browser encrypts every other client decrypts, and the other way round.
import { ZkCrypto } from '@stash/client';

export interface ZkSession {
  decrypt(value: string): Promise<string>;
  encrypt(plaintext: string): Promise<string>;
  /** zero the passphrase bytes and forget every derived key */
  wipe(): void;
}

/** @throws when the passphrase is shorter than the 16 UTF-8 bytes every client requires */
export function openZk(passphrase: string): ZkSession {
  const zk = new ZkCrypto(passphrase);
  const decoder = new TextDecoder('utf-8', { fatal: true });
  return {
    decrypt: async (value) => decoder.decode(await zk.decrypt(value)),
    encrypt: (plaintext) => zk.encrypt(plaintext),
    wipe: () => zk.wipe(),
  };
}

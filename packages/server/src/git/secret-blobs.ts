import { isSecretKey, isZkValue } from '@stash/client/core';
import type { ValueVault } from '../domain/ports.js';

/** Marker of a vault-encrypted secret in the history repository (compat 7). */
export const ENC_PREFIX = '$ENC$';
const ENC_BYTES = Buffer.from(ENC_PREFIX);

/** A secret blob in git that cannot be read: no --secrets.key, or the wrong one. */
export class SecretBlobError extends Error {
  override readonly name = 'SecretBlobError';
}

function hasEncPrefix(blob: Uint8Array): boolean {
  return blob.length >= ENC_BYTES.length && Buffer.from(blob.buffer, blob.byteOffset, ENC_BYTES.length).equals(ENC_BYTES);
}

/**
 * What the repository holds for a stored value: secrets as `$ENC$` + the stored envelope
 * (already vault-encrypted base64), `$ZK$` values and everything else byte for byte.
 */
export function toGitBlob(key: string, stored: Uint8Array): Uint8Array {
  if (!isSecretKey(key) || isZkValue(stored)) return stored;
  return Buffer.concat([ENC_BYTES, stored]);
}

/** The stored envelope inside an `$ENC$` blob of a secret key, or undefined when the blob is not one. */
export function encEnvelope(key: string, blob: Uint8Array): Uint8Array | undefined {
  if (!isSecretKey(key) || !hasEncPrefix(blob)) return undefined;
  return blob.subarray(ENC_BYTES.length);
}

/**
 * The plaintext of a blob: `$ENC$` secrets opened with the vault, legacy plaintext and `$ZK$` as they are.
 * @throws SecretBlobError
 */
export async function revealGitBlob(key: string, blob: Uint8Array, vault: ValueVault | undefined): Promise<Uint8Array> {
  const envelope = encEnvelope(key, blob);
  if (!envelope) return blob;
  if (!vault) throw new SecretBlobError(`secret "${key}" is encrypted in git and no --secrets.key is set`);
  try {
    return await vault.open(envelope);
  } catch (error) {
    throw new SecretBlobError(`cannot decrypt secret "${key}" from git: wrong --secrets.key or damaged value`, { cause: error });
  }
}

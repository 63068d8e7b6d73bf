import { isSecretKey, isValidZkEnvelope, isZkValue, normalizeKey, type Format } from '@stash/client/core';
import type { ValueVault } from '../domain/ports.js';
import { parseCommitMessage } from './commit-format.js';
import { keyToPath, pathToKey } from './git-paths.js';
import type { GitRepo } from './git-repo.js';
import { encEnvelope, revealGitBlob } from './secret-blobs.js';

/** A revision that cannot be restored; nothing was changed. */
export class RestoreError extends Error {
  override readonly name = 'RestoreError';
}

/** One key as the database will store it (secrets sealed, `$ZK$` as is). */
export interface RestoredKey {
  key: string;
  value: Uint8Array;
  format: Format;
}

export interface ReadRevisionOptions {
  vault?: ValueVault | undefined;
  /** called as keys are validated (secrets cost one Argon2id each) */
  onProgress?: ((done: number, total: number) => void) | undefined;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });
const VALIDATE_CONCURRENCY = 2;

/**
 * Read and validate every key of a commit's tree without touching the work tree: keys must map
 * back to their file, values must be UTF-8, every `$ENC$` secret must decrypt with the vault, every
 * `$ZK$` secret must be a valid envelope. Any problem throws before the database is touched.
 * @throws RestoreError
 */
export async function readRevision(repo: GitRepo, commit: string, options: ReadRevisionOptions = {}): Promise<RestoredKey[]> {
  const { vault } = options;
  const files: { path: string; key: string; blob: string }[] = [];
  for (const file of await repo.listFiles(commit)) {
    const key = pathToKey(file.path);
    if (key === undefined) continue;
    if (normalizeKey(key) !== key || safePath(key) !== file.path) {
      throw new RestoreError(`file "${file.path}" does not map to a valid key`);
    }
    if (isSecretKey(key) && !vault) {
      throw new RestoreError(`repository holds secret key "${key}", --secrets.key is required to restore it`);
    }
    files.push({ ...file, key });
  }
  const formats = await latestFormats(repo, commit, new Set(files.map((f) => f.path)));
  const blobs = await repo.readObjects(files.map((f) => f.blob));
  const out: RestoredKey[] = [];
  let next = 0;
  let done = 0;
  let failed = false;
  // secrets cost one Argon2id (64 MiB) each: a couple at a time keeps big restores short
  const worker = async (): Promise<void> => {
    while (!failed && next < files.length) {
      const i = next++;
      const file = files[i];
      if (!file) return;
      try {
        out[i] = await checkFile(file, blobs[i], formats.get(file.path) ?? 'text', vault);
      } catch (error) {
        failed = true;
        throw error;
      }
      options.onProgress?.(++done, files.length);
    }
  };
  await Promise.all(Array.from({ length: Math.min(VALIDATE_CONCURRENCY, files.length) }, worker));
  return out;
}

async function checkFile(file: { path: string; key: string }, blob: Buffer | undefined, format: Format, vault: ValueVault | undefined): Promise<RestoredKey> {
  if (!blob) throw new RestoreError(`cannot read "${file.path}" from the repository`);
  try {
    utf8.decode(blob);
  } catch {
    throw new RestoreError(`file "${file.path}" is not valid UTF-8 text`);
  }
  return { key: file.key, value: await toStored(file.key, blob, vault), format };
}

function safePath(key: string): string | undefined {
  try {
    return keyToPath(key);
  } catch {
    return undefined;
  }
}

/** The value to store: `$ENC$` envelopes as they are once they open (same format as the vault stores), legacy plaintext sealed. */
async function toStored(key: string, blob: Buffer, vault: ValueVault | undefined): Promise<Uint8Array> {
  if (!isSecretKey(key) || !vault) return blob;
  if (isZkValue(blob)) {
    if (!isValidZkEnvelope(blob.toString('utf8'))) throw new RestoreError(`secret key "${key}" holds a malformed $ZK$ value`);
    return blob;
  }
  const envelope = encEnvelope(key, blob);
  try {
    await revealGitBlob(key, blob, vault);
  } catch (error) {
    throw new RestoreError(`${error instanceof Error ? error.message : String(error)}; nothing was restored`);
  }
  // commits made before secrets were encrypted in git hold plaintext: seal it now
  return envelope ? Uint8Array.from(envelope) : vault.seal(blob);
}

/** Format of each path from the newest commit (reachable from `commit`) that touched it. */
async function latestFormats(repo: GitRepo, commit: string, paths: Set<string>): Promise<Map<string, Format>> {
  const formats = new Map<string, Format>();
  for (const { message, paths: changed } of await repo.changedPaths(commit)) {
    for (const path of changed) {
      if (paths.has(path) && !formats.has(path)) formats.set(path, parseCommitMessage(message).format);
    }
    if (formats.size === paths.size) break;
  }
  return formats;
}

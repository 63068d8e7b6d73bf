import { isSecretKey, type HistoryEntryResponse } from '@stash/client/core';
import { ValidationError } from '../domain/errors.js';
import type { ValueVault } from '../domain/ports.js';
import type { HistoryProvider } from '../shared/ports.js';
import { commitTimestamp, parseCommitMessage } from './commit-format.js';
import { keyToPath, UnsafeKeyError } from './git-paths.js';
import type { GitRepo } from './git-repo.js';
import { revealGitBlob } from './secret-blobs.js';

/**
 * `GET /kv/history/{key}` from git, as the original answers it (compat 5.5): newest first,
 * 7-character hash, author name, operation and format from the message, value = base64 of the
 * file at that commit (`$ENC$` secrets decrypted), plus our `revision` where the message has one.
 */
export function createGitHistory(repo: GitRepo, vault: ValueVault | undefined): HistoryProvider {
  return async (key, limit) => {
    if (isSecretKey(key) && !vault) throw new ValidationError('secrets not configured');
    let path: string;
    try {
      path = keyToPath(key);
    } catch (error) {
      if (error instanceof UnsafeKeyError) return []; // never mirrored, so no history
      throw error;
    }
    const commits = await repo.log(path, limit);
    const blobs = await repo.readObjects(commits.map((c) => `${c.hash}:${path}`));
    const entries: HistoryEntryResponse[] = [];
    for (const [i, commit] of commits.entries()) {
      const parsed = parseCommitMessage(commit.message);
      const blob = blobs[i];
      const value = blob ? await revealGitBlob(key, blob, vault) : new Uint8Array();
      const entry: HistoryEntryResponse = {
        hash: commit.hash.slice(0, 7),
        timestamp: commitTimestamp(new Date(commit.authorTime * 1000)),
        author: commit.authorName,
        operation: parsed.operation,
        format: parsed.format,
        value: Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('base64'),
      };
      if (parsed.revision !== undefined) entry.revision = parsed.revision;
      entries.push(entry);
    }
    return entries;
  };
}

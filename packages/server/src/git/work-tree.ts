import type { Stats } from 'node:fs';
import { lstat, mkdir, rmdir, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { UnsafeKeyError } from './git-paths.js';

async function lstatOrUndefined(path: string): Promise<Stats | undefined> {
  try {
    return await lstat(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

/**
 * Write a key file into the work tree. Every parent must be a real directory (never a symlink a
 * pulled remote could have planted, never another key's file), so nothing lands outside the repo.
 * @throws UnsafeKeyError when the path collides with a file, directory or link
 */
export async function writeWorkFile(root: string, relPath: string, key: string, content: Uint8Array): Promise<void> {
  const parts = relPath.split('/');
  let dir = root;
  for (const part of parts.slice(0, -1)) {
    dir = join(dir, part);
    const st = await lstatOrUndefined(dir);
    if (!st) await mkdir(dir);
    else if (!st.isDirectory()) throw new UnsafeKeyError(key, `"${part}" is a file or link in the repository`);
  }
  const file = join(root, relPath);
  const st = await lstatOrUndefined(file);
  if (st && !st.isFile()) throw new UnsafeKeyError(key, `${relPath} is a directory or link in the repository`);
  await writeFile(file, content);
}

/**
 * Remove a key file and the directories it leaves empty; false when there was no such file.
 * @throws UnsafeKeyError when a parent is a link
 */
export async function removeWorkFile(root: string, relPath: string, key: string): Promise<boolean> {
  const parts = relPath.split('/');
  let dir = root;
  for (const part of parts.slice(0, -1)) {
    dir = join(dir, part);
    const st = await lstatOrUndefined(dir);
    if (!st) return false;
    if (!st.isDirectory()) throw new UnsafeKeyError(key, `"${part}" is a file or link in the repository`);
  }
  const file = join(root, relPath);
  const st = await lstatOrUndefined(file);
  if (!st?.isFile()) return false;
  await unlink(file);
  for (let depth = parts.length - 1; depth > 0; depth--) {
    try {
      await rmdir(join(root, ...parts.slice(0, depth)));
    } catch {
      break; // not empty: git keeps no empty directories, we only tidy up ours
    }
  }
  return true;
}

import type { Dirent } from 'node:fs';
import { readdir, readFile, stat } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { normalizeKey, type BatchItem } from '@stash/client';
import { ImportFileError, parseEnvText } from '../../shared/transfer-formats.js';

const strictUtf8 = new TextDecoder('utf-8', { fatal: true });
const VAL_SUFFIX = '.val';

/** `.env`, `.env.production`, `prod.env`: files read as KEY=VALUE lines. */
export function isEnvFileName(path: string): boolean {
  const name = basename(path);
  return name === '.env' || name.startsWith('.env.') || name.endsWith('.env');
}

/** Items of a `.env` file (see parseEnvText). @throws ImportFileError naming the file and line */
export async function readEnvFile(path: string): Promise<BatchItem[]> {
  return parseEnvText(decode(await readSource(path), path), path);
}

/**
 * Items of a directory of `*.val` files (a `.history` checkout, or any tree): key = path relative
 * to the directory without `.val`, value = the file's bytes, which must be UTF-8. `.git` is skipped.
 * @throws ImportFileError naming the file
 */
export async function readValDirectory(dir: string): Promise<BatchItem[]> {
  const items: BatchItem[] = [];
  const walk = async (rel: string): Promise<void> => {
    let entries: Dirent[];
    try {
      entries = await readdir(join(dir, rel), { withFileTypes: true });
    } catch (error) {
      throw new ImportFileError(`cannot read ${join(dir, rel)}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`);
    }
    for (const entry of entries) {
      const path = rel === '' ? entry.name : `${rel}/${entry.name}`;
      if (entry.isDirectory()) {
        if (entry.name !== '.git') await walk(path);
      } else if (entry.isFile() && entry.name.endsWith(VAL_SUFFIX) && entry.name !== VAL_SUFFIX) {
        const key = path.slice(0, -VAL_SUFFIX.length);
        if (normalizeKey(key) !== key) throw new ImportFileError(`${join(dir, path)}: "${key}" is not a valid key`);
        items.push({ key, value: decode(await readSource(join(dir, path)), join(dir, path)), format: 'text' });
      }
    }
  };
  await walk('');
  return items.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
}

/** Read a `.env` file or a `.val` directory when the path is one; undefined for anything else. */
export async function readPlainImport(path: string): Promise<BatchItem[] | undefined> {
  const info = await stat(path).catch(() => undefined);
  if (info?.isDirectory()) return readValDirectory(path);
  if (isEnvFileName(path)) return readEnvFile(path);
  return undefined;
}

async function readSource(path: string): Promise<Buffer> {
  try {
    return await readFile(path);
  } catch (error) {
    throw new ImportFileError(`cannot read ${path}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`);
  }
}

function decode(bytes: Buffer, path: string): string {
  try {
    return strictUtf8.decode(bytes);
  } catch {
    throw new ImportFileError(`${path}: not valid UTF-8 text`);
  }
}

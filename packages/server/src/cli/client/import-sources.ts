import type { Dirent } from 'node:fs';
import { readdir, readFile, stat } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { normalizeKey, type BatchItem } from '@stash/client';
import { ImportFileError } from './import-source.js';

const strictUtf8 = new TextDecoder('utf-8', { fatal: true });
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_.\-/]*$/;
const VAL_SUFFIX = '.val';

/** `.env`, `.env.production`, `prod.env`: files read as KEY=VALUE lines. */
export function isEnvFileName(path: string): boolean {
  const name = basename(path);
  return name === '.env' || name.startsWith('.env.') || name.endsWith('.env');
}

/**
 * Items of a `.env` file: `KEY=VALUE` lines, `export ` prefixes, `#` comments (whole-line, or after
 * whitespace in unquoted values), single quotes literal, double quotes with `\n \t \" \\` escapes;
 * quoted values may span lines. Keys are kept as written; duplicates are an error, not a silent override.
 * @throws ImportFileError naming the file and line
 */
export async function readEnvFile(path: string): Promise<BatchItem[]> {
  const text = decode(await readSource(path), path);
  const lines = text.replace(/\r\n?/g, '\n').split('\n');
  const items: BatchItem[] = [];
  const seen = new Map<string, number>();
  for (let i = 0; i < lines.length; i++) {
    const lineNo = i + 1;
    const line = (lines[i] ?? '').trim();
    if (line === '' || line.startsWith('#')) continue;
    const m = /^(?:export\s+)?([^=\s]+)\s*=\s*(.*)$/.exec(line);
    if (!m) throw new ImportFileError(`${path}:${lineNo}: expected KEY=VALUE`);
    const key = m[1] ?? '';
    if (!ENV_NAME.test(key)) throw new ImportFileError(`${path}:${lineNo}: invalid key "${key}"`);
    let rest = m[2] ?? '';
    const quote = rest[0];
    let value: string;
    if (quote === '"' || quote === "'") {
      // a quoted value runs to its closing quote, possibly on a later line
      let body = rest.slice(1);
      let end = closingQuote(body, quote);
      while (end < 0 && i + 1 < lines.length) {
        body += `\n${lines[++i] ?? ''}`;
        end = closingQuote(body, quote);
      }
      if (end < 0) throw new ImportFileError(`${path}:${lineNo}: unterminated ${quote} quote for "${key}"`);
      rest = body.slice(end + 1).trim();
      if (rest !== '' && !rest.startsWith('#')) throw new ImportFileError(`${path}:${lineNo}: unexpected text after the quoted value of "${key}"`);
      value = quote === '"' ? unescapeDouble(body.slice(0, end)) : body.slice(0, end);
    } else {
      value = rest.replace(/\s+#.*$/, '').trim();
    }
    const earlier = seen.get(key);
    if (earlier !== undefined) throw new ImportFileError(`${path}:${lineNo}: duplicate key "${key}" (first on line ${earlier})`);
    seen.set(key, lineNo);
    items.push({ key, value, format: 'text' });
  }
  return items;
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

function closingQuote(body: string, quote: string): number {
  for (let i = 0; i < body.length; i++) {
    if (quote === '"' && body[i] === '\\') i++;
    else if (body[i] === quote) return i;
  }
  return -1;
}

function unescapeDouble(body: string): string {
  const map: Record<string, string> = { n: '\n', t: '\t', r: '\r', '"': '"', '\\': '\\' };
  return body.replace(/\\(.)/g, (all, c: string) => map[c] ?? all);
}

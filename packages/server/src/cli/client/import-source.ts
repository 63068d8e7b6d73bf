import { readFile } from 'node:fs/promises';
import { isFormat, type BatchItem, type ExportItem, type Format } from '@stash/client';
import { readPlainImport } from './import-sources.js';

/** One item of an export file (and of `POST /kv/`): text values as is, other bytes as base64. */
export interface TransferItem {
  key: string;
  value: string;
  format: Format;
  encoding: 'text' | 'base64';
}

/** A file the import cannot use: exit 5 with a message naming the file and item. */
export class ImportFileError extends Error {
  override readonly name = 'ImportFileError';
}

const strictUtf8 = new TextDecoder('utf-8', { fatal: true });
const STD_BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** An exported key as a file item: UTF-8 text stays readable, anything else becomes base64. */
export function toTransferItem(item: ExportItem): TransferItem {
  try {
    return { key: item.key, value: strictUtf8.decode(item.value), format: item.format, encoding: 'text' };
  } catch {
    return { key: item.key, value: Buffer.from(item.value).toString('base64'), format: item.format, encoding: 'base64' };
  }
}

/**
 * Items of an export file (JSON array of {key, value, format?, encoding?}), validated so a bad
 * file is rejected before anything is sent.
 * @throws ImportFileError naming the file and the offending item
 */
export function parseTransferJson(text: string, source: string): BatchItem[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new ImportFileError(`${source}: not valid JSON (${error instanceof Error ? error.message : String(error)})`);
  }
  if (!Array.isArray(parsed)) throw new ImportFileError(`${source}: expected a JSON array of {key, value, format, encoding}`);
  const seen = new Set<string>();
  return parsed.map((raw: unknown, i) => {
    const where = `${source}: item ${i}`;
    if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new ImportFileError(`${where}: not an object`);
    const item = raw as Record<string, unknown>;
    const { key, value } = item;
    const format = item['format'] ?? 'text';
    const encoding = item['encoding'] ?? 'text';
    if (typeof key !== 'string' || key.trim() === '') throw new ImportFileError(`${where}: "key" must be a non-empty string`);
    if (seen.has(key)) throw new ImportFileError(`${where}: duplicate key "${key}"`);
    seen.add(key);
    if (typeof value !== 'string') throw new ImportFileError(`${where} ("${key}"): "value" must be a string`);
    if (!isFormat(format)) throw new ImportFileError(`${where} ("${key}"): unknown format ${JSON.stringify(format)}`);
    if (encoding === 'text') return { key, value, format };
    if (encoding !== 'base64') throw new ImportFileError(`${where} ("${key}"): "encoding" must be text or base64`);
    if (!STD_BASE64.test(value)) throw new ImportFileError(`${where} ("${key}"): value is not padded standard base64`);
    return { key, value: new Uint8Array(Buffer.from(value, 'base64')), format };
  });
}

/**
 * Read the items to import from a path. Only export files (JSON) are understood here; other
 * sources (.env files, directories of .val files) plug in by returning BatchItem[] the same way.
 */
export async function readImportItems(path: string): Promise<BatchItem[]> {
  const plain = await readPlainImport(path); // .env file or directory of .val files
  if (plain) return plain;
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new ImportFileError(`cannot read ${path}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`);
  }
  return parseTransferJson(text, path);
}

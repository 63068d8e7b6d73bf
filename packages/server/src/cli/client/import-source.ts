import { readFile } from 'node:fs/promises';
import type { BatchItem } from '@stash/client';
import { ImportFileError, parseTransferJson } from '../../shared/transfer-formats.js';
import { readPlainImport } from './import-sources.js';

export { ImportFileError, parseTransferJson, toTransferItem, type TransferItem } from '../../shared/transfer-formats.js';

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

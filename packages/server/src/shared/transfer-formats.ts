import { isFormat, type BatchItem, type ExportItem, type Format } from '@stash/client';

// The files keys move in and out as: export files (JSON) and `.env` files. The CLI reads them from
// disk, the web UI from an upload; both parse them here.

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
export function toTransferItem(item: Pick<ExportItem, 'key' | 'value' | 'format'>): TransferItem {
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

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_.\-/]*$/;

/**
 * Items of a `.env` file: `KEY=VALUE` lines, `export ` prefixes, `#` comments (whole-line, or after
 * whitespace in unquoted values), single quotes literal, double quotes with `\n \t \" \\` escapes;
 * quoted values may span lines. Keys are kept as written; duplicates are an error, not a silent override.
 * @throws ImportFileError naming the file and line
 */
export function parseEnvText(text: string, path: string): BatchItem[] {
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

const ENV_PLAIN = /^[A-Za-z0-9_./:@+,=-]*$/;

/**
 * A `.env` file of text values, read back by parseEnvText: plain values as they are, others in
 * double quotes with `\n \t \" \\` escapes. `name` gives each item its variable name.
 */
export function toEnvText(items: readonly { name: string; value: string }[]): string {
  const lines = items.map(({ name, value }) => {
    if (ENV_PLAIN.test(value)) return `${name}=${value}`;
    const escaped = value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n').replace(/\t/g, '\\t').replace(/\r/g, '\\r');
    return `${name}="${escaped}"`;
  });
  return lines.length === 0 ? '' : `${lines.join('\n')}\n`;
}

/** Whether a name can be a `.env` variable name as parseEnvText reads it. */
export function isEnvName(name: string): boolean {
  return ENV_NAME.test(name);
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

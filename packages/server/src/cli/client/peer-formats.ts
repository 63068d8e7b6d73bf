import type { BatchItem, Format } from '@stash/client';
import { ImportFileError } from '../../shared/transfer-formats.js';

// The files Consul, etcd and Vault write (`consul kv export`, `etcdctl get --prefix -w json`,
// `vault kv get -format=json`), read into batch items named relative to the import's --prefix,
// and the Consul and etcd files written back by `stash export --to`.

export const IMPORT_PEERS = ['consul', 'etcd', 'vault'] as const;
export type ImportPeer = (typeof IMPORT_PEERS)[number];
export const EXPORT_PEERS = ['consul', 'etcd'] as const;
export type ExportPeer = (typeof EXPORT_PEERS)[number];

/** A file read from a peer: the items, and what was dropped on the way (for the preview). */
export interface PeerFile {
  items: BatchItem[];
  notes: string[];
}

const strictUtf8 = new TextDecoder('utf-8', { fatal: true });
const STD_BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

function parseJson(text: string, source: string, expected: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new ImportFileError(`${source}: not valid JSON (${error instanceof Error ? error.message : String(error)}); expected ${expected}`);
  }
}

const count = (n: number, one: string, many: string): string => `${n} ${n === 1 ? one : many}`;
const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function base64Bytes(value: unknown, where: string, what: string): Uint8Array {
  if (typeof value !== 'string' || !STD_BASE64.test(value)) throw new ImportFileError(`${where}: "${what}" is not padded standard base64`);
  return new Uint8Array(Buffer.from(value, 'base64'));
}

/** UTF-8 text stays a string (sent as text); other bytes stay bytes (sent as base64). */
function textOrBytes(bytes: Uint8Array): string | Uint8Array {
  try {
    return strictUtf8.decode(bytes);
  } catch {
    return bytes;
  }
}

function addItem(items: BatchItem[], seen: Set<string>, key: string, value: string | Uint8Array, where: string, format: Format = 'text'): void {
  if (seen.has(key)) throw new ImportFileError(`${where}: duplicate key "${key}"`);
  seen.add(key);
  items.push({ key, value, format });
}

/**
 * `consul kv export` output: a JSON array of {key, flags, value: base64}. Folder entries (a key
 * ending in `/` with an empty value) are skipped; flags have no stash equivalent and are dropped.
 * @throws ImportFileError naming the file and the entry
 */
export function parseConsulExport(text: string, source: string): PeerFile {
  const parsed = parseJson(text, source, 'the output of `consul kv export`');
  if (!Array.isArray(parsed)) throw new ImportFileError(`${source}: expected a JSON array of {key, flags, value} (consul kv export)`);
  const items: BatchItem[] = [];
  const seen = new Set<string>();
  let folders = 0;
  let flagged = 0;
  parsed.forEach((raw: unknown, i) => {
    const where = `${source}: entry ${i}`;
    if (!isRecord(raw) || typeof raw['key'] !== 'string' || raw['key'] === '') throw new ImportFileError(`${where}: expected {key, flags, value}`);
    const key = raw['key'];
    const value = raw['value'] === null || raw['value'] === undefined ? new Uint8Array() : base64Bytes(raw['value'], `${where} ("${key}")`, 'value');
    if (key.endsWith('/') && value.length === 0) {
      folders++;
      return;
    }
    if (typeof raw['flags'] === 'number' && raw['flags'] !== 0) flagged++;
    addItem(items, seen, key, textOrBytes(value), where);
  });
  const notes: string[] = [];
  if (folders > 0) notes.push(`skipped ${count(folders, 'folder entry', 'folder entries')} (folders are implicit in stash)`);
  if (flagged > 0) notes.push(`dropped the consul flags of ${count(flagged, 'key', 'keys')} (stash keys have no flags)`);
  return { items, notes };
}

/**
 * `etcdctl get --prefix KEY -w json` output: {header, kvs: [{key, value (base64), create_revision,
 * mod_revision, version}], count}. A value protobuf left out (the empty value) is read as ''.
 * @throws ImportFileError naming the file and the entry
 */
export function parseEtcdJson(text: string, source: string): PeerFile {
  const parsed = parseJson(text, source, 'the output of `etcdctl get --prefix KEY -w json`');
  if (!isRecord(parsed) || (parsed['kvs'] !== undefined && !Array.isArray(parsed['kvs']))) {
    throw new ImportFileError(`${source}: expected {"header": ..., "kvs": [...]} (etcdctl get --prefix KEY -w json)`);
  }
  const kvs = (parsed['kvs'] ?? []) as unknown[];
  const items: BatchItem[] = [];
  const seen = new Set<string>();
  kvs.forEach((raw: unknown, i) => {
    const where = `${source}: kvs[${i}]`;
    if (!isRecord(raw)) throw new ImportFileError(`${where}: expected {key, value, ...}`);
    const keyBytes = base64Bytes(raw['key'], where, 'key');
    const key = textOrBytes(keyBytes);
    if (typeof key !== 'string' || key === '') throw new ImportFileError(`${where}: the key is not UTF-8 text`);
    const value = raw['value'] === undefined ? new Uint8Array() : base64Bytes(raw['value'], `${where} ("${key}")`, 'value');
    addItem(items, seen, key, textOrBytes(value), where);
  });
  const leases = kvs.filter((raw) => isRecord(raw) && raw['lease'] !== undefined && raw['lease'] !== 0 && raw['lease'] !== '0').length;
  return { items, notes: leases > 0 ? [`${count(leases, 'key has', 'keys have')} an etcd lease; stash keys do not expire`] : [] };
}

/**
 * `vault kv get -format=json` output: KV v2 is {data: {data: {field: value}, metadata}}, KV v1
 * {data: {field: value}}. Each field becomes one item named after the field; strings are kept
 * as they are, other JSON values are written as JSON (objects and arrays with format json).
 * @throws ImportFileError naming the file and the field
 */
export function parseVaultJson(text: string, source: string): PeerFile & { version: 1 | 2 } {
  const parsed = parseJson(text, source, 'the output of `vault kv get -format=json`');
  const outer = isRecord(parsed) ? parsed['data'] : undefined;
  if (!isRecord(outer)) throw new ImportFileError(`${source}: expected {"data": {...}} (vault kv get -format=json)`);
  const v2 = 'metadata' in outer && 'data' in outer && (outer['metadata'] === null || isRecord(outer['metadata']));
  const fields = v2 ? outer['data'] : outer;
  if (v2 && fields === null) throw new ImportFileError(`${source}: this version of the secret was deleted or destroyed (its data is null)`);
  if (!isRecord(fields)) throw new ImportFileError(`${source}: "data.data" must be an object of fields`);
  const items: BatchItem[] = [];
  const seen = new Set<string>();
  for (const [field, value] of Object.entries(fields)) {
    const where = `${source}: field "${field}"`;
    if (field.trim() === '') throw new ImportFileError(`${where}: empty field name`);
    if (typeof value === 'string') addItem(items, seen, field, value, where);
    else addItem(items, seen, field, JSON.stringify(value), where, isRecord(value) || Array.isArray(value) ? 'json' : 'text');
  }
  return { items, notes: [], version: v2 ? 2 : 1 };
}

/** One key to write to a peer's file: its name there, bytes and stash revision. */
export interface PeerExportItem {
  name: string;
  value: Uint8Array;
  revision: number;
}

const b64 = (bytes: Uint8Array | string): string => Buffer.from(bytes).toString('base64');

/** The file `consul kv import` reads: the same shape and tab indentation `consul kv export` writes. */
export function toConsulExport(items: readonly PeerExportItem[]): string {
  const entries = [...items]
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
    .map((item) => ({ key: item.name, flags: 0, value: b64(item.value) }));
  return `${JSON.stringify(entries, null, '\t')}\n`;
}

/**
 * `etcdctl get -w json` output for the keys. Stash does not track etcd's create_revision and
 * version: both are written from the key's current revision (and 1), mod_revision is exact.
 * Fields etcd would leave out (zero, empty) are left out too.
 */
export function toEtcdJson(items: readonly PeerExportItem[], revision: number): string {
  const kvs = [...items]
    .sort((a, b) => Buffer.compare(Buffer.from(a.name), Buffer.from(b.name)))
    .map((item) => ({
      key: b64(item.name),
      create_revision: item.revision,
      mod_revision: item.revision,
      version: 1,
      ...(item.value.length === 0 ? {} : { value: b64(item.value) }),
    }));
  return `${JSON.stringify({ header: { revision }, kvs, count: kvs.length }, null, 2)}\n`;
}

/** The reader for a peer's file. */
export function parsePeerFile(peer: ImportPeer, text: string, source: string): PeerFile {
  if (peer === 'consul') return parseConsulExport(text, source);
  if (peer === 'etcd') return parseEtcdJson(text, source);
  return parseVaultJson(text, source);
}

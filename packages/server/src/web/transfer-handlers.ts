import type { BatchItem } from '@stash/client';
import { normalizeKey } from '@stash/client/core';
import { NotFoundError } from '../domain/errors.js';
import { isValidKey, type BatchWrite, type KeyValue } from '../domain/kv-service.js';
import { plainError } from '../shared/replies.js';
import { ImportFileError, isEnvName, parseEnvText, parseTransferJson, toEnvText, toTransferItem } from '../shared/transfer-formats.js';
import { sendHtml } from './respond.js';
import { importForm, type ImportPreview, type ImportRow } from './templates/transfer.js';
import { answerWritten, field, sendWebError, type WebRequest } from './web-context.js';

/** The folder asked for, as a prefix ('' for everything). */
function folderOf(w: WebRequest): string {
  const raw = field(w, 'folder').replace(/^\/+/, '');
  return raw === '' || raw.endsWith('/') ? raw : `${raw}/`;
}

/**
 * `GET /web/export?format=json|env`: the keys the list shows (a folder with everything below
 * it, or a search), values read at one revision. JSON is the CLI's export file; `.env` names
 * each key by its path below the folder, and leaves out what a `.env` cannot hold.
 */
export async function exportKeys(w: WebRequest): Promise<void> {
  try {
    const format = field(w, 'format') === 'env' ? 'env' : 'json';
    const search = field(w, 'search').toLowerCase();
    const folder = search === '' ? folderOf(w) : '';
    const { revision, items } = await w.deps.service.exportValues(folder);
    const chosen = items.filter((k) => w.viewer.principal.canRead(k.key) && (search === '' || k.key.toLowerCase().includes(search)));
    const stem = (folder === '' ? 'stash' : `stash-${folder.slice(0, -1).replace(/[^A-Za-z0-9._-]+/g, '-')}`).slice(0, 80);
    w.reply
      .header('content-disposition', `attachment; filename="${stem}.${format === 'env' ? 'env' : 'json'}"`)
      .header('x-stash-revision', String(revision))
      .header('cache-control', 'no-store')
      .header('x-content-type-options', 'nosniff');
    if (format === 'json') {
      return void w.reply.header('content-type', 'application/json; charset=utf-8').send(`${JSON.stringify(chosen.map(toTransferItem), null, 2)}\n`);
    }
    const lines: { name: string; value: string }[] = [];
    const skipped: string[] = [];
    for (const item of chosen) {
      const t = toTransferItem(item);
      const name = item.key.slice(folder.length);
      if (t.encoding !== 'text' || !isEnvName(name)) skipped.push(item.key);
      else lines.push({ name, value: t.value });
    }
    const note = skipped.length === 0 ? '' : `# left out (binary, or not a variable name): ${skipped.join(', ')}\n`;
    void w.reply.header('content-type', 'text/plain; charset=utf-8').send(`${note}${toEnvText(lines)}`);
  } catch (error) {
    sendWebError(w, error);
  }
}

/** `GET /web/import`: the import dialog, into the folder shown. */
export async function importDialog(w: WebRequest): Promise<void> {
  if (!w.viewer.principal.canWriteSomewhere()) return plainError(w.reply, 403, 'access denied');
  await sendHtml(w.req, w.reply, 200, importForm({ base: w.deps.baseUrl, prefix: folderOf(w) }));
}

/** The uploaded file's items under the prefix; JSON when it looks like JSON or is named so. */
function parseUpload(w: WebRequest): { items: BatchItem[]; prefix: string; name: string; content: string } {
  const name = w.form.get('name') ?? '';
  const content = w.form.get('content') ?? '';
  const prefix = normalizeKey(w.form.get('prefix') ?? '');
  if (content.trim() === '') throw new ImportFileError('choose a file first (it must not be empty)');
  const json = name.toLowerCase().endsWith('.json') || /^\s*\[/.test(content);
  const items = json ? parseTransferJson(content, name || 'the file') : parseEnvText(content, name || 'the file');
  const base = prefix === '' ? '' : `${prefix}/`;
  const named = items.map((i) => ({ ...i, key: normalizeKey(`${base}${i.key}`) }));
  // the API's batch refuses these too; PostgreSQL cannot even look such a key up
  const bad = named.find((i) => !isValidKey(i.key));
  if (bad) throw new ImportFileError(`${name || 'the file'}: key ${JSON.stringify(bad.key)} is empty or holds a NUL character`);
  return { items: named, prefix: base, name, content };
}

const bytesOf = (value: string | Uint8Array): Uint8Array => (typeof value === 'string' ? Buffer.from(value, 'utf8') : value);

/** What writing each item would do, against the keys as they are now. */
async function plan(w: WebRequest, items: readonly BatchItem[]): Promise<{ preview: ImportPreview; writes: BatchWrite[] }> {
  const rows: ImportRow[] = [];
  const writes: BatchWrite[] = [];
  const counts = { create: 0, update: 0, unchanged: 0, forbidden: 0 };
  for (const item of items) {
    if (!('value' in item)) continue; // import files carry no deletes
    const value = bytesOf(item.value);
    const format = item.format ?? 'text';
    let change: ImportRow['change'];
    if (!w.viewer.principal.canWrite(item.key)) change = 'forbidden';
    else {
      const current: KeyValue | undefined = await w.deps.service.get(item.key).catch((error: unknown) => {
        if (error instanceof NotFoundError) return undefined;
        throw error;
      });
      if (!current) change = 'create';
      else change = current.format === format && Buffer.from(current.value).equals(Buffer.from(value)) ? 'unchanged' : 'update';
    }
    counts[change]++;
    rows.push({ key: item.key, format, change });
    if (change === 'create' || change === 'update') writes.push({ key: item.key, value, format });
  }
  return { preview: { rows, counts }, writes };
}

/** `POST /web/import/preview`: what would be created, updated or left alone; nothing is written. */
export async function previewImport(w: WebRequest): Promise<void> {
  const again = (status: number, model: Parameters<typeof importForm>[0]): Promise<void> => sendHtml(w.req, w.reply, status, importForm(model));
  const base = { base: w.deps.baseUrl, prefix: w.form.get('prefix') ?? '', name: w.form.get('name') ?? '', content: w.form.get('content') ?? '' };
  try {
    const upload = parseUpload(w);
    const { preview } = await plan(w, upload.items);
    await again(200, { ...base, preview });
  } catch (error) {
    if (error instanceof ImportFileError) return again(422, { ...base, problem: error.message });
    sendWebError(w, error);
  }
}

/** `POST /web/import/apply`: every create and update of the file in one batch (all or nothing). */
export async function applyImport(w: WebRequest): Promise<void> {
  try {
    const upload = parseUpload(w);
    const { preview, writes } = await plan(w, upload.items);
    if (preview.counts.forbidden > 0) return plainError(w.reply, 403, `you may not write ${preview.counts.forbidden} of these keys: nothing was imported`);
    if (writes.length > 0) await w.deps.service.batch(writes, w.viewer.principal.actor);
    w.deps.log.info(`web: imported ${writes.length} keys by ${w.viewer.name || 'anonymous'}`, w.req.id);
    const { create, update, unchanged } = preview.counts;
    await answerWritten(w, `Imported: ${create} created, ${update} updated, ${unchanged} left alone`);
  } catch (error) {
    if (error instanceof ImportFileError) return plainError(w.reply, 422, error.message);
    sendWebError(w, error);
  }
}

import type { Format } from '@stash/client/core';
import { html, type Html } from '../html.js';
import { modalHeader } from './modal.js';

/** The export links of the list: what is shown (a folder, a search, or everything) as JSON or .env. */
export function exportLinks(base: string, scope: { folder?: string | undefined; search?: string | undefined }, canImport: boolean): Html {
  const q = (format: string): string => {
    const params = new URLSearchParams({ format });
    if (scope.folder) params.set('folder', scope.folder);
    if (scope.search) params.set('search', scope.search);
    return params.toString();
  };
  const what = scope.search ? 'these keys' : scope.folder ? 'this folder' : 'all keys';
  return html`<div class="transfer"><span class="muted">Export ${what}:</span><a class="btn btn-small" href="${base}/web/export?${q('json')}" download>JSON</a><a class="btn btn-small" href="${base}/web/export?${q('env')}" download>.env</a>${canImport
    ? html`<button type="button" class="btn btn-small" hx-get="${base}/web/import?${new URLSearchParams({ folder: scope.folder ?? '' }).toString()}" hx-target="#modal-content">Import…</button>`
    : ''}</div>`;
}

export interface ImportFormModel {
  base: string;
  prefix: string;
  name?: string;
  content?: string;
  problem?: string | undefined;
  preview?: ImportPreview | undefined;
}

export interface ImportRow {
  key: string;
  format: Format;
  /** what applying does to it */
  change: 'create' | 'update' | 'unchanged' | 'forbidden';
}

export interface ImportPreview {
  rows: ImportRow[];
  counts: Record<ImportRow['change'], number>;
}

const LABELS: Record<ImportRow['change'], string> = { create: 'created', update: 'updated', unchanged: 'left alone', forbidden: 'not allowed' };
/** red only for what would fail; a key left alone is no problem */
const OP_CLASS: Record<ImportRow['change'], string> = { create: 'op-create', update: 'op-update', unchanged: 'op-same', forbidden: 'op-delete' };

function previewTable(p: ImportPreview): Html {
  const { counts } = p;
  return html`<div class="import-preview"><p class="alert alert-info" role="status">${counts.create} to create, ${counts.update} to update, ${counts.unchanged} left alone${counts.forbidden > 0 ? html`, <strong>${counts.forbidden} you may not write</strong>` : ''}.</p>
<div class="table-wrap diff-wrap"><table class="import-table"><thead><tr><th scope="col">Key</th><th scope="col" class="col-format">Format</th><th scope="col">Change</th></tr></thead><tbody>${p.rows.map(
    (r) => html`<tr class="import-${r.change}"><td class="mono import-key">${r.key}</td><td class="col-format">${r.format}</td><td><span class="op ${OP_CLASS[r.change]}">${LABELS[r.change]}</span></td></tr>`,
  )}</tbody></table></div></div>`;
}

/**
 * `GET /web/import`: a `.env` or JSON export file into a prefix. The page reads the chosen file
 * into the form (no multipart); Preview shows what applying would do, Apply writes it as one batch.
 */
export function importForm(m: ImportFormModel): Html {
  const p = m.preview;
  const changes = p ? p.counts.create + p.counts.update : 0;
  return html`<form class="import-form" hx-post="${m.base}/web/import/preview" hx-target="#modal-content" novalidate>
${modalHeader('Import keys')}
<div class="modal-body">
${m.problem ? html`<div class="alert alert-error" role="alert"><p class="alert-text"><strong>Error:</strong> ${m.problem}</p></div>` : ''}
<div class="field"><label for="import-file">File (.env or a JSON export)</label><input id="import-file" class="input" type="file" accept=".env,.json,application/json,text/plain" data-import-file><p class="hint" id="import-file-name">${m.name ? `Using ${m.name}; choose a file to replace it.` : 'Nothing is sent until you preview.'}</p></div>
<input type="hidden" name="name" id="import-name" value="${m.name ?? ''}">
<textarea name="content" id="import-content" hidden aria-hidden="true" tabindex="-1">${m.content ?? ''}</textarea>
<div class="field"><label for="import-prefix">Into prefix</label><input id="import-prefix" class="input mono" name="prefix" value="${m.prefix}" placeholder="app/ (empty: keys as written)" autocomplete="off" spellcheck="false"></div>
${p ? previewTable(p) : ''}
</div>
<div class="modal-footer"><span class="spacer"></span><button type="button" class="btn" data-close-modal>Cancel</button><button type="submit" class="btn${p ? '' : ' btn-primary'}">Preview</button>${p && changes > 0 && p.counts.forbidden === 0
    ? html`<button type="button" class="btn btn-primary" hx-post="${m.base}/web/import/apply" hx-target="#keys-table" hx-include="closest form, #search-input, #current-page, #current-folder">Apply ${changes} ${changes === 1 ? 'change' : 'changes'}</button>`
    : ''}</div>
</form>`;
}

import { html, type Html } from '../html.js';
import type { FolderPage, KeyListPage, KeyRow } from '../key-list.js';
import type { ViewMode } from '../preferences.js';
import { formatBadge, formatSize, keyBadges, keyPath, timeTag } from './display.js';
import { icon } from './icons.js';
import { exportLinks } from './transfer.js';

export interface KeysTableModel {
  base: string;
  list: KeyListPage;
  viewMode: ViewMode;
  search: string;
  /** the viewer may create keys somewhere */
  canCreate: boolean;
  /** folder browsing: the folder shown (its keys are `list`) */
  tree?: FolderPage | undefined;
}

/** A key that may wrap after each `/` where it wraps at all (phones: style.css); `<wbr>` adds no text. */
function breakableKey(key: string): Html {
  const parts = key.split('/');
  return html`${parts.map((part, i) => (i < parts.length - 1 ? html`${part}/<wbr>` : part))}`;
}

function keyButton(base: string, k: KeyRow): Html {
  return html`<button type="button" class="key-link" hx-get="${keyPath(base, 'view', k.key)}" title="View ${k.key}">${breakableKey(k.key)}</button>`;
}

/** Edit and Delete where the viewer may write; no Edit for zero-knowledge values (the server cannot open them). */
function actions(base: string, k: KeyRow): Html {
  if (!k.writable) return html`<span class="muted read-only">read-only</span>`;
  return html`${k.zkEncrypted
    ? ''
    : html`<button type="button" class="btn btn-small" hx-get="${keyPath(base, 'edit', k.key)}" aria-label="Edit ${k.key}">Edit</button>`}<button type="button" class="btn btn-small btn-danger-outline" hx-delete="${keyPath(base, '', k.key)}" hx-target="#keys-table" hx-include="#search-input, #current-page" hx-confirm="Delete key “${k.key}”? This cannot be undone." aria-label="Delete ${k.key}">Delete</button>`;
}

function tableView(base: string, rows: readonly KeyRow[]): Html {
  return html`<div class="table-wrap"><table class="keys">
<thead><tr><th scope="col">Key</th><th scope="col" class="col-size">Size</th><th scope="col" class="col-format">Format</th><th scope="col" class="col-updated">Updated</th><th scope="col" class="col-created">Created</th><th scope="col" class="col-actions">Action</th></tr></thead>
<tbody hx-target="#modal-content">${rows.map(
    (k) => html`
<tr class="${k.secret ? 'is-secret' : ''}${k.zkEncrypted ? ' is-zk' : ''}" data-key="${k.key}"><td class="col-key">${keyButton(base, k)}${keyBadges(k)}</td><td class="col-size">${formatSize(k.size)}</td><td class="col-format">${formatBadge(k.format)}</td><td class="col-updated">${timeTag(k.updatedAt)}</td><td class="col-created">${timeTag(k.createdAt)}</td><td class="col-actions"><div class="row-actions">${actions(base, k)}</div></td></tr>`,
  )}
</tbody></table></div>`;
}

function cardsView(base: string, rows: readonly KeyRow[]): Html {
  return html`<ul class="cards" hx-target="#modal-content">${rows.map(
    (k) => html`
<li class="card${k.secret ? ' is-secret' : ''}${k.zkEncrypted ? ' is-zk' : ''}" data-key="${k.key}"><div class="card-title">${keyButton(base, k)}${keyBadges(k)}</div>
<p class="card-meta"><span>${formatSize(k.size)}</span><span>${formatBadge(k.format)}</span><span>Updated ${timeTag(k.updatedAt)}</span></p>
<div class="row-actions">${actions(base, k)}</div></li>`,
  )}
</ul>`;
}

function pageQuery(page: number, search: string, folder?: string): string {
  const q = new URLSearchParams({ page: String(page) });
  if (search !== '') q.set('search', search);
  if (folder) q.set('folder', folder);
  return q.toString();
}

function pagination(base: string, list: KeyListPage, search: string, folder?: string): Html {
  if (list.pages <= 1) return html``;
  const link = (page: number, label: string, enabled: boolean): Html =>
    enabled
      ? html`<button type="button" class="btn btn-small" hx-get="${base}/web/keys?${pageQuery(page, search, folder)}" hx-target="#keys-table">${label}</button>`
      : html`<button type="button" class="btn btn-small" disabled>${label}</button>`;
  return html`<nav class="pagination" aria-label="Pages">${link(list.page - 1, 'Previous', list.page > 1)}<span class="page-info">Page ${list.page} of ${list.pages}</span>${link(list.page + 1, 'Next', list.page < list.pages)}</nav>`;
}

function emptyState(model: KeysTableModel): Html {
  if (model.search !== '') return html`<div class="empty"><p>No keys match “${model.search}”.</p></div>`;
  return html`<div class="empty">${icon('logo', 'empty-icon')}<p>No keys yet.</p>${model.canCreate
    ? html`<button type="button" class="btn btn-primary" hx-get="${model.base}/web/keys/new" hx-target="#modal-content">${icon('plus')}New Key</button>`
    : ''}</div>`;
}

function countLine(model: KeysTableModel): Html {
  const n = model.list.total;
  const keys = `${n} ${n === 1 ? 'key' : 'keys'}`;
  return model.search === '' ? html`${keys}` : html`${keys} matching “${model.search}”`;
}

const folderLink = (base: string, path: string, label: Html | string, extra = ''): Html =>
  html`<button type="button" class="folder-link${extra}" hx-get="${base}/web/keys?${new URLSearchParams({ folder: path }).toString()}" hx-target="#keys-table">${label}</button>`;

/** Breadcrumbs from the top to the folder shown, and its subfolders with their counts. */
function folderHead(base: string, tree: FolderPage): Html {
  const parts = tree.folder.split('/').slice(0, -1);
  const crumbs = parts.map((name, i) => {
    const path = `${parts.slice(0, i + 1).join('/')}/`;
    return i === parts.length - 1
      ? html`<li><span aria-current="page">${name === '' ? '(empty)' : name}</span></li>`
      : html`<li>${folderLink(base, path, name === '' ? '(empty)' : name)}</li>`;
  });
  const top = tree.folder === '' ? html`<li><span aria-current="page">All keys</span></li>` : html`<li>${folderLink(base, '', 'All keys')}</li>`;
  const folders = tree.folders.length === 0
    ? ''
    : html`<ul class="folders" aria-label="Folders">${tree.folders.map(
        (f) => html`<li>${folderLink(base, f.path, html`${icon('folder')}<span class="folder-name">${f.name === '' ? '(empty)' : f.name}/</span><span class="folder-count">${f.count} ${f.count === 1 ? 'key' : 'keys'}</span>`, ' folder-row')}</li>`,
      )}</ul>`;
  return html`<nav class="breadcrumbs" aria-label="Folder" data-folder="${tree.folder}"><ol>${top}${crumbs}</ol></nav>${folders}`;
}

/** The `#keys-table` region: count, table or cards, pages. The page embeds it; toggles and writes answer with it. */
export function keysTable(model: KeysTableModel): Html {
  const { base, list, tree } = model;
  if (tree) {
    const body = list.rows.length === 0 ? '' : model.viewMode === 'cards' ? cardsView(base, list.rows) : tableView(base, list.rows);
    const n = list.total;
    const count = `${tree.folders.length} ${tree.folders.length === 1 ? 'folder' : 'folders'}, ${n} ${n === 1 ? 'key' : 'keys'} here`;
    return html`<div class="list-head"><p class="key-count" id="key-count">${count}</p>${exportLinks(base, { folder: tree.folder }, model.canCreate)}</div>
${folderHead(base, tree)}
${tree.folders.length === 0 && n === 0 ? emptyState(model) : body}
${pagination(base, list, '', tree.folder)}
<input type="hidden" id="current-page" name="page" value="${list.page}"><input type="hidden" id="current-folder" name="folder" value="${tree.folder}">`;
  }
  const body =
    list.rows.length === 0 ? emptyState(model) : model.viewMode === 'cards' ? cardsView(base, list.rows) : tableView(base, list.rows);
  return html`<div class="list-head"><p class="key-count" id="key-count">${countLine(model)}</p>${list.total > 0 || model.canCreate ? exportLinks(base, { search: model.search }, model.canCreate) : ''}</div>
${body}
${pagination(base, list, model.search)}
<input type="hidden" id="current-page" name="page" value="${list.page}">`;
}

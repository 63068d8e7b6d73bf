import type { Format } from '@stash/client/core';
import { html, type Html } from '../html.js';
import { formatBadge, keyPath, timeTag } from './display.js';
import { icon } from './icons.js';
import type { ShownValue } from './key-view.js';
import { valueBlock } from './key-view.js';
import { modalHeader } from './modal.js';

export interface HistoryRow {
  revision: number;
  timestamp: Date;
  author: string;
  action: 'create' | 'update' | 'delete';
  format: Format;
}

export interface HistoryModel {
  base: string;
  key: string;
  entries: readonly HistoryRow[];
  /** the key's current revision (0 when deleted): that row needs no restore */
  current: number;
  canWrite: boolean;
}

const STATE = '#search-input, #current-page';

function restoreButton(base: string, key: string, revision: number): Html {
  return html`<button type="button" class="btn btn-small" hx-post="${keyPath(base, 'restore', key)}" hx-vals="${JSON.stringify({ rev: String(revision) })}" hx-target="#keys-table" hx-include="${STATE}" aria-label="Restore revision ${revision}">Restore</button>`;
}

/** `GET /web/keys/history/{key}`: every version from the change log, newest first, each viewable and restorable. */
export function historyView(m: HistoryModel): Html {
  const rows = m.entries.map(
    (e) => html`<tr${e.revision === m.current ? html` class="is-current"` : ''}><td class="mono">#${e.revision}</td><td class="col-when">${timeTag(e.timestamp)}</td><td class="col-author">${e.author}</td><td><span class="op op-${e.action}">${e.action}</span> ${e.action === 'delete' ? '' : formatBadge(e.format)}${e.revision === m.current ? html` <span class="badge">current</span>` : ''}</td><td class="col-actions"><div class="row-actions">${e.action === 'delete'
      ? ''
      : html`<button type="button" class="btn btn-small" hx-get="${keyPath(m.base, 'revision', m.key)}?rev=${e.revision}" hx-target="#modal-content" aria-label="View revision ${e.revision}">View</button>${m.canWrite && e.revision !== m.current ? restoreButton(m.base, m.key, e.revision) : ''}`}</div></td></tr>`,
  );
  const body =
    m.entries.length === 0
      ? html`<p class="empty">No history for this key.</p>`
      : html`<div class="table-wrap"><table class="history"><thead><tr><th scope="col">Revision</th><th scope="col" class="col-when">When</th><th scope="col" class="col-author">Author</th><th scope="col">Change</th><th scope="col" class="col-actions">Action</th></tr></thead><tbody>${rows}</tbody></table></div>`;
  return html`${modalHeader('History', html`<span class="mono subtitle">${m.key}</span>`)}
<div class="modal-body">${body}</div>
<div class="modal-footer">${m.current > 0 ? html`<button type="button" class="btn" hx-get="${keyPath(m.base, 'view', m.key)}" hx-target="#modal-content">Back</button>` : ''}<span class="spacer"></span><button type="button" class="btn" data-close-modal>Close</button></div>`;
}

export interface RevisionModel {
  base: string;
  key: string;
  revision: number;
  value: ShownValue;
  format: Format;
  /** when this version was written and by whom, if the change log still says */
  entry?: HistoryRow | undefined;
  current: number;
  canWrite: boolean;
}

/** `GET /web/keys/revision/{key}?rev=N`: the value as it was at revision N. */
export function revisionView(m: RevisionModel): Html {
  const meta = m.entry
    ? html`<dl class="meta-list"><div><dt>Written</dt><dd>${timeTag(m.entry.timestamp)}</dd></div><div><dt>Author</dt><dd>${m.entry.author}</dd></div><div><dt>Change</dt><dd>${m.entry.action}</dd></div></dl>`
    : '';
  return html`${modalHeader(`Revision #${m.revision}`, formatBadge(m.format))}
<div class="modal-body">
<div class="field"><span class="field-label" id="key-label">Key</span><div class="value-box key-box" aria-labelledby="key-label">${m.key}</div></div>
<div class="field"><span class="field-label" id="value-label">Value</span>${valueBlock(m.value, m.format)}</div>
${meta}
</div>
<div class="modal-footer"><button type="button" class="btn" hx-get="${keyPath(m.base, 'history', m.key)}" hx-target="#modal-content">${icon('history')}Back to history</button><span class="spacer"></span><button type="button" class="btn" data-close-modal>Close</button>${m.canWrite && m.revision !== m.current ? html`<button type="button" class="btn btn-primary" hx-post="${keyPath(m.base, 'restore', m.key)}" hx-vals="${JSON.stringify({ rev: String(m.revision) })}" hx-target="#keys-table" hx-include="${STATE}">Restore this version</button>` : ''}</div>`;
}

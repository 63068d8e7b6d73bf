import type { Format } from '@stash/client/core';
import { html, type Html } from '../html.js';
import { formatBadge, keyPath, narrowOnly, timeTag } from './display.js';
import { icon } from './icons.js';
import type { ShownValue } from './key-view.js';
import { valueBlock } from './key-view.js';
import { lineDiff } from './diff.js';
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

/** Restore as a write conditional on the revision the view showed as current. */
function restoreVals(revision: number, current: number): string {
  return JSON.stringify({ rev: String(revision), if_revision: String(current) });
}

function restoreButton(base: string, key: string, revision: number, current: number): Html {
  return html`<button type="button" class="btn btn-small" hx-post="${keyPath(base, 'restore', key)}" hx-vals="${restoreVals(revision, current)}" hx-target="#keys-table" hx-include="${STATE}" aria-label="Restore revision ${revision}">Restore</button>`;
}

function diffButton(base: string, key: string, from: number, to: number, label: string): Html {
  return html`<button type="button" class="btn btn-small" hx-get="${keyPath(base, 'diff', key)}?from=${from}&amp;to=${to}" hx-target="#modal-content" aria-label="${label}">Diff</button>`;
}

/** `GET /web/keys/history/{key}`: every version from the change log, newest first, each viewable and restorable. */
export function historyView(m: HistoryModel): Html {
  const written = m.entries.filter((e) => e.action !== 'delete');
  const pick = (e: HistoryRow, side: 'from' | 'to', checked: boolean): Html =>
    e.action === 'delete'
      ? html``
      : html`<input type="radio" name="${side}" value="${e.revision}" aria-label="Compare ${side} revision ${e.revision}"${checked ? ' checked' : ''}>`;
  const rows = m.entries.map(
    (e, i) => html`<tr${e.revision === m.current ? html` class="is-current"` : ''}><td class="col-pick">${pick(e, 'from', e === written[1])}${pick(e, 'to', e === written[0])}</td><td class="mono">#${e.revision}${narrowOnly(timeTag(e.timestamp), 'rev-when')}</td><td class="col-when">${timeTag(e.timestamp)}</td><td class="col-author">${e.author}</td><td class="col-change"><span class="op op-${e.action}">${e.action}</span> ${e.action === 'delete' ? '' : formatBadge(e.format)}${e.revision === m.current ? html` <span class="badge">current</span>` : ''}</td><td class="col-actions"><div class="row-actions">${e.action === 'delete'
      ? ''
      : html`<button type="button" class="btn btn-small" hx-get="${keyPath(m.base, 'revision', m.key)}?rev=${e.revision}" hx-target="#modal-content" aria-label="View revision ${e.revision}">View</button>${previousWrite(m.entries, i) === undefined ? '' : diffButton(m.base, m.key, previousWrite(m.entries, i) as number, e.revision, `Diff revision ${e.revision} against the one before`)}${m.canWrite && e.revision !== m.current ? restoreButton(m.base, m.key, e.revision, m.current) : ''}`}</div></td></tr>`,
  );
  const body =
    m.entries.length === 0
      ? html`<p class="empty">No history for this key.</p>`
      : html`<form class="history-compare" hx-get="${keyPath(m.base, 'diff', m.key)}" hx-target="#modal-content"><div class="table-wrap"><table class="history"><thead><tr><th scope="col" class="col-pick"><span class="visually-hidden">Compare</span></th><th scope="col">Revision</th><th scope="col" class="col-when">When</th><th scope="col" class="col-author">Author</th><th scope="col">Change</th><th scope="col" class="col-actions">Action</th></tr></thead><tbody>${rows}</tbody></table></div>${written.length > 1 ? html`<p class="compare-line"><span class="hint">Pick two versions with the circles (from, to):</span><button type="submit" class="btn btn-small">Compare selected</button></p>` : ''}</form>`;
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
<div class="modal-footer"><button type="button" class="btn" hx-get="${keyPath(m.base, 'history', m.key)}" hx-target="#modal-content">${icon('history')}Back to history</button><span class="spacer"></span><button type="button" class="btn" data-close-modal>Close</button>${m.canWrite && m.revision !== m.current ? html`<button type="button" class="btn btn-primary" hx-post="${keyPath(m.base, 'restore', m.key)}" hx-vals="${restoreVals(m.revision, m.current)}" hx-target="#keys-table" hx-include="${STATE}">Restore this version</button>` : ''}</div>`;
}

/** The revision of the write before entry `i` (entries are newest first), skipping deletes. */
function previousWrite(entries: readonly HistoryRow[], i: number): number | undefined {
  for (let j = i + 1; j < entries.length; j++) if ((entries[j] as HistoryRow).action !== 'delete') return (entries[j] as HistoryRow).revision;
  return undefined;
}

export interface DiffModel {
  base: string;
  key: string;
  from: { revision: number; value: ShownValue };
  to: { revision: number; value: ShownValue };
}

/** `GET /web/keys/diff/{key}?from=A&to=B` */
export function diffView(m: DiffModel): Html {
  const body =
    m.from.value.binary || m.to.value.binary
      ? html`<p class="hint">One of these versions is binary: compare them as base64 in their revision views.</p>`
      : lineDiff(m.from.value.text, m.to.value.text, { old: `revision ${m.from.revision}`, new: `revision ${m.to.revision}` });
  return html`${modalHeader(`Changes #${m.from.revision} → #${m.to.revision}`, html`<span class="mono subtitle">${m.key}</span>`)}
<div class="modal-body">${body}</div>
<div class="modal-footer"><button type="button" class="btn" hx-get="${keyPath(m.base, 'history', m.key)}" hx-target="#modal-content">${icon('history')}Back to history</button><span class="spacer"></span><button type="button" class="btn" data-close-modal>Close</button></div>`;
}

import { FORMATS, type Format } from '@stash/client/core';
import { html, type Html } from '../html.js';
import { keyPath } from './display.js';
import type { ShownValue } from './key-view.js';
import { modalHeader } from './modal.js';

export interface FormProblem {
  message: string;
  /** a format check failed: the user may save anyway */
  canForce: boolean;
}

/** The key changed (or went away) after the form was opened. */
export interface FormConflict {
  /** undefined when the key was deleted meanwhile */
  server?: { value: ShownValue; format: Format; revision: number; actor: string };
  /** their value against the form's, line by line */
  diff?: Html;
  /** found before saving (the page saw the change arrive), not by a failed save */
  early?: boolean;
}

export interface KeyFormModel {
  base: string;
  mode: 'new' | 'edit';
  key: string;
  /** as shown: base64 when binary */
  value: string;
  format: Format;
  binary: boolean;
  /** what the form was opened on (edit): the original's `updated_at` (Unix ns) and our revision */
  updatedAtNs?: string | undefined;
  revision?: number | undefined;
  problem?: FormProblem | undefined;
  conflict?: FormConflict | undefined;
  /** a note over the form (after a merge: how many conflicts are marked) */
  notice?: string | undefined;
  /** a zero-knowledge value: the page puts the plaintext in and encrypts it before sending */
  zk?: boolean | undefined;
}

const STATE = '#search-input, #current-page';

function rowsFor(text: string): number {
  let lines = 1;
  for (let i = 0; i < text.length && lines < 20; i++) if (text.charCodeAt(i) === 10) lines++;
  return Math.min(Math.max(lines + 1, 6), 20);
}

function submitAttrs(m: KeyFormModel): Html {
  return m.mode === 'new' ? html`hx-post="${m.base}/web/keys"` : html`hx-put="${keyPath(m.base, '', m.key)}"`;
}

function problemPanel(m: KeyFormModel): Html {
  const p = m.problem;
  if (!p) return html``;
  return html`<div class="alert alert-error" role="alert"><p class="alert-text"><strong>Error:</strong> ${p.message}</p>${p.canForce
    ? html`<div class="alert-actions"><button type="button" class="btn btn-warning" ${submitAttrs(m)} hx-include="closest form, ${STATE}" hx-vals="${JSON.stringify({ force: 'true' })}">Submit Anyway</button></div>`
    : ''}</div>`;
}

function conflictPanel(m: KeyFormModel): Html {
  const c = m.conflict;
  if (!c) return html``;
  const server = c.server;
  const who = server && server.actor !== '' ? html` (by ${server.actor}, revision ${server.revision})` : server ? html` (revision ${server.revision})` : '';
  const what = server
    ? html`This key was modified by another user while you were editing${who}.`
    : html`This key was deleted by another user while you were editing.`;
  const overwrite = { force_overwrite: 'true', server_revision: String(server?.revision ?? 0) };
  const include = `closest form, ${STATE}`;
  return html`<div class="alert alert-warning" role="alert"><p class="alert-text"><strong>Conflict detected:</strong> ${what}${c.early ? ' Nothing was saved yet.' : ''}</p>${c.diff ?? ''}${server
    ? html`<details class="server-value"><summary>Show current server value</summary><pre class="value-box code">${server.value.text}</pre><p class="hint">Format: ${server.format}, revision ${server.revision}</p></details>`
    : ''}<div class="alert-actions"><button type="button" class="btn" hx-get="${keyPath(m.base, 'edit', m.key)}" hx-target="#modal-content">Reload (take theirs)</button>${server
    ? m.zk ? '' : html`<button type="button" class="btn" hx-post="${keyPath(m.base, 'merge', m.key)}" hx-target="#modal-content" hx-include="${include}" hx-vals="${JSON.stringify({ server_revision: String(server.revision) })}">Edit merged</button>`
    : ''}<button type="button" class="btn btn-danger" ${submitAttrs(m)} hx-include="${include}" hx-vals="${JSON.stringify(overwrite)}">Overwrite (keep mine)</button></div></div>`;
}

/** The plaintext field of a zero-knowledge edit has no name: only the envelope the page makes is sent. */
function zkValueField(m: KeyFormModel): Html {
  return html`<div class="field"><label for="value-input">Value</label><p class="hint zk-edit-note">Decrypted in this page; saving encrypts it here with your passphrase, the server only receives the encrypted value.</p><textarea id="value-input" class="input mono" rows="${rowsFor(m.value)}" spellcheck="false" data-zk-plain data-autofocus></textarea><input type="hidden" name="value" value=""><input type="hidden" name="zk" value="1"></div>`;
}

/** New and edit forms (`GET /web/keys/new`, `/web/keys/edit/{key}`), re-rendered with a problem or a conflict. */
export function keyForm(m: KeyFormModel): Html {
  const title = m.mode === 'new' ? 'New Key' : 'Edit Key';
  const formatPicker = html`<span class="format-picker"><label for="format-select">Format</label><select name="format" id="format-select">${FORMATS.map(
    (f) => html`<option value="${f}"${f === m.format ? ' selected' : ''}>${f.toUpperCase()}</option>`,
  )}</select></span>`;
  // an edit saves only over the revision it was opened on (If-Match); the page's stream watches it
  const live =
    m.mode === 'edit' && m.revision !== undefined
      ? html` data-live-edit="${m.key}" data-revision="${m.revision}"${m.zk ? html` data-zk-edit="${m.key}"` : ''} hx-headers="${JSON.stringify({ 'If-Match': `"${m.revision}"` })}"`
      : html``;
  return html`<form class="key-form" ${submitAttrs(m)} hx-target="#keys-table" hx-include="${STATE}"${live} novalidate>
${modalHeader(title, formatPicker)}
<div class="modal-body">
${m.notice ? html`<p class="alert alert-info" role="status">${m.notice}</p>` : ''}${problemPanel(m)}${conflictPanel(m)}
<div class="field"><label for="key-input">Key</label><input id="key-input" class="input mono" name="key" value="${m.key}" required autocomplete="off" spellcheck="false"${m.mode === 'edit' ? ' readonly' : ' data-autofocus'} placeholder="app/config"></div>
${m.zk ? zkValueField(m) : html`<div class="field"><label for="value-input">Value</label>${m.binary && m.mode === 'edit' ? html`<p class="hint" id="binary-hint">Binary value: edit it as base64.</p>` : ''}<textarea id="value-input" class="input mono" name="value" rows="${rowsFor(m.value)}" spellcheck="false"${m.mode === 'edit' ? ' data-autofocus' : ''}${m.binary && m.mode === 'edit' ? ' aria-describedby="binary-hint"' : ''}>${m.value}</textarea></div>`}
${m.mode === 'new'
    ? html`<label class="checkbox"><input type="checkbox" name="is_binary" value="true"${m.binary ? ' checked' : ''}> Value is base64 (binary)</label>`
    : m.binary
      ? html`<input type="hidden" name="is_binary" value="true">`
      : ''}
${m.updatedAtNs === undefined ? '' : html`<input type="hidden" name="updated_at" value="${m.updatedAtNs}">`}
${m.revision === undefined ? '' : html`<input type="hidden" name="revision" value="${m.revision}">`}
</div>
<div class="modal-footer"><span class="spacer"></span><button type="button" class="btn" data-close-modal>Cancel</button><button type="submit" class="btn btn-primary">Save</button></div>
</form>`;
}

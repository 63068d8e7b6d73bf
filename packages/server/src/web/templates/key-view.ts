import { isZkValue, type Format } from '@stash/client/core';
import { html, type Html } from '../html.js';
import { highlight, isHighlighted } from '../highlight.js';
import { formatBadge, formatSize, keyBadges, keyPath, timeTag } from './display.js';
import { icon } from './icons.js';
import { modalHeader } from './modal.js';

/** A value as the UI shows it: text, or base64 when the bytes are not UTF-8. */
export interface ShownValue {
  text: string;
  binary: boolean;
}

export interface KeyViewModel {
  base: string;
  key: string;
  value: ShownValue;
  format: Format;
  secret: boolean;
  zkEncrypted: boolean;
  size: number;
  revision: number;
  createdAt: Date;
  updatedAt: Date;
  canWrite: boolean;
  /** the stored `$ZK$` text, for the page to open with a passphrase */
  zkValue?: string | undefined;
  /** link to this key's audit entries (audit on, and the viewer may see it) */
  auditLink?: boolean | undefined;
}

/** The value block: highlighted per format, base64 for binary, a note when too big to colour. */
export function valueBlock(value: ShownValue, format: Format, id?: string): Html {
  const note = value.binary
    ? html`<p class="hint">Binary value, shown as base64.</p>`
    : !isHighlighted(value.text, format) && format !== 'text' && value.text.length > 0
      ? html`<p class="hint">Large value: shown without highlighting.</p>`
      : '';
  const code = value.binary ? html`${value.text}` : highlight(value.text, format);
  // base64 and ciphertext are one long line: wrap them
  const wrapped = value.binary || isZkValue(value.text);
  return html`${note}<pre class="value-box code${wrapped ? ' is-wrapped' : ''}"${id ? html` id="${id}"` : ''} tabindex="0" aria-labelledby="value-label"><code class="language-${format}">${code}</code></pre>`;
}

/** Open a zero-knowledge value here: the passphrase field has no name, so no request carries it. */
function zkBox(m: KeyViewModel): Html {
  return html`<div class="zk-box" data-zk-box data-zk-key="${m.key}" data-zk-value="${m.zkValue}" data-revision="${m.revision}">
<div class="zk-locked" data-zk-locked><p class="hint">${icon('shield')} Encrypted by a client before it was sent: the server cannot read it.</p>
<label for="zk-passphrase">Passphrase</label><div class="zk-row"><input id="zk-passphrase" class="input" type="password" autocomplete="off" spellcheck="false" data-zk-passphrase aria-describedby="zk-help"><button type="button" class="btn btn-primary" data-zk-open>Open</button></div>
<p id="zk-help" class="hint">Decrypted in this page: the passphrase and the value never leave your browser.</p><p class="zk-error" role="alert"></p></div>
<div class="zk-unlocked" data-zk-unlocked hidden><span class="field-label">Decrypted value</span><div class="zk-result"></div><div class="zk-actions"><button type="button" class="btn" data-copy=".zk-plain" aria-label="Copy decrypted value">Copy</button>${m.canWrite
    ? html`<button type="button" class="btn" hx-get="${keyPath(m.base, 'edit', m.key)}?zk=1" hx-target="#modal-content">Edit decrypted value</button>`
    : ''}<button type="button" class="btn" data-zk-forget>Forget passphrase</button></div></div>
</div>`;
}

/** `GET /web/keys/view/{key}`: the value with its metadata; Edit only where writable and not zero-knowledge. */
export function keyView(m: KeyViewModel): Html {
  const badges = html`${formatBadge(m.format)}${keyBadges(m, true)}`;
  return html`<div hidden data-live-view="${m.key}" data-revision="${m.revision}"></div>${modalHeader('View Key', badges)}
<div class="modal-body">
<div class="field"><div class="field-head"><span class="field-label" id="key-label">Key</span><button type="button" class="btn btn-small" data-copy="#view-key" aria-label="Copy key">Copy</button></div><div class="value-box key-box" id="view-key" aria-labelledby="key-label">${m.key}</div></div>
<div class="field"><div class="field-head"><span class="field-label" id="value-label">Value</span><button type="button" class="btn btn-small" data-copy="#view-value" aria-label="Copy value">Copy</button></div>${valueBlock(m.value, m.format, 'view-value')}</div>
${m.zkValue === undefined ? '' : zkBox(m)}
<dl class="meta-list"><div><dt>Size</dt><dd>${formatSize(m.size)}</dd></div><div><dt>Revision</dt><dd>${m.revision}</dd></div><div><dt>Updated</dt><dd>${timeTag(m.updatedAt)}</dd></div><div><dt>Created</dt><dd>${timeTag(m.createdAt)}</dd></div></dl>
</div>
<div class="modal-footer">
<button type="button" class="btn" hx-get="${keyPath(m.base, 'history', m.key)}" hx-target="#modal-content">${icon('history')}History</button>${m.auditLink ? html`<a class="btn" href="${m.base}/audit?${new URLSearchParams({ key: m.key }).toString()}">Audit log</a>` : ''}
<span class="spacer"></span>
<button type="button" class="btn" data-close-modal>Close</button>
${m.canWrite && !m.zkEncrypted ? html`<button type="button" class="btn btn-primary" hx-get="${keyPath(m.base, 'edit', m.key)}" hx-target="#modal-content">Edit</button>` : ''}
</div>`;
}

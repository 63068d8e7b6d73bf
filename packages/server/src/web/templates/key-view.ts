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
}

/** The value block: highlighted per format, base64 for binary, a note when too big to colour. */
export function valueBlock(value: ShownValue, format: Format): Html {
  const note = value.binary
    ? html`<p class="hint">Binary value, shown as base64.</p>`
    : !isHighlighted(value.text, format) && format !== 'text' && value.text.length > 0
      ? html`<p class="hint">Large value: shown without highlighting.</p>`
      : '';
  const code = value.binary ? html`${value.text}` : highlight(value.text, format);
  // base64 and ciphertext are one long line: wrap them
  const wrapped = value.binary || isZkValue(value.text);
  return html`${note}<pre class="value-box code${wrapped ? ' is-wrapped' : ''}" tabindex="0" aria-labelledby="value-label"><code class="language-${format}">${code}</code></pre>`;
}

/** `GET /web/keys/view/{key}`: the value with its metadata; Edit only where writable and not zero-knowledge. */
export function keyView(m: KeyViewModel): Html {
  const badges = html`${formatBadge(m.format)}${keyBadges(m, true)}`;
  return html`${modalHeader('View Key', badges)}
<div class="modal-body">
<div class="field"><span class="field-label" id="key-label">Key</span><div class="value-box key-box" aria-labelledby="key-label">${m.key}</div></div>
<div class="field"><span class="field-label" id="value-label">Value</span>${valueBlock(m.value, m.format)}</div>
${m.zkEncrypted ? html`<p class="hint">${icon('shield')} Encrypted by a client before it was sent: the server cannot read it. Open it with a client that holds the passphrase.</p>` : ''}
<dl class="meta-list"><div><dt>Size</dt><dd>${formatSize(m.size)}</dd></div><div><dt>Revision</dt><dd>${m.revision}</dd></div><div><dt>Updated</dt><dd>${timeTag(m.updatedAt)}</dd></div><div><dt>Created</dt><dd>${timeTag(m.createdAt)}</dd></div></dl>
</div>
<div class="modal-footer">
<button type="button" class="btn" hx-get="${keyPath(m.base, 'history', m.key)}" hx-target="#modal-content">${icon('history')}History</button>
<span class="spacer"></span>
<button type="button" class="btn" data-close-modal>Close</button>
${m.canWrite && !m.zkEncrypted ? html`<button type="button" class="btn btn-primary" hx-get="${keyPath(m.base, 'edit', m.key)}" hx-target="#modal-content">Edit</button>` : ''}
</div>`;
}

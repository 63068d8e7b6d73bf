import { html, type Child, type Html } from '../html.js';
import { icon } from './icons.js';

/** The header every modal partial starts with: its title (the dialog's label) and a close button. */
export function modalHeader(title: string, extra: Child = ''): Html {
  return html`<div class="modal-header"><h2 id="modal-title">${title}</h2><div class="modal-header-extra">${extra}</div><button type="button" class="btn btn-icon" data-close-modal aria-label="Close">${icon('close')}</button></div>`;
}

// Copy buttons, and the import dialog's file: read here into the form, so the upload is a plain
// form post (no multipart) and nothing leaves before Preview.
import { showToast } from './page.js';

async function copyText(text: string): Promise<void> {
  if (navigator.clipboard && window.isSecureContext) return navigator.clipboard.writeText(text);
  // plain http on another host: the clipboard API is not there; a selected field still copies
  const area = document.createElement('textarea');
  area.value = text;
  area.setAttribute('readonly', '');
  area.className = 'visually-hidden';
  document.body.append(area);
  area.select();
  const ok = document.execCommand('copy');
  area.remove();
  if (!ok) throw new Error('the browser refused');
}

document.addEventListener('click', (event) => {
  const button = (event.target as Element | null)?.closest<HTMLElement>('[data-copy]');
  if (!button) return;
  const source = document.querySelector(button.dataset['copy'] ?? '');
  const text = source?.textContent ?? '';
  copyText(text).then(
    () => showToast(button.getAttribute('aria-label')?.replace(/^Copy/, 'Copied') ?? 'Copied'),
    (e: unknown) => showToast(`Could not copy: ${(e as Error).message}`, 'error'),
  );
});

document.addEventListener('change', (event) => {
  const input = event.target as HTMLInputElement | null;
  if (!input?.matches('input[data-import-file]')) return;
  const file = input.files?.[0];
  const form = input.closest('form');
  if (!file || !form) return;
  void file.text().then((text) => {
    (form.querySelector('#import-content') as HTMLTextAreaElement).value = text;
    (form.querySelector('#import-name') as HTMLInputElement).value = file.name;
    const note = form.querySelector('#import-file-name');
    if (note) note.textContent = `Read: ${file.name} (${text.length} characters). Preview shows what it would change.`;
  });
});

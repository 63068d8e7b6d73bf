// Keyboard: `/` focuses the search, `n` opens a new key, Ctrl/Cmd+S saves the open form (Esc
// closes a modal natively). Single-letter keys act only outside text fields.

function typing(target: EventTarget | null): boolean {
  const el = target as HTMLElement | null;
  return !!el && (el.isContentEditable || ['INPUT', 'TEXTAREA', 'SELECT'].includes(el.tagName));
}

document.addEventListener('keydown', (event) => {
  const modal = document.getElementById('modal') as HTMLDialogElement | null;
  if ((event.ctrlKey || event.metaKey) && event.key.toLowerCase() === 's') {
    const form = modal?.open ? modal.querySelector<HTMLFormElement>('form.key-form') : null;
    if (!form) return;
    event.preventDefault(); // the browser's "save page" would be useless here
    form.requestSubmit();
    return;
  }
  if (event.ctrlKey || event.metaKey || event.altKey || typing(event.target) || modal?.open) return;
  if (event.key === '/') {
    const search = document.getElementById('search-input') as HTMLInputElement | null;
    if (!search) return;
    event.preventDefault();
    search.focus();
    search.select();
  } else if (event.key === 'n') {
    const create = document.getElementById('new-key');
    if (!create) return;
    event.preventDefault();
    create.click();
  }
});

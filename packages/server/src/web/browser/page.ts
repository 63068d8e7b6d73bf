// The page's dialogs, toasts and error messages: what htmx attributes do not express.

/** What htmx's request events carry that this page reads (beforeSend has all but the swap fields). */
export interface HtmxResponseDetail {
  xhr: XMLHttpRequest;
  target: Element;
  shouldSwap: boolean;
  isError: boolean;
  requestConfig?: { verb?: string; headers?: Record<string, string> };
}

/** Marks a live refresh (live.ts): it keeps the focus where the user is, and one of the modal never opens it. */
export const LIVE_REFRESH_HEADER = 'X-Stash-Live-Refresh';
export const isLiveRefresh = (detail: HtmxResponseDetail): boolean => detail.requestConfig?.headers?.[LIVE_REFRESH_HEADER] !== undefined;

interface HtmxConfirmDetail {
  question?: string | null;
  issueRequest(skipConfirmation: boolean): void;
}

const modal = document.getElementById('modal') as HTMLDialogElement | null;
const modalContent = document.getElementById('modal-content');
const confirmDialog = document.getElementById('confirm') as HTMLDialogElement | null;
const confirmText = document.getElementById('confirm-text');
const toast = document.getElementById('toast');
let opener: Element | null = null;
let toastTimer: ReturnType<typeof setTimeout> | undefined;

export function showToast(message: string, kind: 'info' | 'error' = 'info'): void {
  if (!toast) return;
  toast.textContent = message;
  settleToast(kind);
}

function settleToast(kind: 'info' | 'error'): void {
  if (!toast) return;
  toast.classList.toggle('toast-error', kind === 'error');
  toast.classList.add('visible');
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => toast.classList.remove('visible'), kind === 'error' ? 6000 : 3500);
}

/** What a control is called (its accessible name), to find it again after a swap replaced it. */
export function controlName(el: Element | null | undefined): string | undefined {
  return el?.getAttribute('aria-label') ?? el?.textContent ?? undefined;
}

/** The button or link called `name` in `root`, if there is one. */
export function findControl(root: ParentNode | null, name: string): HTMLElement | undefined {
  for (const el of root?.querySelectorAll<HTMLElement>('button, a') ?? []) if (controlName(el) === name) return el;
  return undefined;
}

/**
 * Focus what the new modal content asks for (`data-autofocus`: htmx would move focus again a
 * moment after the swap for a plain `autofocus`, under the user's fingers), else its first control.
 */
function focusModal(): void {
  const wanted =
    modalContent?.querySelector<HTMLElement>('[data-autofocus]') ??
    modalContent?.querySelector<HTMLElement>('input:not([type=hidden]), textarea, select, button:not([data-close-modal]), [tabindex="0"]');
  wanted?.focus();
}

export function closeModal(): void {
  if (modal?.open) modal.close();
}

// a live refresh that answers after the user closed the modal must not open it again
document.addEventListener('htmx:beforeSwap', (event) => {
  const detail = (event as CustomEvent<HtmxResponseDetail>).detail;
  if (detail.target === modalContent && isLiveRefresh(detail) && !modal?.open) detail.shouldSwap = false;
});

document.addEventListener('htmx:afterSwap', (event) => {
  const detail = (event as CustomEvent<HtmxResponseDetail>).detail;
  if (detail.target !== modalContent || !modal) return;
  if (!modal.open) {
    opener = document.activeElement;
    modal.showModal();
  }
  if (!isLiveRefresh(detail)) focusModal();
});

export function isConfirmOpen(): boolean {
  return confirmDialog?.open === true;
}

modal?.addEventListener('close', () => {
  if (modalContent) modalContent.innerHTML = '';
  back()?.focus();
  opener = null;
});

/** Where the focus returns: the opener, or its replacement when a live refresh swapped it out. */
function back(): HTMLElement | null | undefined {
  if (opener instanceof HTMLElement && opener.isConnected) return opener;
  const name = controlName(opener);
  const replaced = name === undefined ? undefined : findControl(document.getElementById('keys-table'), name);
  return replaced ?? document.getElementById('search-input');
}

// a click on the backdrop (the dialog element itself, outside its content) closes it
modal?.addEventListener('click', (event) => {
  if (event.target === modal) closeModal();
});

document.addEventListener('click', (event) => {
  const closer = (event.target as Element | null)?.closest('[data-close-modal]');
  if (closer) closeModal();
});

document.addEventListener('stash:close-modal', closeModal);

// hx-confirm asks in our own dialog instead of window.confirm
document.addEventListener('htmx:confirm', (event) => {
  const detail = (event as CustomEvent<HtmxConfirmDetail>).detail;
  if (!detail.question || !confirmDialog || !confirmText) return;
  event.preventDefault();
  confirmText.textContent = detail.question;
  confirmDialog.returnValue = '';
  confirmDialog.addEventListener('close', () => {
    if (confirmDialog.returnValue === 'ok') detail.issueRequest(true);
  }, { once: true });
  confirmDialog.showModal();
});

// a form answered with an error re-renders itself in the modal (HX-Retarget): swap it in
document.addEventListener('htmx:beforeSwap', (event) => {
  const detail = (event as CustomEvent<HtmxResponseDetail>).detail;
  if (detail.xhr.status >= 400 && detail.xhr.getResponseHeader('HX-Retarget')) {
    detail.shouldSwap = true;
    detail.isError = false;
  }
});

// any other error: say it, in words
document.addEventListener('htmx:responseError', (event) => {
  const { xhr } = (event as CustomEvent<HtmxResponseDetail>).detail;
  if (xhr.getResponseHeader('HX-Retarget') || xhr.getResponseHeader('HX-Redirect')) return;
  const text = xhr.status === 413 ? 'The request is larger than the server accepts (--limits.body-size).' : xhr.responseText.trim();
  showToast(text === '' ? `Request failed (HTTP ${xhr.status})` : text, 'error');
});

document.addEventListener('htmx:sendError', () => showToast('Cannot reach the server.', 'error'));

// a toast sent out of band by the server after a write
document.addEventListener('htmx:oobAfterSwap', (event) => {
  if ((event as CustomEvent<{ target: Element }>).detail.target === toast) settleToast('info');
});

// the address bar follows the search, so a reload or a shared link shows the same list
const search = document.getElementById('search-input') as HTMLInputElement | null;
search?.addEventListener('input', () => {
  const url = new URL(location.href);
  if (search.value === '') url.searchParams.delete('search');
  else url.searchParams.set('search', search.value);
  url.searchParams.delete('page');
  history.replaceState(null, '', url);
});

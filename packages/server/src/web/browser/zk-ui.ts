// Opening and editing `$ZK$` values in the page. The passphrase is typed into a field without a
// name, so no form ever sends it; the derived keys stay in this page's memory (the ZkCrypto
// object) until "Forget passphrase" or the page closes; plaintext is only ever put into the page
// as text, and an edit is encrypted here before the form leaves: the server sees `$ZK$` only.
import { showToast } from './page.js';
import type { ZkSession } from './zk-crypto.js';

interface HtmxConfirmDetail {
  elt: Element;
  verb: string;
  issueRequest(skipConfirmation: boolean): void;
}

const moduleUrl = document.body.dataset['zkModule'] ?? '';
const modalContent = document.getElementById('modal-content');
let session: ZkSession | undefined;
/** the plaintext of each key opened in this page */
const opened = new Map<string, string>();

async function load(): Promise<typeof import('./zk-crypto.js')> {
  return (await import(/* @vite-ignore */ moduleUrl)) as typeof import('./zk-crypto.js');
}

function forget(): void {
  session?.wipe();
  session = undefined;
  opened.clear();
  for (const el of document.querySelectorAll('.zk-plain')) el.remove();
  for (const el of document.querySelectorAll<HTMLElement>('[data-zk-unlocked]')) el.hidden = true;
  for (const el of document.querySelectorAll<HTMLElement>('[data-zk-locked]')) el.hidden = false;
  showToast('Passphrase forgotten: zero-knowledge values are closed again.');
}

/** Show the opened value in the view, and offer Edit and Forget. */
function reveal(box: HTMLElement, text: string): void {
  box.querySelector('[data-zk-locked]')?.setAttribute('hidden', '');
  const unlocked = box.querySelector<HTMLElement>('[data-zk-unlocked]');
  if (unlocked) unlocked.hidden = false;
  const pre = box.querySelector<HTMLElement>('.zk-plain') ?? document.createElement('pre');
  pre.className = 'value-box code zk-plain';
  pre.tabIndex = 0;
  pre.setAttribute('aria-label', 'Decrypted value');
  pre.textContent = text;
  box.querySelector('.zk-result')?.replaceChildren(pre);
}

async function openIn(box: HTMLElement, passphrase?: string): Promise<void> {
  const key = box.dataset['zkKey'] ?? '';
  const value = box.dataset['zkValue'] ?? '';
  const error = box.querySelector<HTMLElement>('.zk-error');
  if (error) error.textContent = '';
  const started = performance.now();
  try {
    if (passphrase !== undefined) {
      const { openZk } = await load();
      const next = openZk(passphrase);
      await next.decrypt(value); // a wrong passphrase fails here, before it replaces a good one
      session?.wipe();
      session = next;
    }
    if (!session) return;
    const text = await session.decrypt(value);
    opened.set(key, text);
    reveal(box, text);
    // how long opening took in the page, for anyone measuring (bench/web-zk-bench.mjs)
    performance.measure('stash:zk-open', { start: started });
  } catch (e) {
    if (error) error.textContent = passphrase === undefined ? '' : `Cannot open it: ${(e as Error).message.includes('short') ? (e as Error).message : 'wrong passphrase, or not a value of this passphrase'}.`;
  }
}

document.addEventListener('click', (event) => {
  const target = event.target as Element | null;
  const open = target?.closest('[data-zk-open]');
  if (open) {
    const box = open.closest<HTMLElement>('[data-zk-box]');
    const input = box?.querySelector<HTMLInputElement>('input[data-zk-passphrase]');
    if (!box || !input) return;
    const passphrase = input.value;
    input.value = ''; // not left in the field
    void openIn(box, passphrase);
    return;
  }
  if (target?.closest('[data-zk-forget]')) forget();
});

// Enter in the passphrase field opens, as a form would (there is no form: nothing to send)
document.addEventListener('keydown', (event) => {
  const input = event.target as HTMLElement | null;
  if (event.key !== 'Enter' || !input?.matches('input[data-zk-passphrase]')) return;
  event.preventDefault();
  input.closest('[data-zk-box]')?.querySelector<HTMLElement>('[data-zk-open]')?.click();
});

document.addEventListener('htmx:afterSwap', (event) => {
  if ((event as CustomEvent<{ target: Element }>).detail.target !== modalContent || !modalContent) return;
  // a view of a value already opened in this page opens again without asking
  const box = modalContent.querySelector<HTMLElement>('[data-zk-box]');
  if (box && session) void openIn(box);
  // the edit form gets the plaintext from this page, never from the server
  const form = modalContent.querySelector<HTMLFormElement>('form[data-zk-edit]');
  if (!form) return;
  const plain = form.querySelector<HTMLTextAreaElement>('textarea[data-zk-plain]');
  const known = opened.get(form.dataset['zkEdit'] ?? '');
  if (plain && known !== undefined && plain.value === '') plain.value = known;
  if (known === undefined || !session) {
    const note = form.querySelector<HTMLElement>('.zk-edit-note');
    if (note) note.textContent = 'Open this value with its passphrase first (View, then Open).';
  }
});

// before an edit of a zero-knowledge value leaves, encrypt it here and send only the envelope
document.addEventListener('htmx:confirm', (event) => {
  const detail = (event as CustomEvent<HtmxConfirmDetail>).detail;
  const form = detail.elt.closest<HTMLFormElement>('form[data-zk-edit]');
  if (!form || detail.verb.toLowerCase() !== 'put') return;
  event.preventDefault();
  const plain = form.querySelector<HTMLTextAreaElement>('textarea[data-zk-plain]');
  const sealed = form.querySelector<HTMLInputElement>('input[name="value"]');
  if (!session || !plain || !sealed) {
    showToast('Open this value with its passphrase first.', 'error');
    return;
  }
  void session.encrypt(plain.value).then(
    (envelope) => {
      sealed.value = envelope;
      opened.set(form.dataset['zkEdit'] ?? '', plain.value);
      detail.issueRequest(true);
    },
    (e: unknown) => showToast(`Could not encrypt: ${(e as Error).message}`, 'error'),
  );
});

// closing the page forgets everything anyway; this makes it explicit
window.addEventListener('pagehide', () => session?.wipe());

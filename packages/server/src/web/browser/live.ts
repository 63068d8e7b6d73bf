// Live updates: one change stream per page (the API's SSE endpoint, filtered by the session's
// permissions on the server). The key list is re-read when changes arrive (coalesced, so a
// burst of writes costs one request), changed rows are marked with who changed them, an open
// view follows its key, and an open edit form says at once that its key changed. EventSource
// reconnects by itself and sends Last-Event-ID, so the server replays what was missed.
import { controlName, findControl, isConfirmOpen, isLiveRefresh, LIVE_REFRESH_HEADER, type HtmxResponseDetail } from './page.js';

interface Htmx {
  ajax(verb: string, path: string, context: { source: string; target: string; swap: string; headers?: Record<string, string> }): Promise<void>;
  process(element: Element): void;
}

interface Change {
  key: string;
  action: 'create' | 'update' | 'delete';
  revision: number;
  actor?: string;
}

const base = document.body.dataset['baseUrl'] ?? '';
const list = document.getElementById('keys-table');
const modalContent = document.getElementById('modal-content');
const status = document.getElementById('live-status');
/** trailing delay after a change, and the longest a change waits while more keep coming */
const SETTLE_MS = 150;
const MAX_WAIT_MS = 600;
const MARK_MS = 6000;

const htmx = (): Htmx | undefined => (globalThis as { htmx?: Htmx }).htmx;
const recent = new Map<string, Change & { at: number }>();
let timer: ReturnType<typeof setTimeout> | undefined;
let firstPending = 0;
/** the control focused in the list when a live refresh replaced it, to focus its replacement */
let refocus: string | undefined;
/** the header that marks this module's refreshes (page.ts, isLiveRefresh) */
const LIVE = { [LIVE_REFRESH_HEADER]: '1' };

function setStatus(live: boolean): void {
  if (!status) return;
  status.classList.toggle('is-live', live);
  status.title = live ? 'Live: changes made anywhere appear here' : 'Reconnecting to live updates…';
  const label = status.querySelector('.live-label');
  if (label) label.textContent = live ? 'Live' : 'Reconnecting…';
}

function listUrl(): string {
  const query = new URLSearchParams();
  const search = (document.getElementById('search-input') as HTMLInputElement | null)?.value ?? '';
  const page = (document.getElementById('current-page') as HTMLInputElement | null)?.value ?? '1';
  if (search !== '') query.set('search', search);
  if (page !== '1') query.set('page', page);
  const folder = list?.querySelector<HTMLElement>('[data-folder]')?.dataset['folder'];
  if (folder !== undefined) query.set('folder', folder);
  const q = query.toString();
  return `${base}/web/keys${q === '' ? '' : `?${q}`}`;
}

/** Re-read the list once changes settle; wait while the user confirms a delete (its button must stay). */
function scheduleRefresh(): void {
  const now = Date.now();
  if (timer === undefined) firstPending = now;
  clearTimeout(timer);
  const wait = Math.max(0, Math.min(SETTLE_MS, firstPending + MAX_WAIT_MS - now));
  timer = setTimeout(() => {
    timer = undefined;
    if (isConfirmOpen()) return scheduleRefresh();
    void refresh();
  }, wait);
}

/**
 * Each region's refreshes come from the region itself: htmx queues a request behind the one in
 * flight from the same element (keeping only the last), so with one source for the list and the
 * modal, a slow view refresh held the list's back and a second one dropped the queued list refresh.
 */
async function refresh(): Promise<void> {
  await htmx()?.ajax('GET', listUrl(), { source: '#keys-table', target: '#keys-table', swap: 'innerHTML', headers: LIVE });
}

/** Mark rows of keys changed in the last few seconds, with who changed them. */
function markChanged(): void {
  if (!list) return;
  const now = Date.now();
  for (const [key, change] of recent) {
    if (now - change.at > MARK_MS) {
      recent.delete(key);
      continue;
    }
    const row = list.querySelector(`[data-key="${CSS.escape(key)}"]`);
    if (!row || row.querySelector('.live-badge')) continue;
    row.classList.add('is-changed');
    const badge = document.createElement('span');
    badge.className = 'live-badge';
    badge.textContent = `${change.action === 'create' ? 'created' : 'updated'}${change.actor ? ` by ${change.actor}` : ''}`;
    (row.querySelector('.col-key, .card-title') ?? row).append(badge);
    setTimeout(() => {
      row.classList.remove('is-changed');
      badge.remove();
    }, MARK_MS - (now - change.at));
  }
}

/** An open view follows its key; an open edit form says at once that the key changed. */
function followModal(change: Change): void {
  if (!modalContent) return;
  const view = modalContent.querySelector<HTMLElement>('[data-live-view]');
  if (view && view.dataset['liveView'] === change.key) {
    if (change.action === 'delete') {
      if (!modalContent.querySelector('.live-gone')) {
        const note = document.createElement('p');
        note.className = 'alert alert-warning live-gone';
        note.setAttribute('role', 'alert');
        note.textContent = `This key was deleted${change.actor ? ` by ${change.actor}` : ''}.`;
        modalContent.querySelector('.modal-body')?.prepend(note);
      }
      return;
    }
    const path = `${base}/web/keys/view/${encodeURIComponent(change.key)}`;
    void htmx()?.ajax('GET', path, { source: '#modal-content', target: '#modal-content', swap: 'innerHTML', headers: LIVE });
    return;
  }
  const form = modalContent.querySelector<HTMLFormElement>('form[data-live-edit]');
  if (!form || form.dataset['liveEdit'] !== change.key) return;
  if (Number(form.dataset['revision'] ?? 0) >= change.revision) return;
  form.querySelector('.live-notice')?.remove();
  const notice = document.createElement('div');
  notice.className = 'alert alert-warning live-notice';
  notice.setAttribute('role', 'alert');
  const text = document.createElement('p');
  text.className = 'alert-text';
  const who = change.actor ? ` by ${change.actor}` : '';
  text.textContent =
    change.action === 'delete'
      ? `This key was deleted${who} while you were editing. Nothing is saved yet.`
      : `This key was changed${who} while you were editing (revision ${change.revision}). Nothing is saved yet.`;
  const actions = document.createElement('div');
  actions.className = 'alert-actions';
  const review = document.createElement('button');
  review.type = 'button';
  review.className = 'btn';
  review.textContent = 'Review changes';
  review.setAttribute('hx-post', `${base}/web/keys/compare/${encodeURIComponent(change.key)}`);
  review.setAttribute('hx-target', '#modal-content');
  actions.append(review);
  notice.append(text, actions);
  form.querySelector('.modal-body')?.prepend(notice);
  htmx()?.process(notice);
}

function follow(): void {
  // from the revision the page was rendered at; after the first event the browser's
  // Last-Event-ID takes over (the server prefers it), so a reconnect resumes where it stopped
  const since = document.body.dataset['revision'];
  const source = new EventSource(`${base}/kv/subscribe/*${since === undefined ? '' : `?since=${since}`}`);
  source.addEventListener('open', () => setStatus(true));
  source.addEventListener('error', () => setStatus(false));
  source.addEventListener('change', (event) => {
    let change: Change;
    try {
      change = JSON.parse((event as MessageEvent<string>).data) as Change;
    } catch {
      return;
    }
    if (change.action !== 'delete') recent.set(change.key, { ...change, at: Date.now() });
    followModal(change);
    scheduleRefresh();
  });
  // the server's log no longer reaches back to where this page was: read everything again
  source.addEventListener('reset', () => scheduleRefresh());
}

// a list read answering while a delete is being confirmed would replace the row's Delete button,
// and htmx drops the request of a button no longer in the page: keep the rows, read again after
document.addEventListener('htmx:beforeSwap', (event) => {
  const detail = (event as CustomEvent<HtmxResponseDetail>).detail;
  if (detail.target !== list) return;
  if (isConfirmOpen()) {
    detail.shouldSwap = false;
    scheduleRefresh();
    return;
  }
  // a live refresh replaces the rows under a keyboard user's focus: note it at the swap itself
  // (the focus may have moved while the request was out), and find it again by its name after
  refocus = isLiveRefresh(detail) && list.contains(document.activeElement) ? controlName(document.activeElement) : undefined;
});

document.addEventListener('htmx:afterSwap', (event) => {
  if ((event as CustomEvent<{ target: Element }>).detail.target !== list) return;
  markChanged();
  if (refocus !== undefined) findControl(list, refocus)?.focus();
  refocus = undefined;
});

if (list && 'EventSource' in window) follow();

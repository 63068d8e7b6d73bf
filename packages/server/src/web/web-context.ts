import { isUtf8 } from 'node:buffer';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { DomainError } from '../domain/errors.js';
import type { KvService } from '../domain/kv-service.js';
import type { Logger } from '../logger.js';
import type { AccessControl, WebViewer } from '../shared/access.js';
import type { AuditReader } from '../shared/ports.js';
import { plainError } from '../shared/replies.js';
import { folderOfKeys, pageOfKeys, type KeyListCache } from './key-list.js';
import type { Preferences } from './preferences.js';
import { sendHtml } from './respond.js';
import type { StaticAssets } from './static-assets.js';
import { keysTable } from './templates/keys-table.js';
import type { ShownValue } from './templates/key-view.js';
import { html, type Html } from './html.js';

export interface WebDeps {
  service: KvService;
  access: AccessControl;
  log: Logger;
  baseUrl: string;
  /** --server.page-size; 0 = no pagination */
  pageSize: number;
  assets: StaticAssets;
  /** the sorted key lists between requests */
  lists: KeyListCache;
  /** the audit log, with --audit.enabled */
  audit?: AuditReader | undefined;
}

/** One UI request, with who makes it, their preferences and their form fields. */
export interface WebRequest {
  deps: WebDeps;
  req: FastifyRequest;
  reply: FastifyReply;
  viewer: WebViewer;
  prefs: Preferences;
  query: URLSearchParams;
  form: URLSearchParams;
}

/** A field of the form body, else of the query (Go's FormValue order). */
export function field(w: WebRequest, name: string): string {
  return w.form.get(name) ?? w.query.get(name) ?? '';
}

export function pageParam(w: WebRequest): number {
  const n = Number.parseInt(field(w, 'page'), 10);
  return Number.isSafeInteger(n) && n > 0 ? n : 1;
}

/** Bytes as the UI shows them: UTF-8 text, or base64 when they are not valid UTF-8. */
export function showValue(bytes: Uint8Array): ShownValue {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return isUtf8(buf) ? { text: buf.toString('utf8'), binary: false } : { text: buf.toString('base64'), binary: true };
}

/** The `#keys-table` region for this request's search, page and preferences. */
export async function renderKeysTable(w: WebRequest, prefs: Preferences = w.prefs, page = pageParam(w)): Promise<Html> {
  const sorted = await w.deps.lists.sorted(prefs.secretsFilter, prefs.sortMode);
  const search = field(w, 'search');
  const principal = w.viewer.principal;
  const model = { base: w.deps.baseUrl, viewMode: prefs.viewMode, search, canCreate: principal.canWriteSomewhere() };
  // the tree shows one folder; a search always spans every key
  if (prefs.browse === 'folders' && search === '') {
    const raw = field(w, 'folder');
    const trimmed = raw.replace(/^\/+/, '');
    const folder = trimmed === '' || trimmed.endsWith('/') ? trimmed : `${trimmed}/`;
    const tree = folderOfKeys(sorted, principal, { folder, page, pageSize: w.deps.pageSize });
    return keysTable({ ...model, list: tree.keys, tree });
  }
  return keysTable({ ...model, list: pageOfKeys(sorted, principal, { search, page, pageSize: w.deps.pageSize }) });
}

/** After a write: the key list, the modal closed, a toast saying what happened. */
export async function answerWritten(w: WebRequest, message: string): Promise<void> {
  w.reply.header('hx-trigger-after-swap', 'stash:close-modal');
  const table = await renderKeysTable(w);
  await sendHtml(w.req, w.reply, 200, html`${table}<div id="toast" hx-swap-oob="innerHTML">${message}</div>`);
}

const STATUS: Record<DomainError['code'], number> = {
  validation: 400,
  unauthorized: 401,
  forbidden: 403,
  not_found: 404,
  conflict: 409,
  internal: 500,
  unavailable: 503,
};

/** Errors outside a form: plain text the page shows in a toast; unknown ones are logged and hidden. */
export function sendWebError(w: WebRequest, error: unknown): void {
  if (error instanceof DomainError && error.code !== 'internal') return plainError(w.reply, STATUS[error.code], error.message);
  const cause = error instanceof DomainError ? error.cause ?? error : error;
  w.deps.log.error(`web ${w.req.method} ${w.req.url}: ${cause instanceof Error ? cause.stack ?? cause.message : String(cause)}`, w.req.id);
  plainError(w.reply, 500, 'internal error');
}

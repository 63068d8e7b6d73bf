import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { LoginPage } from '../shared/ports.js';
import { ALL_METHODS, methodNotAllowed, notFound, plainError, redirect } from '../shared/replies.js';
import '../shared/request-fields.js';
import { formFields } from '../shared/request-info.js';
import { cleanPath, decodePathPart, splitUrl } from '../shared/route-path.js';
import { editKey, createKey, deleteKey, newKey, updateKey, viewKey } from './key-handlers.js';
import { auditView } from './audit-handlers.js';
import { compareKey, mergeKey } from './conflict-handlers.js';
import { keyDiff, keyHistory, keyRevision, restoreKey } from './history-handlers.js';
import { indexPage, keysPartial, toggleTheme, togglePreference } from './page-handlers.js';
import { KeyListCache } from './key-list.js';
import { readPreferences } from './preferences.js';
import { applyImport, exportKeys, importDialog, previewImport } from './transfer-handlers.js';
import { sendHtml } from './respond.js';
import { serveAsset } from './serve-asset.js';
import { loginPage } from './templates/login.js';
import type { WebDeps, WebRequest } from './web-context.js';

type KeyHandler = (w: WebRequest, rawKey: string) => Promise<void>;

/** `GET /web/keys/<route>/{key...}` pages; any other method there is a PUT/DELETE of a key under that name. */
const KEY_PAGES: ReadonlyArray<[string, KeyHandler, 'GET' | 'POST']> = [
  ['keys/view/', viewKey, 'GET'],
  ['keys/edit/', editKey, 'GET'],
  ['keys/history/', keyHistory, 'GET'],
  ['keys/revision/', keyRevision, 'GET'],
  ['keys/diff/', keyDiff, 'GET'],
  ['keys/restore/', restoreKey, 'POST'],
  ['keys/compare/', compareKey, 'POST'],
  ['keys/merge/', mergeKey, 'POST'],
];

const TOGGLES = {
  theme: toggleTheme,
  'view-mode': (w: WebRequest) => togglePreference(w, 'viewMode'),
  sort: (w: WebRequest) => togglePreference(w, 'sortMode'),
  'secrets-filter': (w: WebRequest) => togglePreference(w, 'secretsFilter'),
  browse: (w: WebRequest) => togglePreference(w, 'browse'),
} as const;

function isGet(method: string): boolean {
  return method === 'GET' || method === 'HEAD';
}

/** Route one `/web/...` request as Go's mux would route the original's patterns. */
async function dispatch(w: WebRequest, rest: string): Promise<void> {
  const method = w.req.method;
  const reply = w.reply;
  if (Object.hasOwn(TOGGLES, rest)) {
    if (method !== 'POST') return methodNotAllowed(reply, 'POST');
    return TOGGLES[rest as keyof typeof TOGGLES](w);
  }
  if (rest === 'export') return isGet(method) ? exportKeys(w) : methodNotAllowed(reply, 'GET, HEAD');
  if (rest === 'import') return isGet(method) ? importDialog(w) : methodNotAllowed(reply, 'GET, HEAD');
  if (rest === 'import/preview') return method === 'POST' ? previewImport(w) : methodNotAllowed(reply, 'POST');
  if (rest === 'import/apply') return method === 'POST' ? applyImport(w) : methodNotAllowed(reply, 'POST');
  if (rest === 'keys') {
    if (isGet(method)) return keysPartial(w);
    if (method === 'POST') return createKey(w);
    return methodNotAllowed(reply, 'GET, HEAD, POST');
  }
  if (!rest.startsWith('keys/')) return notFound(reply);
  const raw = rest.slice(5);
  const keyOf = (part: string): string | undefined => {
    const key = decodePathPart(part);
    if (key === undefined) plainError(reply, 400, 'invalid URL escape');
    return key;
  };
  // PUT and DELETE /web/keys/{key...} take every name, `new` and `view/x` included
  if (method === 'PUT' || method === 'DELETE') {
    const key = keyOf(raw);
    if (key === undefined) return;
    return method === 'PUT' ? updateKey(w, key) : deleteKey(w, key);
  }
  if (raw === 'new') return isGet(method) ? newKey(w) : methodNotAllowed(reply, 'DELETE, GET, HEAD, PUT');
  for (const [prefix, handler, wanted] of KEY_PAGES) {
    if (!rest.startsWith(prefix)) continue;
    const ok = wanted === 'GET' ? isGet(method) : method === wanted;
    if (!ok) return methodNotAllowed(reply, wanted === 'GET' ? 'DELETE, GET, HEAD, PUT' : 'DELETE, POST, PUT');
    const key = keyOf(rest.slice(prefix.length));
    if (key === undefined) return;
    return handler(w, key);
  }
  return methodNotAllowed(reply, 'DELETE, PUT');
}

/**
 * The web UI (compat 12) as a plugin for createApp: `/`, `/web/...` behind the session when
 * auth is on, and `/static/...` for everyone. Paths arrive without the base URL; links carry it.
 */
export function createWebRoutes(options: Omit<WebDeps, 'lists'>): (app: FastifyInstance) => void {
  const { service } = options;
  const lists = new KeyListCache({
    revision: () => service.revision(),
    list: (filter, atLeast) => service.list('', filter, atLeast),
  });
  const deps: WebDeps = { ...options, lists };
  const base = deps.baseUrl;

  /** The signed-in viewer's request, or undefined after sending the browser to the login page. */
  const admit = async (req: FastifyRequest, reply: FastifyReply, query: string): Promise<WebRequest | undefined> => {
    req.metricsRoute = 'web';
    const viewer = await deps.access.webViewer(req);
    if (!viewer) {
      if (req.headers['hx-request'] === 'true') void reply.code(401).header('hx-redirect', `${base}/login`).send('');
      else void reply.code(303).header('location', `${base}/login`).send('');
      return undefined;
    }
    const prefs = readPreferences(req.headers.cookie);
    return { deps, req, reply, viewer, prefs, query: new URLSearchParams(query), form: formFields(req.body) };
  };

  return (app) => {
    app.route({
      method: ALL_METHODS,
      url: '/',
      handler: async (req, reply) => {
        if (!isGet(req.method)) return methodNotAllowed(reply, 'GET, HEAD');
        const w = await admit(req, reply, splitUrl(req.url).query);
        if (w) await indexPage(w);
      },
    });
    app.route({
      method: ALL_METHODS,
      url: '/web/*',
      handler: async (req, reply) => {
        const { path, query } = splitUrl(req.url);
        const cleaned = cleanPath(path);
        if (cleaned !== path) return redirect(reply, base, cleaned, query);
        const w = await admit(req, reply, query);
        if (w) await dispatch(w, path.slice(5));
      },
    });
    if (deps.audit) {
      // `GET /web/audit` is the original's partial route; this page renders whole, so both answer it
      for (const url of ['/audit', '/web/audit']) {
        app.route({
          method: ALL_METHODS,
          url,
          handler: async (req, reply) => {
            if (!isGet(req.method)) return methodNotAllowed(reply, 'GET, HEAD');
            const w = await admit(req, reply, splitUrl(req.url).query);
            if (w) await auditView(w);
          },
        });
      }
    }
    app.route({
      method: ALL_METHODS,
      url: '/static/*',
      handler: (req, reply) => {
        req.metricsRoute = 'web.static';
        if (!isGet(req.method)) return methodNotAllowed(reply, 'GET, HEAD');
        const { path, query } = splitUrl(req.url);
        return serveAsset(req, reply, deps.assets, path.slice(8), new URLSearchParams(query).get('v'));
      },
    });
  };
}

/** The login form for auth's routes, drawn like the rest of the UI. */
export function createLoginPage(deps: Pick<WebDeps, 'baseUrl' | 'assets'>): LoginPage {
  return (req, reply, status, message, username) =>
    sendHtml(req, reply, status, loginPage(deps.baseUrl, deps.assets, readPreferences(req.headers.cookie).theme, message, username));
}

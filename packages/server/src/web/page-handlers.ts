import { isHttps } from '../shared/request-info.js';
import { html } from './html.js';
import { BROWSE_MODES, nextInCycle, PREFERENCE_COOKIES, preferenceCookie, SECRETS_FILTERS, SORT_MODES, THEMES, VIEW_MODES, type Preferences } from './preferences.js';
import { mayAudit } from './audit-handlers.js';
import { sendHtml } from './respond.js';
import { mainPage } from './templates/layout.js';
import { browseToggle, filterButton, sortButton, viewToggle } from './templates/toolbar.js';
import { field, renderKeysTable, type WebRequest } from './web-context.js';

/** `GET /`: the whole page, with the key list for `?search=` and `?page=` already in it. */
export async function indexPage(w: WebRequest): Promise<void> {
  const { deps, prefs, viewer } = w;
  // read before the list: the page's stream starts here, so nothing written after it is missed
  const revision = await deps.service.revision();
  const page = mainPage({
    revision,
    base: deps.baseUrl,
    assets: deps.assets,
    prefs,
    user: viewer.name,
    canCreate: viewer.principal.canWriteSomewhere(),
    auditLink: deps.audit !== undefined && mayAudit(w),
    search: field(w, 'search'),
    table: await renderKeysTable(w),
  });
  await sendHtml(w.req, w.reply, 200, page);
}

/** `GET /web/keys`: the key list region (search as you type, pages). */
export async function keysPartial(w: WebRequest): Promise<void> {
  await sendHtml(w.req, w.reply, 200, await renderKeysTable(w));
}

function setPreference(w: WebRequest, name: string, value: string): void {
  w.reply.header('set-cookie', preferenceCookie(name, value, `${w.deps.baseUrl}/`, isHttps(w.req)));
}

/** `POST /web/theme`: system, dark, light, and round; the page reloads in the new theme. */
export function toggleTheme(w: WebRequest): void {
  const theme = nextInCycle(THEMES, w.prefs.theme);
  setPreference(w, PREFERENCE_COOKIES.theme, theme);
  if (w.req.headers['hx-request'] === 'true') return void w.reply.header('hx-refresh', 'true').code(200).send('');
  void w.reply.code(303).header('location', `${w.deps.baseUrl}/`).send('');
}

type ListPreference = 'viewMode' | 'sortMode' | 'secretsFilter' | 'browse';

const CYCLES = { viewMode: VIEW_MODES, sortMode: SORT_MODES, secretsFilter: SECRETS_FILTERS, browse: BROWSE_MODES } as const;

/**
 * `POST /web/view-mode`, `/web/sort`, `/web/secrets-filter`: the next value of the cycle, and
 * the key list in it with the header control re-rendered out of band. A new order or filter
 * starts at page 1; a new view keeps the page.
 */
export async function togglePreference(w: WebRequest, which: ListPreference): Promise<void> {
  const value = nextInCycle<string>(CYCLES[which], w.prefs[which]);
  const prefs = { ...w.prefs, [which]: value } as Preferences;
  setPreference(w, PREFERENCE_COOKIES[which], value);
  const base = w.deps.baseUrl;
  const controls = {
    viewMode: () => viewToggle(base, prefs.viewMode, true),
    sortMode: () => sortButton(base, prefs.sortMode, true),
    secretsFilter: () => filterButton(base, prefs.secretsFilter, true),
    browse: () => browseToggle(base, prefs.browse, true),
  };
  const control = controls[which]();
  const table = await renderKeysTable(w, prefs, which === 'viewMode' ? undefined : 1);
  await sendHtml(w.req, w.reply, 200, html`${table}${control}`);
}

import { html, type Html } from '../html.js';
import type { Preferences } from '../preferences.js';
import type { StaticAssets } from '../static-assets.js';
import { icon } from './icons.js';
import { browseToggle, filterButton, sortButton, themeToggle, viewToggle } from './toolbar.js';

// htmx under a strict CSP: no eval, no inline indicator styles, no scripts from swapped content
const HTMX_CONFIG = JSON.stringify({
  includeIndicatorStyles: false,
  allowEval: false,
  allowScriptTags: false,
  selfRequestsOnly: true,
  historyCacheSize: 0,
  // new content is live at once: htmx wires its controls when it settles, and a live refresh
  // landing just before a click or Enter would otherwise swallow it (no settle transitions here)
  defaultSettleDelay: 0,
});

export interface ShellModel {
  base: string;
  revision?: number | undefined;
  assets: StaticAssets;
  theme: Preferences['theme'];
  title: string;
  body: Html;
}

/** The document around every page: assets by content-hashed URL, the theme on <html>. */
export function pageShell(model: ShellModel): Html {
  const { base, assets } = model;
  return html`<!DOCTYPE html>
<html lang="en" data-theme="${model.theme}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light dark">
<title>${model.title}</title>
<meta name="htmx-config" content="${HTMX_CONFIG}">
<link rel="icon" type="image/svg+xml" href="${assets.url(base, 'favicon.svg')}">
<link rel="stylesheet" href="${assets.url(base, 'style.css')}">
<script src="${assets.url(base, 'htmx.min.js')}" defer></script>
<script type="module" src="${assets.url(base, 'app.js')}"></script>
</head>
<body data-base-url="${base}" data-zk-module="${assets.url(base, 'zk.js')}"${model.revision === undefined ? '' : html` data-revision="${model.revision}"`}>
${model.body}
</body>
</html>
`;
}

export interface MainPageModel {
  base: string;
  /** the revision the list was read at: the page's change stream resumes from it */
  revision: number;
  assets: StaticAssets;
  prefs: Preferences;
  /** signed-in user name, '' when auth is off */
  user: string;
  canCreate: boolean;
  /** a link to the audit log (audit on, the viewer may see it) */
  auditLink?: boolean | undefined;
  search: string;
  table: Html;
}

function userMenu(base: string, user: string): Html {
  if (user === '') return html``;
  return html`<form class="user-menu" method="post" action="${base}/logout"><span class="user-name" title="Signed in as ${user}">${user}</span><button type="submit" class="btn btn-icon" aria-label="Logout" title="Logout">${icon('logout')}</button></form>`;
}

/** `/`: the header with its controls, the key list, and the (empty) modal and confirm dialogs. */
export function mainPage(model: MainPageModel): Html {
  const { base, prefs } = model;
  return pageShell({
    base,
    assets: model.assets,
    theme: prefs.theme,
    title: 'Stash',
    revision: model.revision,
    body: html`<a class="skip-link" href="#keys-table">Skip to keys</a>
<header class="topbar">
<a class="brand" href="${base}/">${icon('logo', 'brand-icon')}<span>Stash</span></a>
<div class="toolbar">
<div class="search">${icon('search', 'search-icon')}<input id="search-input" type="search" name="search" value="${model.search}" placeholder="Search keys..." aria-label="Search keys" autocomplete="off" spellcheck="false" hx-get="${base}/web/keys" hx-trigger="input changed delay:200ms, search" hx-target="#keys-table" hx-sync="this:replace"></div>
<div class="controls">
<span id="live-status" class="live-status" title="Connecting to live updates…"><span class="live-dot" aria-hidden="true"></span><span class="live-label">Connecting…</span></span>
${sortButton(base, prefs.sortMode)}
${filterButton(base, prefs.secretsFilter)}
${model.canCreate ? html`<button type="button" id="new-key" class="btn btn-primary" hx-get="${base}/web/keys/new" hx-target="#modal-content">${icon('plus')}<span>New Key</span></button>` : ''}
${browseToggle(base, prefs.browse)}
${viewToggle(base, prefs.viewMode)}
${themeToggle(base, prefs.theme)}
${model.auditLink ? html`<a class="btn" href="${base}/audit">Audit log</a>` : ''}
${userMenu(base, model.user)}
</div>
</div>
</header>
<main id="keys-table" class="content" tabindex="-1">
${model.table}
</main>
<dialog id="modal" class="modal" aria-labelledby="modal-title"><div id="modal-content"></div></dialog>
<dialog id="confirm" class="modal modal-small" aria-labelledby="confirm-title" aria-describedby="confirm-text">
<form method="dialog">
<div class="modal-header"><h2 id="confirm-title">Please confirm</h2></div>
<div class="modal-body"><p id="confirm-text"></p></div>
<div class="modal-footer"><span class="spacer"></span><button type="submit" class="btn" value="cancel">Cancel</button><button type="submit" class="btn btn-danger" value="ok" id="confirm-ok">Delete</button></div>
</form>
</dialog>
<div id="toast" class="toast" role="status" aria-live="polite"></div>`,
  });
}

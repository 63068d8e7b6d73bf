import { ACTOR_TYPES, AUDIT_ACTIONS, AUDIT_RESULTS, type AuditEntry } from '../../shared/audit-records.js';
import { html, type Html } from '../html.js';
import type { Preferences } from '../preferences.js';
import type { StaticAssets } from '../static-assets.js';
import { narrowOnly } from './display.js';
import { icon } from './icons.js';
import { pageShell } from './layout.js';
import { themeToggle } from './toolbar.js';

export interface AuditModel {
  base: string;
  assets: StaticAssets;
  prefs: Preferences;
  /** the filter as typed (form values), to show it again */
  form: Record<'key' | 'actor' | 'actor_type' | 'action' | 'result' | 'from' | 'to', string>;
  entries: readonly AuditEntry[];
  total: number;
  page: number;
  pages: number;
  /** the query string of the filter, for the page links */
  query: string;
  problem?: string | undefined;
}

function select(name: string, label: string, values: readonly string[], current: string): Html {
  return html`<div class="field"><label for="audit-${name}">${label}</label><select id="audit-${name}" name="${name}" class="input"><option value="">any</option>${values.map(
    (v) => html`<option value="${v}"${v === current ? ' selected' : ''}>${v.replace('_', ' ')}</option>`,
  )}</select></div>`;
}

function input(name: string, label: string, current: string, type = 'text', placeholder = ''): Html {
  return html`<div class="field"><label for="audit-${name}">${label}</label><input id="audit-${name}" name="${name}" class="input" type="${type}" value="${current}" placeholder="${placeholder}" autocomplete="off"${type === 'text' ? ' spellcheck="false"' : ''}></div>`;
}

function rows(entries: readonly AuditEntry[]): Html {
  return html`${entries.map((e) => {
    const iso = e.timestamp.toISOString();
    const result = html`<span class="audit-result audit-${e.result}">${e.result.replace('_', ' ')}</span>`;
    return html`<tr><td class="col-when"><time datetime="${iso}" title="${iso}">${iso.slice(0, 10)} ${iso.slice(11, 19)}</time></td><td><span class="op op-${e.action === 'read' || e.action === 'subscribe' ? 'create' : e.action}">${e.action}</span>${narrowOnly(result)}</td><td class="mono audit-key">${e.key}${narrowOnly(html`${e.actor}`, 'audit-actor-inline')}</td><td class="col-actor">${e.actor}<span class="muted"> · ${e.actorType}</span></td><td class="col-result">${result}</td><td class="muted col-ip">${e.ip}</td></tr>`;
  })}`;
}

/** `GET /audit` (admins): who did what to which key, filtered, newest first, paged. */
export function auditPage(m: AuditModel): Html {
  const { base, form } = m;
  const link = (page: number, label: string, enabled: boolean): Html =>
    enabled ? html`<a class="btn btn-small" href="${base}/audit?${m.query}${m.query ? '&' : ''}page=${page}">${label}</a>` : html`<span class="btn btn-small" aria-disabled="true">${label}</span>`;
  const active = Object.values(form).filter((v) => v !== '').length;
  const table =
    m.entries.length === 0
      ? html`<div class="empty"><p>No audit entries match.</p></div>`
      : html`<div class="table-wrap"><table class="audit"><thead><tr><th scope="col">When (UTC)</th><th scope="col">Action</th><th scope="col">Key</th><th scope="col" class="col-actor">Actor</th><th scope="col" class="col-result">Result</th><th scope="col" class="col-ip">IP</th></tr></thead><tbody>${rows(m.entries)}</tbody></table></div>`;
  return pageShell({
    base,
    assets: m.assets,
    theme: m.prefs.theme,
    title: 'Stash - Audit log',
    body: html`<header class="topbar">
<a class="brand" href="${base}/">${icon('logo', 'brand-icon')}<span>Stash</span></a>
<div class="toolbar"><div class="controls"><a class="btn" href="${base}/">Keys</a>${themeToggle(base, m.prefs.theme)}</div></div>
</header>
<main class="content" id="audit">
<h1 class="page-title">Audit log</h1>
<details class="audit-filter-box"${active > 0 ? ' open' : ''}><summary>Filters${active > 0 ? html`<span class="muted"> · ${active} set</span>` : ''}</summary>
<form class="audit-filters" method="get" action="${base}/audit" role="search" aria-label="Filter the audit log">
${input('key', 'Key or prefix', form.key, 'text', 'app/config or app/*')}
${input('actor', 'Actor', form.actor, 'text', 'alice or token:abcd****')}
${select('actor_type', 'Actor type', ACTOR_TYPES, form.actor_type)}
${select('action', 'Action', AUDIT_ACTIONS, form.action)}
${select('result', 'Result', AUDIT_RESULTS, form.result)}
${input('from', 'From (UTC)', form.from, 'datetime-local')}
${input('to', 'To (UTC)', form.to, 'datetime-local')}
<div class="audit-buttons"><button type="submit" class="btn btn-primary">Filter</button><a class="btn" href="${base}/audit">Clear</a></div>
</form>
</details>
${m.problem ? html`<p class="alert alert-error" role="alert">${m.problem}</p>` : ''}
<p class="key-count">${m.total} ${m.total === 1 ? 'entry' : 'entries'}, newest first</p>
${table}
${m.pages > 1 ? html`<nav class="pagination" aria-label="Pages">${link(m.page - 1, 'Previous', m.page > 1)}<span class="page-info">Page ${m.page} of ${m.pages}</span>${link(m.page + 1, 'Next', m.page < m.pages)}</nav>` : ''}
</main>
<div id="toast" class="toast" role="status" aria-live="polite"></div>`,
  });
}

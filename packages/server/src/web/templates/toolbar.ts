import { html, type Html } from '../html.js';
import type { SecretsFilter } from '../../domain/kv-service.js';
import { nextInCycle, THEMES, VIEW_MODES, type BrowseMode, type SortMode, type Theme, type ViewMode } from '../preferences.js';
import { icon } from './icons.js';

// The header's stateful controls. A toggle's answer re-renders the control out of band
// (hx-swap-oob), so its label always names the state the table shows.

const SORT_LABELS: Record<SortMode, string> = { updated: 'Updated', key: 'Key', size: 'Size', created: 'Created' };
const FILTER_LABELS: Record<SecretsFilter, [string, string]> = {
  all: ['All', 'all keys'],
  secrets: ['Secrets', 'secrets only'],
  keys: ['Keys', 'keys without secrets'],
};
const THEME_ICONS = { system: 'system', light: 'sun', dark: 'moon' } as const;

const oobAttr = (oob: boolean): Html => (oob ? html` hx-swap-oob="true"` : html``);

export function sortButton(base: string, mode: SortMode, oob = false): Html {
  const label = SORT_LABELS[mode];
  return html`<button type="button" id="sort-button" class="btn btn-pill" hx-post="${base}/web/sort" hx-target="#keys-table" hx-include="#search-input, #current-folder" aria-label="Sort by ${label.toLowerCase()} (change sort order)" title="Sort order: updated, key, size, created"${oobAttr(oob)}>${icon('sort')}<span>${label}</span></button>`;
}

export function filterButton(base: string, filter: SecretsFilter, oob = false): Html {
  const [label, spoken] = FILTER_LABELS[filter];
  return html`<button type="button" id="filter-button" class="btn btn-pill" hx-post="${base}/web/secrets-filter" hx-target="#keys-table" hx-include="#search-input, #current-folder" aria-label="Showing ${spoken} (change secrets filter)" title="Show all keys, secrets only, or keys without secrets"${oobAttr(oob)}>${icon(filter === 'all' ? 'filter' : 'lock')}<span>${label}</span></button>`;
}

export function viewToggle(base: string, mode: ViewMode, oob = false): Html {
  const next = nextInCycle(VIEW_MODES, mode);
  const name = next === 'cards' ? 'Switch to card view' : 'Switch to table view';
  return html`<button type="button" id="view-toggle" class="btn btn-icon" hx-post="${base}/web/view-mode" hx-target="#keys-table" hx-include="#search-input, #current-page, #current-folder" aria-label="${name}" title="${name}"${oobAttr(oob)}>${icon(next === 'cards' ? 'cards' : 'table')}</button>`;
}

export function themeToggle(base: string, theme: Theme): Html {
  const next = nextInCycle(THEMES, theme);
  const name = `Theme: ${theme}. Switch to ${next} theme`;
  return html`<button type="button" id="theme-toggle" class="btn btn-icon" hx-post="${base}/web/theme" hx-swap="none" aria-label="${name}" title="${name}">${icon(THEME_ICONS[theme])}</button>`;
}

export function browseToggle(base: string, mode: BrowseMode, oob = false): Html {
  const name = mode === 'flat' ? 'Browse folders' : 'Show the flat list';
  return html`<button type="button" id="browse-toggle" class="btn btn-icon" hx-post="${base}/web/browse" hx-target="#keys-table" hx-include="#search-input, #current-folder" aria-label="${name}" aria-pressed="${mode === 'folders' ? 'true' : 'false'}" title="${name}"${oobAttr(oob)}>${icon(mode === 'flat' ? 'tree' : 'table')}</button>`;
}

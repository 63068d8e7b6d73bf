import type { SecretsFilter } from '../domain/kv-service.js';

// The UI's preference cookies (compat 12): names, values and cycles as in the original, so a
// browser that used it keeps its settings.

export const THEMES = ['system', 'dark', 'light'] as const;
export type Theme = (typeof THEMES)[number];
export const VIEW_MODES = ['grid', 'cards'] as const;
export type ViewMode = (typeof VIEW_MODES)[number];
export const SORT_MODES = ['updated', 'key', 'size', 'created'] as const;
export type SortMode = (typeof SORT_MODES)[number];
export const SECRETS_FILTERS = ['all', 'secrets', 'keys'] as const satisfies readonly SecretsFilter[];
/** this project's own: the flat list (the original's only one) or folders by `/` */
export const BROWSE_MODES = ['flat', 'folders'] as const;
export type BrowseMode = (typeof BROWSE_MODES)[number];

export interface Preferences {
  theme: Theme;
  viewMode: ViewMode;
  sortMode: SortMode;
  secretsFilter: SecretsFilter;
  browse: BrowseMode;
}

export const PREFERENCE_COOKIES = {
  theme: 'theme',
  viewMode: 'view_mode',
  sortMode: 'sort_mode',
  secretsFilter: 'secrets_filter',
  browse: 'browse',
} as const satisfies Record<keyof Preferences, string>;

const YEAR_SECONDS = 365 * 24 * 60 * 60;

/** Cookie values by name; the first of a repeated name wins, as Go's r.Cookie. */
export function parseCookies(header: string | undefined): Map<string, string> {
  const out = new Map<string, string>();
  if (!header) return out;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq === -1) continue;
    const name = part.slice(0, eq).trim();
    if (!out.has(name)) out.set(name, part.slice(eq + 1).trim());
  }
  return out;
}

function pick<T extends string>(values: readonly T[], raw: string | undefined): T {
  return values.find((v) => v === raw) ?? (values[0] as T);
}

export function readPreferences(cookieHeader: string | undefined): Preferences {
  const cookies = parseCookies(cookieHeader);
  return {
    theme: pick(THEMES, cookies.get(PREFERENCE_COOKIES.theme)),
    viewMode: pick(VIEW_MODES, cookies.get(PREFERENCE_COOKIES.viewMode)),
    sortMode: pick(SORT_MODES, cookies.get(PREFERENCE_COOKIES.sortMode)),
    secretsFilter: pick(SECRETS_FILTERS, cookies.get(PREFERENCE_COOKIES.secretsFilter)),
    browse: pick(BROWSE_MODES, cookies.get(PREFERENCE_COOKIES.browse)),
  };
}

/** The value after `current` in its cycle. */
export function nextInCycle<T extends string>(cycle: readonly T[], current: T): T {
  return cycle[(cycle.indexOf(current) + 1) % cycle.length] as T;
}

/** A one-year preference cookie on the UI's path (HttpOnly, SameSite=Lax, as the original sets them). */
export function preferenceCookie(name: string, value: string, path: string, secure: boolean): string {
  return `${name}=${value}; Path=${path}; Max-Age=${YEAR_SECONDS}; HttpOnly${secure ? '; Secure' : ''}; SameSite=Lax`;
}

import { createRequire } from 'node:module';
import type { Format } from '@stash/client/core';
import { escapeHtml, raw, type Html } from './html.js';

// Prism runs on the server: the page gets classed spans (coloured by style.css), no script.
// Its language files register themselves on the global Prism that the core module sets.
const require = createRequire(import.meta.url);
const Prism = require('prismjs') as typeof import('prismjs');
for (const lang of ['json', 'yaml', 'toml', 'ini', 'hcl', 'bash']) require(`prismjs/components/prism-${lang}.js`);

const GRAMMARS: Partial<Record<Format, string>> = {
  json: 'json',
  yaml: 'yaml',
  xml: 'markup',
  toml: 'toml',
  ini: 'ini',
  hcl: 'hcl',
  shell: 'bash',
};

/** Above this many characters a value is shown plain: highlighting 1 MiB takes most of a second. */
export const HIGHLIGHT_LIMIT = 64 * 1024;

/**
 * A value as markup for a `<code>` element: highlighted per format, or escaped text for `text`,
 * unknown grammars and large values. Prism escapes what it wraps.
 */
export function highlight(text: string, format: Format): Html {
  const name = GRAMMARS[format];
  const grammar = name === undefined ? undefined : Prism.languages[name];
  if (!grammar || !name || text.length > HIGHLIGHT_LIMIT) return raw(escapeHtml(text));
  return raw(Prism.highlight(text, grammar, name));
}

/** Whether highlight() colours this value. */
export function isHighlighted(text: string, format: Format): boolean {
  return GRAMMARS[format] !== undefined && text.length <= HIGHLIGHT_LIMIT;
}

// Templates are tagged template literals: every interpolated value is escaped unless it is
// already markup made by `html` (or, explicitly and rarely, `raw`). Safety is the default.

const ESCAPES: Readonly<Record<string, string>> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };
const UNSAFE = /[&<>"']/g;
const HAS_UNSAFE = /[&<>"']/; // no `g`: a global regex's test() keeps state between calls

/** Text made safe for element content and double- or single-quoted attribute values. */
export function escapeHtml(text: string): string {
  return HAS_UNSAFE.test(text) ? text.replace(UNSAFE, (c) => ESCAPES[c] as string) : text;
}

/** Markup that is safe to send as is. */
export class Html {
  constructor(readonly text: string) {}
  toString(): string {
    return this.text;
  }
}

/** What a template accepts: markup, text (escaped), numbers, nothing (`null`, `undefined`, booleans), lists. */
export type Child = Html | string | number | boolean | null | undefined | readonly Child[];

function render(value: Child): string {
  if (value instanceof Html) return value.text;
  if (value === null || value === undefined || typeof value === 'boolean') return '';
  if (typeof value === 'number') return String(value);
  if (typeof value === 'string') return escapeHtml(value);
  let out = '';
  for (const item of value) out += render(item);
  return out;
}

/** The template tag: `html\`<p>${text}</p>\`` escapes `text`. */
export function html(strings: TemplateStringsArray, ...values: readonly Child[]): Html {
  let out = strings[0] ?? '';
  for (let i = 0; i < values.length; i++) out += render(values[i]) + (strings[i + 1] ?? '');
  return new Html(out);
}

/** Trust markup produced elsewhere (the highlighter's output, which escapes its input). */
export function raw(markup: string): Html {
  return new Html(markup);
}

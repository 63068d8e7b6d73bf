/** The eight value formats Stash knows; anything else is stored as `text`. */
export const FORMATS = ['text', 'json', 'yaml', 'xml', 'toml', 'ini', 'hcl', 'shell'] as const;
export type Format = (typeof FORMATS)[number];

const FORMAT_SET: ReadonlySet<string> = new Set(FORMATS);

/** Exact, case-sensitive check, as the original server does. */
export function isFormat(value: unknown): value is Format {
  return typeof value === 'string' && FORMAT_SET.has(value);
}

/** Content-Type the server answers for a stored format (compat 5.1). */
export const FORMAT_CONTENT_TYPES: Readonly<Record<Format, string>> = {
  text: 'text/plain',
  json: 'application/json',
  yaml: 'application/yaml',
  xml: 'application/xml',
  toml: 'application/toml',
  ini: 'text/plain',
  hcl: 'text/plain',
  shell: 'text/x-shellscript',
};

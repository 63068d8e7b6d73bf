import type { Format } from '@stash/client/core';

// The web UI checks a value against its format before saving (the API never does, compat 5.2).
// Each check uses a maintained parser of that format and reports its message; the user may
// still "Submit Anyway". Each parser loads on its format's first check: together they hold
// about 12 MB, which a server whose users never save XML or TOML need not carry.

type Check = (text: string) => string | undefined | Promise<string | undefined>;

const message = (error: unknown): string => (error instanceof Error ? error.message : String(error)).trim();

function checkJson(text: string): string | undefined {
  try {
    JSON.parse(text);
    return undefined;
  } catch (error) {
    return message(error);
  }
}

async function checkYaml(text: string): Promise<string | undefined> {
  const { parseAllDocuments } = await import('yaml');
  for (const doc of parseAllDocuments(text)) {
    const first = doc.errors[0];
    if (first) return first.message.trim();
  }
  return undefined;
}

async function checkXml(text: string): Promise<string | undefined> {
  const { XMLValidator } = await import('fast-xml-parser');
  const result = XMLValidator.validate(text);
  if (result === true) return undefined;
  const { msg, line, col } = result.err;
  // no start tag at all: what the original reports for a document without a root element
  if (result.err.code === 'InvalidXml' && msg === 'Start tag expected.') return 'no root element found';
  return `${msg} (line ${line}${col === undefined ? '' : `, column ${col}`})`;
}

async function checkToml(text: string): Promise<string | undefined> {
  const { parse: parseToml } = await import('smol-toml');
  try {
    parseToml(text);
    return undefined;
  } catch (error) {
    return message(error);
  }
}

const INI_SECTION = /^\[[^\]]*\]\s*(?:[;#].*)?$/;

/** INI as gopkg.in/ini reads it: comments, `[section]` headers and `key = value` or `key: value` lines. */
function checkIni(text: string): string | undefined {
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const line = (lines[i] ?? '').trim();
    if (line === '' || line.startsWith(';') || line.startsWith('#')) continue;
    if (line.startsWith('[')) {
      if (!INI_SECTION.test(line)) return `line ${i + 1}: unclosed section: ${line}`;
      continue;
    }
    const delimiter = line.search(/[=:]/);
    if (delimiter === -1) return `line ${i + 1}: key-value delimiter not found: ${line}`;
    if (delimiter === 0) return `line ${i + 1}: empty key: ${line}`;
  }
  return undefined;
}

// HashiCorp's own HCL 2 parser compiled to WebAssembly; loaded on the first HCL value only
let hclParser: Promise<(file: string, text: string) => Promise<unknown>> | undefined;

async function checkHcl(text: string): Promise<string | undefined> {
  hclParser ??= import('@cdktf/hcl2json').then((m) => m.parse);
  try {
    await (await hclParser)('value.hcl', text);
    return undefined;
  } catch (error) {
    // "parse config: [diag; diag]": keep the diagnostics
    return message(error).replace(/^parse config: \[(.*)\]$/s, '$1');
  }
}

const CHECKS: Partial<Record<Format, Check>> = {
  json: checkJson,
  yaml: checkYaml,
  xml: checkXml,
  toml: checkToml,
  ini: checkIni,
  hcl: checkHcl,
};

/**
 * What is wrong with `text` as `format` ("invalid json: ..."), or undefined when it parses or
 * the format has no syntax to check (text, shell).
 */
export async function formatProblem(format: Format, text: string): Promise<string | undefined> {
  const check = CHECKS[format];
  if (!check) return undefined;
  const problem = await check(text);
  return problem === undefined ? undefined : `invalid ${format}: ${problem}`;
}

import { parseDuration } from './duration.js';
import type { OptionSpec } from './options.js';

export type OptionValue = string | boolean | number | string[];
export type OptionValues = Record<string, OptionValue>;

/** A command-line or environment error: the original prints it and exits 1. */
export class FlagError extends Error {
  override readonly name = 'FlagError';
}

const TRUE = new Set(['true', '1', 't', 'yes']);
const FALSE = new Set(['false', '0', 'f', 'no', '']);

function convert(spec: OptionSpec, raw: string, source: string): OptionValue {
  const where = `invalid argument for flag \`${source}'`;
  switch (spec.kind) {
    case 'string':
      return raw;
    case 'bool': {
      const v = raw.toLowerCase();
      if (TRUE.has(v)) return true;
      if (FALSE.has(v)) return false;
      throw new FlagError(`${where} (expected bool): strconv.ParseBool: parsing "${raw}": invalid syntax`);
    }
    case 'int': {
      if (!/^[+-]?\d+$/.test(raw.trim())) {
        throw new FlagError(`${where} (expected int): strconv.ParseInt: parsing "${raw}": invalid syntax`);
      }
      const n = Number(raw);
      if (!Number.isSafeInteger(n)) {
        throw new FlagError(`${where} (expected int): strconv.ParseInt: parsing "${raw}": value out of range`);
      }
      return n;
    }
    case 'float': {
      const n = Number(raw);
      if (raw.trim() === '' || Number.isNaN(n)) {
        throw new FlagError(`${where} (expected float64): strconv.ParseFloat: parsing "${raw}": invalid syntax`);
      }
      return n;
    }
    case 'duration':
      try {
        return parseDuration(raw);
      } catch (e) {
        throw new FlagError(`${where} (expected time.Duration): ${(e as Error).message}`);
      }
    case 'list':
      return raw === '' ? [] : raw.split(',').map((s) => s.trim()).filter((s) => s !== '');
  }
}

const NUMERIC = new Set<OptionSpec['kind']>(['int', 'float', 'duration']);
const looksLikeOption = (arg: string): boolean => arg.length > 1 && arg.startsWith('-');

export interface ParseResult {
  values: OptionValues;
  /** arguments that are not options, in order */
  positional: string[];
  help: boolean;
}

/**
 * Parse argv against option specs with go-flags conventions: `--name value`, `--name=value`,
 * `-d value`, bare booleans; then fill the rest from the environment, then defaults.
 */
export function parseOptions(
  argv: readonly string[],
  specs: readonly OptionSpec[],
  env: Readonly<Record<string, string | undefined>>,
): ParseResult {
  const byLong = new Map(specs.map((s) => [s.long, s]));
  const byShort = new Map(specs.filter((s) => s.short).map((s) => [s.short as string, s]));
  const values: OptionValues = {};
  const positional: string[] = [];
  let help = false;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (arg === '--') {
      positional.push(...argv.slice(i + 1));
      break;
    }
    if (arg === '-h' || arg === '--help') {
      help = true;
      continue;
    }
    let spec: OptionSpec | undefined;
    let inline: string | undefined;
    let shown: string;
    if (arg.startsWith('--')) {
      const eq = arg.indexOf('=');
      const name = eq === -1 ? arg.slice(2) : arg.slice(2, eq);
      inline = eq === -1 ? undefined : arg.slice(eq + 1);
      spec = byLong.get(name);
      shown = `--${name}`;
      if (!spec) throw new FlagError(`unknown flag \`${name}'`);
    } else if (arg.startsWith('-') && arg.length > 1) {
      const name = arg.slice(1, 2);
      inline = arg.length > 2 ? arg.slice(arg[2] === '=' ? 3 : 2) : undefined;
      spec = byShort.get(name);
      shown = `-${name}`;
      if (!spec) throw new FlagError(`unknown flag \`${name}'`);
    } else {
      positional.push(arg);
      continue;
    }
    let raw: string;
    if (spec.kind === 'bool') {
      raw = inline ?? 'true';
    } else if (inline !== undefined) {
      raw = inline;
    } else {
      const next = argv[i + 1];
      if (next === undefined) throw new FlagError(`expected argument for flag \`${shown}'`);
      if (looksLikeOption(next) && !(NUMERIC.has(spec.kind) && /^-\d/.test(next))) {
        throw new FlagError(`expected argument for flag \`${shown}', but got option \`${next}'`);
      }
      raw = next;
      i++;
    }
    const value = convert(spec, raw, shown);
    const prev = values[spec.long];
    values[spec.long] = spec.kind === 'list' && Array.isArray(prev) ? [...prev, ...(value as string[])] : value;
  }
  for (const spec of specs) {
    if (spec.long in values) continue;
    const fromEnv = spec.env === undefined ? undefined : env[spec.env];
    if (fromEnv !== undefined && fromEnv !== '') values[spec.long] = convert(spec, fromEnv, `$${spec.env}`);
    else if (spec.default !== undefined) values[spec.long] = convert(spec, spec.default, `--${spec.long}`);
    else if (spec.kind === 'bool') values[spec.long] = false;
  }
  return { values, positional, help };
}

/** go-flags style help text for a set of options. */
export function formatHelp(usage: string, specs: readonly OptionSpec[]): string {
  const lines = [`Usage:\n  ${usage}\n`];
  let group = '';
  for (const s of specs) {
    if (s.group !== group) {
      group = s.group;
      lines.push(`\n${group === 'Application Options' ? 'Application Options' : `${group} options`}:`);
    }
    const flag = `${s.short ? `-${s.short}, ` : '    '}--${s.long}${s.kind === 'bool' ? '' : '='}`;
    const def = s.default !== undefined && s.default !== '' ? ` (default: ${s.default})` : '';
    const env = s.env ? ` [$${s.env}]` : '';
    lines.push(`  ${flag.padEnd(34)} ${s.description}${def}${env}`);
  }
  lines.push('\nHelp Options:\n  -h, --help                         Show this help message\n');
  lines.push('Available commands:\n  server   run the stash server\n  restore  restore keys from a git revision\n  get, set, rm, ls, history, rollback, export, import, watch   client commands (stash help client)\n  help, completion   every command and its flags (stash help); shell completion (stash completion bash|zsh|fish)');
  return lines.join('\n');
}

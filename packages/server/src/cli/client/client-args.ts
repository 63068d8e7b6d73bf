import { FORMATS } from '@stash/client/core';
import { didYouMean } from '../suggest.js';
import { UsageError } from './exit-codes.js';

export type ClientFlag =
  | 'url'
  | 'token'
  | 'zk-key'
  | 'format'
  | 'json'
  | 'to'
  | 'limit'
  | 'if-revision'
  | 'from'
  | 'prefix'
  | 'yes'
  | 'dry-run'
  | 'help';

export interface FlagSpec {
  takesValue: boolean;
  /** environment variable used when the flag is absent */
  env?: string;
  help: string;
  /** what the value is, in help (`--url URL`) */
  value?: string;
  /** the values it takes, for help and shell completion */
  choices?: readonly string[];
}

/** Flags the client commands understand; each command lists the ones it accepts. */
export const CLIENT_FLAGS: Readonly<Record<ClientFlag, FlagSpec>> = {
  url: { takesValue: true, value: 'URL', env: 'STASH_URL', help: 'server URL (default http://127.0.0.1:8080)' },
  token: { takesValue: true, value: 'TOKEN', env: 'STASH_TOKEN', help: 'API token (Authorization: Bearer)' },
  'zk-key': { takesValue: true, value: 'PASSPHRASE', env: 'STASH_ZK_KEY', help: 'zero-knowledge passphrase (>= 16 bytes)' },
  format: { takesValue: true, value: 'FORMAT', choices: FORMATS, help: `value format: ${FORMATS.join(' ')}` },
  json: { takesValue: false, help: 'print JSON instead of a table or message' },
  to: { takesValue: true, value: 'REVISION', help: 'revision to roll back to' },
  limit: { takesValue: true, value: 'N', help: 'most history entries to show' },
  'if-revision': { takesValue: true, value: 'N', help: 'only if the key is at this revision (0 = only if absent); else exit 4' },
  from: { takesValue: true, value: 'PEER', choices: ['consul', 'etcd', 'vault'], help: 'the file is `consul kv export`, `etcdctl get -w json` or `vault kv get -format=json` output' },
  prefix: { takesValue: true, value: 'PREFIX', help: 'put every imported key under PREFIX/' },
  yes: { takesValue: false, help: 'apply without asking (on a terminal, import asks first)' },
  'dry-run': { takesValue: false, help: 'show what would be created, updated or left alone; write nothing' },
  help: { takesValue: false, help: 'show help' },
};

export interface ClientArgs {
  command: string;
  positional: string[];
  flags: Partial<Record<ClientFlag, string | true>>;
}

const SHORT: Record<string, ClientFlag> = { h: 'help' };

function isFlag(name: string): name is ClientFlag {
  return Object.hasOwn(CLIENT_FLAGS, name);
}

/**
 * Split `stash <command> [args] [--flag value | --flag=value]` (flags anywhere; `--` ends
 * flags, a lone `-` is a positional meaning stdin).
 * @throws UsageError for unknown flags or missing flag values
 */
export function parseClientArgs(argv: readonly string[]): ClientArgs {
  const positional: string[] = [];
  const flags: ClientArgs['flags'] = {};
  let onlyPositional = false;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] ?? '';
    if (onlyPositional || arg === '-' || !arg.startsWith('-')) {
      positional.push(arg);
      continue;
    }
    if (arg === '--') {
      onlyPositional = true;
      continue;
    }
    const eq = arg.indexOf('=');
    const raw = arg.startsWith('--') ? arg.slice(2, eq === -1 ? undefined : eq) : arg.slice(1);
    const name = SHORT[raw] ?? raw;
    if (!isFlag(name)) {
      const typed = arg.split('=')[0] ?? arg;
      const hint = typed.startsWith('--') ? didYouMean(raw, Object.keys(CLIENT_FLAGS), (n) => `--${n}`) : '';
      throw new UsageError(`unknown flag ${typed}.${hint}`.replace(/\.$/, ''));
    }
    if (!CLIENT_FLAGS[name].takesValue) {
      if (eq !== -1) throw new UsageError(`flag --${name} takes no value`);
      flags[name] = true;
      continue;
    }
    let value: string | undefined;
    if (eq !== -1) value = arg.slice(eq + 1);
    else value = argv[++i];
    if (value === undefined) throw new UsageError(`flag --${name} needs a value`);
    flags[name] = value;
  }
  const [command = '', ...rest] = positional;
  return { command, positional: rest, flags };
}

/** A flag's value, else its environment variable, else undefined. */
export function flagOrEnv(args: ClientArgs, name: ClientFlag, env: NodeJS.ProcessEnv): string | undefined {
  const value = args.flags[name];
  if (typeof value === 'string') return value;
  const spec = CLIENT_FLAGS[name];
  const fromEnv = spec.env === undefined ? undefined : env[spec.env];
  return fromEnv === undefined || fromEnv === '' ? undefined : fromEnv;
}

/** A flag as one command documents it: its own help text and choices where it has them. */
export function flagSpecFor(overrides: Partial<Record<ClientFlag, Partial<FlagSpec>>> | undefined, flag: ClientFlag): FlagSpec {
  return { ...CLIENT_FLAGS[flag], ...overrides?.[flag] };
}

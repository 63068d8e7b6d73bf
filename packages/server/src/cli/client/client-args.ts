import { UsageError } from './exit-codes.js';

export type ClientFlag = 'url' | 'token' | 'zk-key' | 'format' | 'json' | 'to' | 'limit' | 'if-revision' | 'help';

export interface FlagSpec {
  takesValue: boolean;
  /** environment variable used when the flag is absent */
  env?: string;
  help: string;
}

/** Flags the client commands understand; each command lists the ones it accepts. */
export const CLIENT_FLAGS: Readonly<Record<ClientFlag, FlagSpec>> = {
  url: { takesValue: true, env: 'STASH_URL', help: 'server URL (default http://127.0.0.1:8080)' },
  token: { takesValue: true, env: 'STASH_TOKEN', help: 'API token (Authorization: Bearer)' },
  'zk-key': { takesValue: true, env: 'STASH_ZK_KEY', help: 'zero-knowledge passphrase (>= 16 bytes)' },
  format: { takesValue: true, help: 'value format: text json yaml xml toml ini hcl shell' },
  json: { takesValue: false, help: 'print JSON instead of a table' },
  to: { takesValue: true, help: 'revision to roll back to' },
  limit: { takesValue: true, help: 'most history entries to show' },
  'if-revision': { takesValue: true, help: 'only if the key is at this revision (0 = only if absent); else exit 4' },
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
    if (!isFlag(name)) throw new UsageError(`unknown flag ${arg.split('=')[0] ?? arg}`);
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

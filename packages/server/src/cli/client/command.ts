import type { Client } from '@stash/client';
import type { ClientArgs, ClientFlag, FlagSpec } from './client-args.js';
import { UsageError } from './exit-codes.js';
import type { CliIo } from './terminal.js';

/** What a client command gets: its parsed arguments, the streams and a lazily built Client. */
export interface CommandContext {
  args: ClientArgs;
  io: CliIo;
  env: NodeJS.ProcessEnv;
  /** the Client for --url/--token/--zk-key (or STASH_URL/STASH_TOKEN/STASH_ZK_KEY), built on first use */
  client(): Client;
}

/** One entry of the command table in run.ts. */
export interface ClientCommand {
  /** e.g. `set KEY [VALUE|-] [--format F]` */
  usage: string;
  summary: string;
  /** flags accepted on top of --url, --token, --zk-key and --help */
  flags: readonly ClientFlag[];
  /** a flag's help (and choices) where this command uses it differently from CLIENT_FLAGS */
  flagHelp?: Partial<Record<ClientFlag, Partial<FlagSpec>>>;
  /** what the positional arguments are, for shell completion: keys (from `stash ls`), files or nothing */
  completes?: 'keys' | 'files';
  /** resolves to the exit code; thrown errors are mapped by exitCodeFor() */
  run(ctx: CommandContext): Promise<number>;
}

/** The positional arguments, checked against the count the command takes. */
export function positionals(ctx: CommandContext, min: number, max: number, names: string): string[] {
  const { positional } = ctx.args;
  if (positional.length < min) throw new UsageError(`missing ${names}`);
  if (positional.length > max) throw new UsageError(`unexpected argument "${positional[max] ?? ''}"`);
  return positional;
}

import { Client, isStashError } from '@stash/client';
import { CLIENT_FLAGS, flagOrEnv, parseClientArgs, type ClientArgs, type ClientFlag } from './client-args.js';
import type { ClientCommand, CommandContext } from './command.js';
import { EXIT, UsageError, exitCodeFor } from './exit-codes.js';
import { ImportFileError } from './import-source.js';
import { getCommand, historyCommand, lsCommand, rmCommand, rollbackCommand, setCommand } from './kv-commands.js';
import { processIo, type CliIo } from './terminal.js';
import { exportCommand, importCommand } from './transfer-commands.js';
import { watchCommand } from './watch-command.js';

export const DEFAULT_URL = 'http://127.0.0.1:8080';
const COMMON_FLAGS: readonly ClientFlag[] = ['url', 'token', 'zk-key', 'help'];

/** The client commands; one line per command. */
export const CLIENT_COMMANDS: Record<string, ClientCommand> = {
  get: getCommand,
  set: setCommand,
  rm: rmCommand,
  ls: lsCommand,
  history: historyCommand,
  rollback: rollbackCommand,
  export: exportCommand,
  import: importCommand,
  watch: watchCommand,
};

function commandHelp(name: string, command: ClientCommand): string {
  const flags = [...command.flags, ...COMMON_FLAGS]
    .map((flag) => {
      const spec = CLIENT_FLAGS[flag];
      const env = spec.env === undefined ? '' : ` [$${spec.env}]`;
      return `  --${flag}${spec.takesValue ? ' VALUE' : ''}\t${spec.help}${env}`;
    })
    .join('\n');
  return `Usage: stash ${command.usage}\n\n${command.summary}\n\nFlags:\n${flags}\n\n(${name}) exit codes: 0 ok, 1 not found, 2 usage, 3 auth, 4 conflict, 5 other\n`;
}

function checkFlags(args: ClientArgs, command: ClientCommand): void {
  for (const flag of Object.keys(args.flags) as ClientFlag[]) {
    if (!COMMON_FLAGS.includes(flag) && !command.flags.includes(flag)) {
      throw new UsageError(`flag --${flag} is not valid for "${args.command}"`);
    }
  }
}

function makeContext(args: ClientArgs, io: CliIo, env: NodeJS.ProcessEnv): { ctx: CommandContext; close(): void } {
  let client: Client | undefined;
  const ctx: CommandContext = {
    args,
    io,
    env,
    client: () => {
      client ??= new Client(flagOrEnv(args, 'url', env) ?? DEFAULT_URL, {
        token: flagOrEnv(args, 'token', env),
        zkKey: flagOrEnv(args, 'zk-key', env),
      });
      return client;
    },
  };
  return { ctx, close: () => client?.close() };
}

/**
 * Run `stash <client command> ...` and resolve to its exit code: 0 ok, 1 not found, 2 usage,
 * 3 auth (401/403), 4 conflict (412), 5 anything else. Never throws.
 */
export async function runClientCommand(argv: readonly string[], env: NodeJS.ProcessEnv, io: CliIo = processIo()): Promise<number> {
  let args: ClientArgs;
  try {
    args = parseClientArgs(argv);
  } catch (error) {
    io.err(`stash: ${(error as Error).message}\n`);
    return EXIT.usage;
  }
  const command = CLIENT_COMMANDS[args.command];
  if (!command) {
    io.err(`stash: unknown command "${args.command}"; one of: ${Object.keys(CLIENT_COMMANDS).join(', ')}\n`);
    return EXIT.usage;
  }
  if (args.flags.help === true) {
    io.out(commandHelp(args.command, command));
    return EXIT.ok;
  }
  const { ctx, close } = makeContext(args, io, env);
  try {
    checkFlags(args, command);
    return await command.run(ctx);
  } catch (error) {
    const code = exitCodeFor(error);
    const message = error instanceof Error ? error.message : String(error);
    io.err(`stash ${args.command}: ${message}\n`);
    if (code === EXIT.usage) io.err(`usage: stash ${command.usage}\n`);
    else if (!isStashError(error) && !(error instanceof ImportFileError)) io.err(`${(error as Error).stack ?? ''}\n`);
    return code;
  } finally {
    close();
  }
}

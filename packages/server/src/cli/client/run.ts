import {
  Client,
  isConflictError,
  isConnectionError,
  isForbiddenError,
  isInvalidArgumentError,
  isNotFoundError,
  isResponseError,
  isStashError,
  isUnauthorizedError,
} from '@stash/client';
import { COMMAND_NAMES } from '../commands.js';
import { unknownCommandMessage } from '../suggest.js';
import { flagOrEnv, flagSpecFor, parseClientArgs, type ClientArgs, type ClientFlag } from './client-args.js';
import type { ClientCommand, CommandContext } from './command.js';
import { EXIT, EXIT_CODE_LINES, UsageError, type ExitCode } from './exit-codes.js';
import { ImportFileError } from './import-source.js';
import { getCommand, historyCommand, lsCommand, rmCommand, rollbackCommand, setCommand } from './kv-commands.js';
import { paint, processIo, type CliIo } from './terminal.js';
import { exportCommand, importCommand } from './transfer-commands.js';
import { watchCommand } from './watch-command.js';

export const DEFAULT_URL = 'http://127.0.0.1:8080';
export const COMMON_FLAGS: readonly ClientFlag[] = ['url', 'token', 'zk-key', 'help'];

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

/** `--flag VALUE  help [$ENV]` lines, aligned. */
export function flagLines(command: ClientCommand | undefined, flags: readonly ClientFlag[]): string {
  const rows = flags.map((flag) => {
    const spec = flagSpecFor(command?.flagHelp, flag);
    const name = `--${flag}${spec.takesValue ? ` ${spec.value ?? 'VALUE'}` : ''}`;
    const env = spec.env === undefined ? '' : ` [$${spec.env}]`;
    return [name, `${spec.help}${env}`] as const;
  });
  const width = Math.max(...rows.map(([name]) => name.length));
  return rows.map(([name, help]) => `  ${name.padEnd(width)}  ${help}\n`).join('');
}

export function exitCodeHelp(): string {
  return EXIT_CODE_LINES.map(([code, meaning]) => `  ${code}  ${meaning}\n`).join('');
}

/** `stash COMMAND --help` and `stash help COMMAND` for a client command. */
export function commandHelp(name: string, command: ClientCommand): string {
  const own = command.flags.length === 0 ? '' : `\nFlags:\n${flagLines(command, command.flags)}`;
  return `Usage: stash ${command.usage}\n\n${command.summary}\n${own}\nClient flags:\n${flagLines(command, COMMON_FLAGS)}\nExit codes (of \`stash ${name}\` and every client command):\n${exitCodeHelp()}`;
}

/** Exit code for an error thrown by a command. */
export function exitCodeFor(error: unknown): ExitCode {
  if (error instanceof UsageError || isInvalidArgumentError(error)) return EXIT.usage;
  if (isConnectionError(error)) return EXIT.connection;
  if (isNotFoundError(error)) return EXIT.notFound;
  if (isUnauthorizedError(error) || isForbiddenError(error)) return EXIT.auth;
  if (isConflictError(error) || (isResponseError(error) && error.status === 409)) return EXIT.conflict;
  return EXIT.other;
}

function checkFlags(args: ClientArgs, command: ClientCommand): void {
  for (const flag of Object.keys(args.flags) as ClientFlag[]) {
    if (!COMMON_FLAGS.includes(flag) && !command.flags.includes(flag)) {
      const valid = [...command.flags, ...COMMON_FLAGS].map((f) => `--${f}`).join(' ');
      throw new UsageError(`flag --${flag} is not valid for "${args.command}" (its flags: ${valid})`);
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
 * Run `stash <client command> ...` and resolve to its exit code (EXIT: 0 ok, 1 not found,
 * 2 usage, 3 auth, 4 conflict, 5 other, 6 cannot reach the server). Never throws.
 */
export async function runClientCommand(argv: readonly string[], env: NodeJS.ProcessEnv, io: CliIo = processIo(env)): Promise<number> {
  const fail = (text: string): void => io.err(`${paint(io.stderrColor, 'red', 'stash')}${text}`);
  let args: ClientArgs;
  try {
    args = parseClientArgs(argv);
  } catch (error) {
    fail(`: ${(error as Error).message}\n`);
    return EXIT.usage;
  }
  const command = CLIENT_COMMANDS[args.command];
  if (!command) {
    io.err(unknownCommandMessage(args.command, COMMAND_NAMES));
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
    fail(` ${args.command}: ${message}\n`);
    if (code === EXIT.usage) io.err(`usage: stash ${command.usage} (stash ${args.command} --help for more)\n`);
    else if (!isStashError(error) && !(error instanceof ImportFileError)) io.err(`${(error as Error).stack ?? ''}\n`);
    return code;
  } finally {
    close();
  }
}


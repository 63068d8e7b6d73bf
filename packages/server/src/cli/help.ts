import { formatHelp } from '../config/flag-parser.js';
import { GLOBAL_OPTIONS, RESTORE_OPTIONS } from '../config/options.js';
import { EXIT } from './client/exit-codes.js';
import { CLIENT_COMMANDS, COMMON_FLAGS, commandHelp, exitCodeHelp, flagLines } from './client/run.js';
import { COMMAND_NAMES, COMMANDS, HELP_TOPICS, type CommandEntry } from './commands.js';
import { COMPLETION_HELP } from './completion.js';
import { unknownCommandMessage } from './suggest.js';

export const SERVER_USAGE = 'stash [OPTIONS] server';
export const RESTORE_USAGE = 'stash [OPTIONS] restore --rev=REV';

const SERVER_EXIT_CODES =
  'stash server and stash restore keep the exit codes of the original Go stash: 0 after a clean\n' +
  'shutdown, 1 for a flag or start-up error (or a failed restore), 2 when no command is given;\n' +
  'an unknown command exits 2.\n';

function commandList(entries: readonly CommandEntry[]): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length));
  return entries.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}\n`).join('');
}

const group = (name: CommandEntry['group']): CommandEntry[] => COMMANDS.filter((c) => c.group === name);

/** `stash help`: every command, the client flags and the exit codes. */
export function overviewHelp(): string {
  return (
    'stash: a key-value configuration service; the same command runs the server and talks to it.\n\n' +
    'Usage:\n  stash [OPTIONS] server | restore --rev=REV\n  stash COMMAND [ARGS] [FLAGS]\n  stash help [COMMAND]\n\n' +
    `Server commands:\n${commandList(group('server'))}\n` +
    `Client commands (they talk to a running server):\n${commandList(group('client'))}\n` +
    `Other commands:\n${commandList(group('other'))}\n` +
    `Client flags (every client command, before or after it; env var in brackets):\n${flagLines(undefined, COMMON_FLAGS)}\n` +
    `Exit codes of the client commands, help and completion:\n${exitCodeHelp()}${SERVER_EXIT_CODES}\n` +
    'Run `stash help COMMAND` or `stash COMMAND --help` for the flags of one command.\n' +
    'Output: tables and colour on a terminal (NO_COLOR turns colour off); tab-separated, no header and\n' +
    'exact bytes when piped; --json where a command prints a list or a record.\n'
  );
}

function clientTopic(): string {
  const commands = Object.entries(CLIENT_COMMANDS).map(([, c]) => `  stash ${c.usage}\n`).join('');
  return `Client commands:\n${commands}\nClient flags:\n${flagLines(undefined, COMMON_FLAGS)}\nExit codes:\n${exitCodeHelp()}`;
}

const HELP_HELP = 'Usage: stash help [COMMAND]\n\nShow help for stash, for one command, or for a topic: client (every client command), exit-codes.\n';

/** The help text of a command or topic, or undefined when there is no such thing. */
export function helpFor(topic: string): string | undefined {
  const client = CLIENT_COMMANDS[topic];
  if (client) return commandHelp(topic, client);
  switch (topic) {
    case 'server':
      return `${formatHelp(SERVER_USAGE, GLOBAL_OPTIONS)}\n`;
    case 'restore':
      return `${formatHelp(RESTORE_USAGE, [...GLOBAL_OPTIONS, ...RESTORE_OPTIONS])}\n`;
    case 'completion':
      return COMPLETION_HELP;
    case 'help':
      return HELP_HELP;
    case 'client':
      return clientTopic();
    case 'exit-codes':
      return `${exitCodeHelp()}${SERVER_EXIT_CODES}`;
    default:
      return undefined;
  }
}

/** `stash help [TOPIC]` (argv after `help`): 0 with the text on stdout, 2 for an unknown topic. */
export function runHelp(argv: readonly string[], out: (text: string) => void, err: (text: string) => void): number {
  const topics = argv.filter((a) => a !== '--help' && a !== '-h');
  if (topics.length === 0) {
    out(overviewHelp());
    return EXIT.ok;
  }
  const [topic = '', extra] = topics;
  if (extra !== undefined) {
    err(`stash help: one command at a time (got "${topic}" and "${extra}")\n${HELP_HELP}`);
    return EXIT.usage;
  }
  const text = helpFor(topic);
  if (text === undefined) {
    err(unknownCommandMessage(topic, [...COMMAND_NAMES, ...HELP_TOPICS]));
    return EXIT.usage;
  }
  out(text);
  return EXIT.ok;
}

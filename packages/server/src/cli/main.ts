import { FlagError, formatHelp, parseOptions } from '../config/flag-parser.js';
import { GLOBAL_OPTIONS, RESTORE_OPTIONS } from '../config/options.js';
import { buildServerConfig } from '../config/server-config.js';
import { createLogger } from '../logger.js';
import { CLIENT_FLAGS } from './client/client-args.js';
import { EXIT } from './client/exit-codes.js';
import { CLIENT_COMMAND_NAMES, COMMAND_NAMES } from './commands.js';
import { didYouMean, unknownCommandMessage } from './suggest.js';
import { readVersion } from './version.js';

// flags that take a separate value (`--url X get k`, `--db X server`), so X is not taken for the command
const VALUE_FLAGS = new Set([
  ...Object.entries(CLIENT_FLAGS).filter(([, spec]) => spec.takesValue).map(([name]) => `--${name}`),
  ...[...GLOBAL_OPTIONS, ...RESTORE_OPTIONS].filter((s) => s.kind !== 'bool').flatMap((s) => [`--${s.long}`, ...(s.short ? [`-${s.short}`] : [])]),
]);

/** The first argument that is neither a flag nor the value of a flag. */
function firstCommand(argv: readonly string[]): string | undefined {
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (arg === '--') return argv[i + 1];
    if (VALUE_FLAGS.has(arg)) i++;
    else if (!arg.startsWith('-') || arg === '-') return arg;
  }
  return undefined;
}

const rest = (argv: readonly string[], command: string): string[] => argv.filter((a, i) => i !== argv.indexOf(command));

/** A go-flags error, plus the flag meant when an unknown one is a typo of a known one. */
function flagErrorText(error: FlagError, specs: readonly { long: string }[]): string {
  const unknown = /^unknown flag `([^']{2,})'$/.exec(error.message)?.[1];
  const hint = unknown === undefined ? '' : didYouMean(unknown, specs.map((s) => s.long), (n) => `--${n}`).trim();
  return `${error.message}\n${hint === '' ? '' : `${hint}\n`}`;
}

/** `stash server` / `stash restore` with the original's go-flags behaviour, banner and exit codes. */
async function runServerCommand(argv: string[]): Promise<number> {
  const version = readVersion();
  const banner = (): void => {
    if (!process.env['GO_FLAGS_COMPLETION']) process.stdout.write(`stash ${version}\n`);
  };
  const isRestore = argv.includes('restore');
  const specs = isRestore ? [...GLOBAL_OPTIONS, ...RESTORE_OPTIONS] : GLOBAL_OPTIONS;
  const usage = 'stash [OPTIONS] <restore | server>';
  let parsed;
  try {
    parsed = parseOptions(argv, specs, process.env);
  } catch (error) {
    if (error instanceof FlagError) {
      banner();
      process.stderr.write(flagErrorText(error, specs));
      return 1;
    }
    throw error;
  }
  // with --log.format=json a running command's stdout holds JSON lines only: the version is logged
  const jsonLogs = parsed.values['log.format'] === 'json';
  if (!jsonLogs || parsed.help || parsed.values['version'] === true) banner();
  if (parsed.help) {
    process.stdout.write(`${formatHelp(usage, specs)}\n`);
    return 0;
  }
  if (parsed.values['version'] === true) return 0;
  const [command, ...extra] = parsed.positional;
  if (command === undefined) {
    process.stderr.write(`Please specify one command of: restore or server\n\n${formatHelp(usage, specs)}\n`);
    return 2;
  }
  if (extra.length > 0) {
    process.stderr.write(`stash ${command}: unexpected argument \`${extra[0] ?? ''}'; see stash help ${command}\n`);
    return EXIT.usage;
  }
  // an invalid --log.format is reported by buildServerConfig below, in the text format
  const log = createLogger({ debug: parsed.values['dbg'] === true, format: jsonLogs ? 'json' : 'text' });
  if (jsonLogs) log.info(`stash ${version}`);
  try {
    const config = buildServerConfig(parsed.values);
    if (command === 'restore') {
      const { runRestore } = await import('./restore-command.js');
      return await runRestore(config, String(parsed.values['rev'] ?? ''), log);
    }
    // loaded only for `server`: client commands must not pay for the server stack
    const { runServer } = await import('./server-command.js');
    return await runServer(config, version, log);
  } catch (error) {
    log.error(error instanceof Error ? error.message : String(error));
    return 1;
  }
}

/** Entry point of the `stash` bin: server commands, client commands, help and completion. */
async function main(argv: string[]): Promise<number> {
  const out = (text: string): void => void process.stdout.write(text);
  const err = (text: string): void => void process.stderr.write(text);
  const first = firstCommand(argv);
  if (first !== undefined && CLIENT_COMMAND_NAMES.includes(first)) {
    const { runClientCommand } = await import('./client/run.js');
    return runClientCommand(argv, process.env);
  }
  if (first === 'help') {
    const { runHelp } = await import('./help.js');
    return runHelp(rest(argv, first), out, err);
  }
  if (first === 'completion') {
    const { runCompletion } = await import('./completion.js');
    return runCompletion(rest(argv, first), out, err);
  }
  if (first !== undefined && first !== 'server' && first !== 'restore') {
    err(unknownCommandMessage(first, COMMAND_NAMES));
    return EXIT.usage;
  }
  return runServerCommand(argv);
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`[ERROR] ${error instanceof Error ? error.stack ?? error.message : String(error)}\n`);
    process.exitCode = 1;
  },
);

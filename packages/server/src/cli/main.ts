import { FlagError, formatHelp, parseOptions } from '../config/flag-parser.js';
import { GLOBAL_OPTIONS, RESTORE_OPTIONS } from '../config/options.js';
import { buildServerConfig } from '../config/server-config.js';
import { createLogger } from '../logger.js';
import { readVersion } from './version.js';

const CLIENT_COMMANDS = new Set(['get', 'set', 'rm', 'ls', 'history', 'rollback', 'export', 'import', 'watch']);
// client flags that take a separate value (`--url X get k`), so X is not taken for the command
const CLIENT_VALUE_FLAGS = new Set(['--url', '--token', '--zk-key', '--format', '--to', '--limit', '--if-revision']);

/** The first argument that is neither a flag nor the value of a client flag. */
function firstCommand(argv: readonly string[]): string | undefined {
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (CLIENT_VALUE_FLAGS.has(arg)) i++;
    else if (!arg.startsWith('-')) return arg;
  }
  return undefined;
}

/** Entry point of the `stash` bin: `server`, `restore`, or one of the client commands. */
async function main(argv: string[]): Promise<number> {
  const first = firstCommand(argv);
  if (first !== undefined && CLIENT_COMMANDS.has(first)) {
    const { runClientCommand } = await import('./client/run.js');
    return runClientCommand(argv, process.env);
  }
  const version = readVersion();
  if (!process.env['GO_FLAGS_COMPLETION']) process.stdout.write(`stash ${version}\n`);
  const isRestore = argv.includes('restore');
  const specs = isRestore ? [...GLOBAL_OPTIONS, ...RESTORE_OPTIONS] : GLOBAL_OPTIONS;
  const usage = 'stash [OPTIONS] <restore | server>';
  let parsed;
  try {
    parsed = parseOptions(argv, specs, process.env);
  } catch (error) {
    if (error instanceof FlagError) {
      process.stderr.write(`${error.message}\n`);
      return 1;
    }
    throw error;
  }
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
  if (extra.length > 0 || (command !== 'server' && command !== 'restore')) {
    process.stderr.write(`Unknown command \`${command}'. Please specify one command of: restore or server\n`);
    return 1;
  }
  const log = createLogger({ debug: parsed.values['dbg'] === true });
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

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`[ERROR] ${error instanceof Error ? error.stack ?? error.message : String(error)}\n`);
    process.exitCode = 1;
  },
);

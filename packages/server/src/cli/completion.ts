import { GLOBAL_OPTIONS, RESTORE_OPTIONS, type OptionSpec } from '../config/options.js';
import { flagSpecFor } from './client/client-args.js';
import { EXIT } from './client/exit-codes.js';
import { CLIENT_COMMANDS, COMMON_FLAGS } from './client/run.js';
import { COMMAND_NAMES, COMMANDS, HELP_TOPICS } from './commands.js';
import type { CompletionCommand, CompletionFlag } from './completion-model.js';
import { bashScript, fishScript, zshScript } from './completion-scripts.js';

export const SHELLS = ['bash', 'zsh', 'fish'] as const;
export type Shell = (typeof SHELLS)[number];

const FILE_OPTIONS = new Set(['db', 'auth.file', 'git.path', 'git.ssh-key']);

function serverFlags(specs: readonly OptionSpec[]): CompletionFlag[] {
  return specs.map((s) => ({
    name: s.long,
    ...(s.short === undefined ? {} : { short: s.short }),
    takesValue: s.kind !== 'bool',
    ...(s.long === 'db.sync' ? { choices: ['full', 'normal'] } : {}),
    ...(FILE_OPTIONS.has(s.long) ? { file: true } : {}),
    help: s.description,
  }));
}

const HELP_FLAG: CompletionFlag = { name: 'help', short: 'h', takesValue: false, help: 'show help' };

/** The client flags any client command takes; also offered before the command. */
export function commonFlags(): CompletionFlag[] {
  return COMMON_FLAGS.map((flag) => {
    const spec = flagSpecFor(undefined, flag);
    return { name: flag, takesValue: spec.takesValue, help: spec.help, ...(flag === 'help' ? { short: 'h' } : {}) };
  });
}

/** Every command with its flags, from the same tables the parsers use. */
export function completionModel(): CompletionCommand[] {
  const summary = (name: string): string => COMMANDS.find((c) => c.name === name)?.summary ?? '';
  const model: CompletionCommand[] = [
    { name: 'server', summary: summary('server'), flags: [...serverFlags(GLOBAL_OPTIONS), HELP_FLAG], args: { kind: 'none' } },
    { name: 'restore', summary: summary('restore'), flags: [...serverFlags([...GLOBAL_OPTIONS, ...RESTORE_OPTIONS]), HELP_FLAG], args: { kind: 'none' } },
  ];
  for (const [name, command] of Object.entries(CLIENT_COMMANDS)) {
    const flags = [...command.flags, ...COMMON_FLAGS].map((flag): CompletionFlag => {
      const spec = flagSpecFor(command.flagHelp, flag);
      return {
        name: flag,
        takesValue: spec.takesValue,
        help: spec.help,
        ...(spec.choices === undefined ? {} : { choices: spec.choices }),
        ...(flag === 'help' ? { short: 'h' } : {}),
      };
    });
    model.push({ name, summary: summary(name), flags, args: { kind: command.completes ?? 'none' } });
  }
  model.push(
    { name: 'completion', summary: summary('completion'), flags: [HELP_FLAG], args: { kind: 'choices', choices: SHELLS } },
    { name: 'help', summary: summary('help'), flags: [], args: { kind: 'choices', choices: [...COMMAND_NAMES, ...HELP_TOPICS] } },
  );
  return model;
}

export const COMPLETION_HELP = `Usage: stash completion bash|zsh|fish

Print a completion script for the shell: commands, their flags and the values of flags with a
fixed set of values. bash and zsh (and fish) also complete key names by running \`stash ls\`
when STASH_COMPLETE_KEYS=1 (it then uses STASH_URL and STASH_TOKEN from the environment).

  bash:  source <(stash completion bash)            # e.g. in ~/.bashrc
  zsh:   source <(stash completion zsh)             # or save it as _stash in a directory of $fpath
  fish:  stash completion fish | source             # or save it as ~/.config/fish/completions/stash.fish
`;

/** `stash completion SHELL` (argv after `completion`): the script on stdout. */
export function runCompletion(argv: readonly string[], out: (text: string) => void, err: (text: string) => void): number {
  if (argv.includes('--help') || argv.includes('-h')) {
    out(COMPLETION_HELP);
    return EXIT.ok;
  }
  const [shell, extra] = argv;
  if (shell === undefined || extra !== undefined || !(SHELLS as readonly string[]).includes(shell)) {
    const got = shell === undefined ? 'no shell given' : `not a shell this knows: ${argv.join(' ')}`;
    err(`stash completion: ${got}; one of: ${SHELLS.join(', ')}\n${COMPLETION_HELP}`);
    return EXIT.usage;
  }
  const model = completionModel();
  const script = shell === 'bash' ? bashScript(model, commonFlags()) : shell === 'zsh' ? zshScript(model, commonFlags()) : fishScript(model, commonFlags());
  out(script);
  return EXIT.ok;
}

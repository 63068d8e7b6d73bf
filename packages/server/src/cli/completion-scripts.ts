import type { CompletionCommand, CompletionFlag } from './completion-model.js';

// The three scripts are generated from one model, so a new command or flag reaches every shell.
// Key names come from `stash ls PREFIX | cut -f1` (tab-separated when piped), only when
// STASH_COMPLETE_KEYS=1: each completion then costs a request to the server.

const flagWords = (flags: readonly CompletionFlag[]): string =>
  flags.flatMap((f) => [`--${f.name}`, ...(f.short === undefined ? [] : [`-${f.short}`])]).join(' ');

const KEY_COMMANDS_NOTE = 'keys from `stash ls` when STASH_COMPLETE_KEYS=1';

/** bash: plain `complete -F`, no bash-completion package needed. */
export function bashScript(model: readonly CompletionCommand[], common: readonly CompletionFlag[]): string {
  const names = model.map((c) => c.name).join(' ');
  const cases = model
    .map((c) => {
      const words = (f: CompletionFlag): string => [`--${f.name}`, ...(f.short === undefined ? [] : [`-${f.short}`])].join('|');
      const valued = c.flags.filter((f) => f.takesValue);
      const free = valued.filter((f) => !f.choices).map(words);
      const valueCases = [
        ...valued.filter((f) => f.choices).map((f) => `        ${words(f)}) COMPREPLY=($(compgen -W "${(f.choices ?? []).join(' ')}" -- "$cur")); return 0 ;;`),
        // a free value, or a path (-o default then completes file names)
        ...(free.length === 0 ? [] : [`        ${free.join('|')}) return 0 ;;`]),
      ];
      let args = '      return 0';
      if (c.args.kind === 'keys') args = '      _stash_keys "$cur"';
      else if (c.args.kind === 'choices') args = `      COMPREPLY=($(compgen -W "${c.args.choices.join(' ')}" -- "$cur"))`;
      return [
        `    ${c.name})`,
        ...(valueCases.length === 0 ? [] : ['      case "$flag" in', ...valueCases, '      esac']),
        `      if [[ "$cur" == -* ]]; then COMPREPLY=($(compgen -W "${flagWords(c.flags)}" -- "$cur")); return 0; fi`,
        args,
        '      ;;',
      ].join('\n');
    })
    .join('\n');
  return `# bash completion for stash: source <(stash completion bash)
# ${KEY_COMMANDS_NOTE}

_stash_keys() {
  [[ "\${STASH_COMPLETE_KEYS:-}" == 1 ]] || return 0
  local key
  while IFS= read -r key; do
    [[ "$key" == "$1"* ]] && COMPREPLY+=("$key")
  done < <(_stash_bounded "\${_stash_bin:-stash}" ls "$1" 2>/dev/null | cut -f1)
}

# a server that hangs must not hang the shell: 3 s at most where coreutils timeout exists
_stash_bounded() {
  if command -v timeout >/dev/null 2>&1; then timeout 3 "$@"; else "$@"; fi
}

_stash() {
  local cur="\${COMP_WORDS[COMP_CWORD]}" flag="\${COMP_WORDS[COMP_CWORD-1]}" cmd="" i
  # --flag=VALUE is split at '=' by COMP_WORDBREAKS: the flag is then two words back
  if [[ "$flag" == "=" ]]; then flag="\${COMP_WORDS[COMP_CWORD-2]}"; fi
  if [[ "$cur" == "=" ]]; then cur=""; fi
  local _stash_bin="\${COMP_WORDS[0]}"
  COMPREPLY=()
  for ((i = 1; i < COMP_CWORD; i++)); do
    case "\${COMP_WORDS[i]}" in
      ${model.map((c) => c.name).join('|')}) cmd="\${COMP_WORDS[i]}"; break ;;
    esac
  done
  if [[ -z "$cmd" ]]; then
    case "$flag" in
      ${common.filter((f) => f.takesValue).map((f) => `--${f.name}`).join('|')}) return 0 ;;
    esac
    if [[ "$cur" == -* ]]; then COMPREPLY=($(compgen -W "${flagWords(common)} --version" -- "$cur")); return 0; fi
    COMPREPLY=($(compgen -W "${names}" -- "$cur"))
    return 0
  fi
  case "$cmd" in
${cases}
  esac
  return 0
}

complete -o default -F _stash stash
`;
}

/** zsh: `_arguments` per command; works from `source <(...)` and as an autoloaded `_stash`. */
export function zshScript(model: readonly CompletionCommand[], common: readonly CompletionFlag[]): string {
  // inside single quotes and _arguments' [...]: the escapes clap_complete's zsh generator uses
  const text = (s: string): string =>
    s
      .replace(/\\/g, '\\\\')
      .replace(/'/g, "'\\''")
      .replace(/([[\]:$`])/g, '\\$1');
  const spec = (f: CompletionFlag): string[] => {
    const action = f.choices ? `(${f.choices.join(' ')})` : f.file ? '_files' : ' ';
    const long = f.takesValue ? `'--${f.name}=[${text(f.help)}]:${f.name}:${action}'` : `'--${f.name}[${text(f.help)}]'`;
    if (f.short === undefined) return [long];
    const short = f.takesValue ? `'-${f.short}+[${text(f.help)}]:${f.name}:${action}'` : `'-${f.short}[${text(f.help)}]'`;
    return [long, short];
  };
  const args = (c: CompletionCommand): string => {
    if (c.args.kind === 'keys') return `'*:key:_stash_keys'`;
    if (c.args.kind === 'files') return `'*:file:_files'`;
    if (c.args.kind === 'choices') return `'1:${c.name === 'help' ? 'command' : 'shell'}:(${c.args.choices.join(' ')})'`;
    return '';
  };
  const cases = model
    .map((c) => {
      const lines = [...c.flags.flatMap(spec), args(c)].filter((l) => l !== '');
      return `      (${c.name})\n        _arguments -s \\\n          ${lines.join(' \\\n          ')} && ret=0\n        ;;`;
    })
    .join('\n');
  // _describe splits NAME:DESCRIPTION at the first colon only, so the description needs no \:
  const described = model.map((c) => `    '${c.name}:${c.summary.replace(/'/g, "'\\''")}'`).join('\n');
  return `#compdef stash
# zsh completion for stash: source <(stash completion zsh), or save as _stash in a directory of $fpath
# ${KEY_COMMANDS_NOTE}

_stash_keys() {
  [[ \${STASH_COMPLETE_KEYS:-} == 1 ]] || return 1
  local -a keys
  local -a run
  # a server that hangs must not hang the shell: 3 s at most where coreutils timeout exists
  if (( $+commands[timeout] )); then run=(timeout 3 stash ls "\${PREFIX}"); else run=(command stash ls "\${PREFIX}"); fi
  keys=(\${(f)"$(\${run[@]} 2>/dev/null | cut -f1)"})
  compadd -a keys
}

_stash() {
  local curcontext="$curcontext" state line ret=1
  typeset -A opt_args
  local -a commands
  commands=(
${described}
  )
  _arguments -C \\
    ${common.flatMap(spec).join(' \\\n    ')} \\
    '--version[show version and exit]' \\
    '1: :->command' \\
    '*:: :->args' && ret=0
  case $state in
    (command)
      _describe -t commands 'stash command' commands && ret=0
      ;;
    (args)
      case \${line[1]} in
${cases}
      esac
      ;;
  esac
  return ret
}

if [[ \${zsh_eval_context[-1]} == loadautofunc ]]; then
  _stash "$@"
else
  compdef _stash stash
fi
`;
}

/** fish: one `complete` line per command and flag. */
export function fishScript(model: readonly CompletionCommand[], common: readonly CompletionFlag[]): string {
  const quote = (s: string): string => `'${s.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
  const names = model.map((c) => c.name).join(' ');
  const flagLine = (condition: string, f: CompletionFlag): string => {
    const short = f.short === undefined ? '' : ` -s ${f.short}`;
    const value = f.choices ? ` -x -a ${quote(f.choices.join(' '))}` : f.file ? ' -r -F' : f.takesValue ? ' -x' : '';
    return `complete -c stash -n ${quote(condition)} -l ${f.name}${short}${value} -d ${quote(f.help)}`;
  };
  const lines = [
    '# fish completion for stash: stash completion fish | source',
    '# (or save as ~/.config/fish/completions/stash.fish)',
    `# ${KEY_COMMANDS_NOTE}`,
    '',
    'function __stash_keys',
    '    test "$STASH_COMPLETE_KEYS" = 1; or return',
    '    if command -q timeout',
    '        timeout 3 stash ls (commandline -ct) 2>/dev/null | string split -f1 \\t',
    '    else',
    '        command stash ls (commandline -ct) 2>/dev/null | string split -f1 \\t',
    '    end',
    'end',
    '',
    'complete -c stash -f',
    ...model.map((c) => `complete -c stash -n ${quote(`not __fish_seen_subcommand_from ${names}`)} -a ${c.name} -d ${quote(c.summary)}`),
    ...common.map((f) => flagLine(`not __fish_seen_subcommand_from ${names}`, f)),
  ];
  for (const c of model) {
    const when = `__fish_seen_subcommand_from ${c.name}`;
    lines.push('', ...c.flags.map((f) => flagLine(when, f)));
    if (c.args.kind === 'keys') lines.push(`complete -c stash -n ${quote(when)} -a '(__stash_keys)'`);
    else if (c.args.kind === 'files') lines.push(`complete -c stash -n ${quote(when)} -F`);
    else if (c.args.kind === 'choices') lines.push(`complete -c stash -n ${quote(when)} -x -a ${quote(c.args.choices.join(' '))}`);
  }
  return `${lines.join('\n')}\n`;
}

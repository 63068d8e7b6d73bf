// The shape the completion scripts are generated from; shared by completion.ts and completion-scripts.ts.

/** One flag as the completion scripts see it. */
export interface CompletionFlag {
  /** without the dashes */
  name: string;
  short?: string;
  takesValue: boolean;
  /** the values it takes, when it is a fixed list */
  choices?: readonly string[];
  /** its value is a path */
  file?: boolean;
  help: string;
}

/** One command: its flags and what its positional arguments are. */
export interface CompletionCommand {
  name: string;
  summary: string;
  flags: CompletionFlag[];
  args: { kind: 'keys' } | { kind: 'files' } | { kind: 'none' } | { kind: 'choices'; choices: readonly string[] };
}

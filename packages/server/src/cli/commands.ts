// Every command of the `stash` bin, with the one line `stash help` shows for it. Kept free of
// imports so main.ts can route (and suggest a name for a typo) without loading anything.

export interface CommandEntry {
  name: string;
  summary: string;
  group: 'server' | 'client' | 'other';
}

export const COMMANDS: readonly CommandEntry[] = [
  { name: 'server', group: 'server', summary: 'run the stash server' },
  { name: 'restore', group: 'server', summary: 'replace the database contents with a git revision (--rev)' },
  { name: 'get', group: 'client', summary: "print a key's value" },
  { name: 'set', group: 'client', summary: 'create or update a key (value as argument or from stdin)' },
  { name: 'rm', group: 'client', summary: 'delete a key' },
  { name: 'ls', group: 'client', summary: 'list keys' },
  { name: 'history', group: 'client', summary: 'versions of a key, newest first' },
  { name: 'rollback', group: 'client', summary: 'write the value of an old revision again' },
  { name: 'export', group: 'client', summary: 'write keys as a stash, Consul or etcd JSON file' },
  { name: 'import', group: 'client', summary: 'write a file of keys in one batch (stash, .env, .val, Consul, etcd, Vault)' },
  { name: 'watch', group: 'client', summary: 'print changes as they happen' },
  { name: 'completion', group: 'other', summary: 'print a shell completion script: bash, zsh or fish' },
  { name: 'help', group: 'other', summary: 'show help for stash or for one command' },
];

export const COMMAND_NAMES: readonly string[] = COMMANDS.map((c) => c.name);
export const CLIENT_COMMAND_NAMES: readonly string[] = COMMANDS.filter((c) => c.group === 'client').map((c) => c.name);

/** Extra help topics of `stash help TOPIC` besides the commands. */
export const HELP_TOPICS: readonly string[] = ['client', 'exit-codes'];

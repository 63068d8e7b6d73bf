import { execFile, spawnSync } from 'node:child_process';
import { chmodSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLIENT_COMMANDS } from '../../src/cli/client/run.js';
import { COMMAND_NAMES } from '../../src/cli/commands.js';
import { BIN, buildOnce, runCli } from '../cli-client/run-cli.js';
import { makeTempDir, startTestServer, type TestServer } from '../helpers/test-server.js';

const execFileAsync = promisify(execFile);
const has = (bin: string): boolean => spawnSync('sh', ['-c', `command -v ${bin}`]).status === 0;

/** Split one line of fish into words the way fish quotes: '…' (with \' and \\), "…", bare words. */
function fishWords(line: string): string[] {
  const words: string[] = [];
  let i = 0;
  while (i < line.length) {
    if (line[i] === ' ') {
      i++;
      continue;
    }
    let word = '';
    while (i < line.length && line[i] !== ' ') {
      const quote = line[i];
      if (quote === "'" || quote === '"') {
        i++;
        while (i < line.length && line[i] !== quote) {
          if (line[i] === '\\' && (line[i + 1] === quote || line[i + 1] === '\\')) i++;
          word += line[i++];
        }
        if (i >= line.length) throw new Error(`unterminated ${quote} in: ${line}`);
        i++;
      } else word += line[i++];
    }
    words.push(word);
  }
  return words;
}

describe('stash completion (built bin)', () => {
  let server: TestServer;
  let dir: string;
  const scripts: Record<string, string> = {};

  beforeAll(async () => {
    await buildOnce();
    server = await startTestServer();
    for (const key of ['app/config', 'app/db/host', 'other/x']) await server.service.put(key, Buffer.from('v'), 'text', { actor: '' });
    dir = makeTempDir('stash-completion-');
    for (const shell of ['bash', 'zsh', 'fish']) {
      const res = await runCli(['completion', shell]);
      expect(res.code, shell).toBe(0);
      expect(res.stderr, shell).toBe('');
      scripts[shell] = res.stdout;
      writeFileSync(join(dir, `stash.${shell}`), res.stdout);
    }
    // what the bash script runs for key names: this build, as `stash`
    writeFileSync(join(dir, 'stash'), `#!/bin/sh\nexec '${process.execPath}' '${BIN}' "$@"\n`);
    chmodSync(join(dir, 'stash'), 0o755);
  });

  afterAll(async () => {
    await server?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  /**
   * What bash offers for `words` (the last one is being completed), with the script sourced.
   * Asynchronous: key completion asks the in-process server, which a spawnSync would block.
   */
  async function bashComplete(words: string[], env: Record<string, string> = {}): Promise<string[]> {
    const run = 'source "$0"; COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); _stash; printf "%s\\n" "${COMPREPLY[@]}"';
    const { stdout } = await execFileAsync('bash', ['-c', run, join(dir, 'stash.bash'), join(dir, 'stash'), ...words], {
      encoding: 'utf8',
      env: { PATH: process.env['PATH'], STASH_URL: server.url, ...env },
    });
    return stdout.split('\n').filter((l) => l !== '');
  }

  it('an unknown or missing shell exits 2', async () => {
    expect((await runCli(['completion', 'tcsh'])).code).toBe(2);
    const none = await runCli(['completion']);
    expect(none.code).toBe(2);
    expect(none.stderr).toContain('one of: bash, zsh, fish');
  });

  it('bash: the script parses and completes commands, flags, flag values and files', async () => {
    const parse = spawnSync('bash', ['-n', join(dir, 'stash.bash')], { encoding: 'utf8' });
    expect(parse.status, parse.stderr).toBe(0);
    expect(scripts['bash']).toContain('complete -o default -F _stash stash');
    expect(await bashComplete([''])).toEqual([...COMMAND_NAMES]);
    expect(await bashComplete(['hi'])).toEqual(['history']);
    expect(await bashComplete(['ls', '--'])).toEqual(['--json', '--url', '--token', '--zk-key', '--help']);
    expect(await bashComplete(['set', 'k', '--format', 'y'])).toEqual(['yaml']);
    expect(await bashComplete(['import', 'f', '--from', ''])).toEqual(['consul', 'etcd', 'vault']);
    expect(await bashComplete(['export', '--to', ''])).toEqual(['consul', 'etcd']);
    expect(await bashComplete(['server', '--db.sync', '=', 'n'])).toEqual(['normal']); // --flag=VALUE
    expect(await bashComplete(['server', '--git.'])).toEqual(expect.arrayContaining(['--git.enabled', '--git.path', '--git.remote']));
    expect(await bashComplete(['restore', '--r'])).toEqual(['--rev']);
    expect(await bashComplete(['completion', ''])).toEqual(['bash', 'zsh', 'fish']);
    expect(await bashComplete(['help', 'co'])).toEqual(['completion']);
    expect(await bashComplete(['--url', 'http://x', 'get', '--'])).toEqual(['--url', '--token', '--zk-key', '--help']);
    // import's FILE: nothing from the script, so `complete -o default` offers file names
    expect(await bashComplete(['import', ''])).toEqual([]);
  });

  it('bash: key names from `stash ls` only with STASH_COMPLETE_KEYS=1', async () => {
    expect(await bashComplete(['get', 'app/'])).toEqual([]);
    expect((await bashComplete(['get', 'app/'], { STASH_COMPLETE_KEYS: '1' })).sort()).toEqual(['app/config', 'app/db/host']);
    expect(await bashComplete(['rm', 'ot'], { STASH_COMPLETE_KEYS: '1' })).toEqual(['other/x']);
    // a server that is down completes nothing, and says nothing
    expect(await bashComplete(['get', 'app/'], { STASH_COMPLETE_KEYS: '1', STASH_URL: 'http://127.0.0.1:9' })).toEqual([]);
  });

  it('zsh: a #compdef function with one _arguments case per command', () => {
    const script = scripts['zsh'] ?? '';
    if (has('zsh')) {
      const parse = spawnSync('zsh', ['-n', join(dir, 'stash.zsh')], { encoding: 'utf8' });
      expect(parse.status, parse.stderr).toBe(0);
    } else {
      console.warn('zsh is not installed: checking the zsh script by its structure only');
    }
    // zsh quoting is bash quoting for everything this script uses, so bash -n catches an unbalanced quote
    const parse = spawnSync('bash', ['-n', join(dir, 'stash.zsh')], { encoding: 'utf8' });
    expect(parse.status, parse.stderr).toBe(0);
    expect(script.split('\n')[0]).toBe('#compdef stash');
    expect(script).toContain('compdef _stash stash');
    for (const name of COMMAND_NAMES) {
      expect(script, name).toMatch(new RegExp(`^    '${name}:[^']`, 'm'));
      expect(script, name).toMatch(new RegExp(`^      \\(${name}\\)$`, 'm'));
    }
    for (const [name, command] of Object.entries(CLIENT_COMMANDS)) {
      const body = script.slice(script.indexOf(`      (${name})\n`)).split(';;')[0] ?? '';
      for (const flag of command.flags) expect(body, `${name} --${flag}`).toMatch(new RegExp(`'--${flag}=?\\[`));
      if (command.completes === 'keys') expect(body, name).toContain(':key:_stash_keys');
    }
    expect(script).toContain("'--from=[");
    expect(script).toContain(':from:(consul etcd vault)');
    // a colon inside a flag's description would end it early: they are escaped
    expect(script).toContain('(default http\\://127.0.0.1\\:8080)');
  });

  it('fish: one complete line per command and flag, every quote closed', () => {
    const script = scripts['fish'] ?? '';
    if (has('fish')) {
      const parse = spawnSync('fish', ['-n', join(dir, 'stash.fish')], { encoding: 'utf8' });
      expect(parse.status, parse.stderr).toBe(0);
    } else {
      console.warn('fish is not installed: checking the fish script by its structure only');
    }
    const lines = script.split('\n').filter((l) => l.startsWith('complete '));
    const parsed = lines.map(fishWords);
    for (const words of parsed) expect(words.slice(0, 3)).toEqual(['complete', '-c', 'stash']);
    const subcommands = parsed.filter((w) => w.includes('-a') && (w[w.indexOf('-n') + 1] ?? '').startsWith('not __fish_seen_subcommand_from'));
    expect(subcommands.map((w) => w[w.indexOf('-a') + 1])).toEqual([...COMMAND_NAMES]);
    for (const [name, command] of Object.entries(CLIENT_COMMANDS)) {
      const own = parsed.filter((w) => w[w.indexOf('-n') + 1] === `__fish_seen_subcommand_from ${name}`);
      for (const flag of [...command.flags, 'url', 'token', 'zk-key', 'help']) {
        expect(own.some((w) => w[w.indexOf('-l') + 1] === flag), `${name} --${flag}`).toBe(true);
      }
    }
    const from = parsed.find((w) => w.includes('from') && w.includes('-x'));
    expect(from?.[from.indexOf('-a') + 1]).toBe('consul etcd vault');
    expect(script).toMatch(/^function __stash_keys\n[\s\S]*?\nend$/m);
    expect(parsed.find((w) => w.includes("print a key's value"))).toBeDefined(); // the \' came back as '
  });
});

import { execFile, spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLIENT_COMMANDS } from '../../src/cli/client/run.js';
import { COMMAND_NAMES } from '../../src/cli/commands.js';
import { BIN, buildOnce, runCli } from '../cli-client/run-cli.js';
import { toolHere } from '../helpers/optional-tools.js';
import { makeTempDir, startTestServer, type TestServer } from '../helpers/test-server.js';

const execFileAsync = promisify(execFile);
const ZSH_DRIVER = join(dirname(fileURLToPath(import.meta.url)), 'zsh-complete.zsh');

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

  /** The same environment as bash's: this build first on PATH as `stash`, the test server's URL. */
  const shellEnv = (env: Record<string, string>): NodeJS.ProcessEnv => ({
    PATH: `${dir}:${process.env['PATH'] ?? ''}`,
    HOME: dir,
    STASH_URL: server.url,
    ...env,
  });

  /** What an interactive zsh offers on TAB after `line` (compinit, the script sourced, a real ZLE). */
  async function zshComplete(line: string, env: Record<string, string> = {}, script = join(dir, 'stash.zsh')): Promise<string[]> {
    const { stdout } = await execFileAsync('zsh', ['-f', ZSH_DRIVER, script, line], { encoding: 'utf8', env: shellEnv(env), timeout: 20_000 });
    return stdout.split('\n').filter((l) => l !== '');
  }

  /** What fish offers after `line` (`complete -C`, the script sourced), candidates without descriptions. */
  async function fishComplete(line: string, env: Record<string, string> = {}, autoload = false): Promise<string[]> {
    const complete = `complete -C ${JSON.stringify(line)}`;
    // autoload: the script saved in ~/.config/fish/completions (HOME is the test's folder), loaded by fish itself
    const args = autoload ? ['-c', complete] : ['--no-config', '-c', `source ${join(dir, 'stash.fish')}; ${complete}`];
    const { stdout } = await execFileAsync('fish', args, { encoding: 'utf8', env: shellEnv(env), timeout: 20_000 });
    return stdout.split('\n').filter((l) => l !== '').map((l) => l.split('\t')[0] ?? '');
  }

  /** Key names come from `stash ls` only with STASH_COMPLETE_KEYS=1, and a server that is down gives none. */
  async function expectKeyNames(complete: (line: string, env?: Record<string, string>) => Promise<string[]>): Promise<void> {
    expect(await complete('stash get app/')).toEqual([]);
    expect((await complete('stash get app/', { STASH_COMPLETE_KEYS: '1' })).sort()).toEqual(['app/config', 'app/db/host']);
    expect(await complete('stash rm ot', { STASH_COMPLETE_KEYS: '1' })).toEqual(['other/x']);
    expect(await complete('stash get app/', { STASH_COMPLETE_KEYS: '1', STASH_URL: 'http://127.0.0.1:9' })).toEqual([]);
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

  it('zsh: an interactive zsh completes commands, flags, flag values and key names', async () => {
    if (!toolHere('zsh', 'checking the zsh script by its structure only')) return;
    const parse = spawnSync('zsh', ['-n', join(dir, 'stash.zsh')], { encoding: 'utf8' });
    expect(parse.status, parse.stderr).toBe(0);
    expect(await zshComplete('stash ')).toEqual([...COMMAND_NAMES]);
    expect(await zshComplete('stash hi')).toEqual(['history']);
    expect((await zshComplete('stash ls --')).sort()).toEqual(['--help', '--json', '--token', '--url', '--zk-key']);
    expect(await zshComplete('stash set k --format y')).toEqual(['yaml']);
    expect(await zshComplete('stash import f --from ')).toEqual(['consul', 'etcd', 'vault']);
    expect(await zshComplete('stash server --db.sync=')).toEqual(['full', 'normal']);
    expect(await zshComplete('stash server --git.')).toEqual(expect.arrayContaining(['--git.enabled', '--git.path', '--git.remote']));
    expect(await zshComplete('stash restore --r')).toEqual(['--rev']);
    expect(await zshComplete('stash completion ')).toEqual(['bash', 'zsh', 'fish']);
    expect(await zshComplete('stash help co')).toEqual(['completion']);
    await expectKeyNames((line, env) => zshComplete(line, env));
    // saved as _stash in a directory of $fpath, as the docs say: compinit autoloads it on the first TAB
    const fpathDir = join(dir, 'zsh-functions');
    mkdirSync(fpathDir);
    writeFileSync(join(fpathDir, '_stash'), scripts['zsh'] ?? '');
    expect(await zshComplete('stash hi', {}, fpathDir)).toEqual(['history']);
    expect(await zshComplete('stash set k --format y', {}, fpathDir)).toEqual(['yaml']);
  });

  it('zsh: a #compdef function with one _arguments case per command', () => {
    const script = scripts['zsh'] ?? '';
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

  it('fish: fish completes commands, flags, flag values and key names', async () => {
    if (!toolHere('fish', 'checking the fish script by its structure only')) return;
    const parse = spawnSync('fish', ['-n', join(dir, 'stash.fish')], { encoding: 'utf8' });
    expect(parse.status, parse.stderr).toBe(0);
    expect((await fishComplete('stash ')).sort()).toEqual([...COMMAND_NAMES].sort());
    expect(await fishComplete('stash hi')).toEqual(['history']);
    expect(await fishComplete('stash ls --')).toEqual(['--help', '--json', '--token', '--url', '--zk-key']);
    expect(await fishComplete('stash set k --format y')).toEqual(['yaml']);
    expect(await fishComplete('stash import f --from ')).toEqual(['consul', 'etcd', 'vault']);
    expect(await fishComplete('stash server --db.sync=')).toEqual(['--db.sync=full', '--db.sync=normal']);
    expect(await fishComplete('stash restore --r')).toEqual(['--rev']);
    expect(await fishComplete('stash completion ')).toEqual(['bash', 'fish', 'zsh']);
    expect(await fishComplete('stash help co')).toEqual(['completion']);
    await expectKeyNames((line, env) => fishComplete(line, env));
    // saved as ~/.config/fish/completions/stash.fish, as the docs say
    const completions = join(dir, '.config', 'fish', 'completions');
    mkdirSync(completions, { recursive: true });
    writeFileSync(join(completions, 'stash.fish'), scripts['fish'] ?? '');
    expect(await fishComplete('stash hi', {}, true)).toEqual(['history']);
    expect(await fishComplete('stash set k --format y', {}, true)).toEqual(['yaml']);
  });

  it('fish: one complete line per command and flag, every quote closed', () => {
    const script = scripts['fish'] ?? '';
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

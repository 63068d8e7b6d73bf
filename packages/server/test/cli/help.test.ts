import { beforeAll, describe, expect, it } from 'vitest';
import { COMMAND_NAMES } from '../../src/cli/commands.js';
import { closest, editDistance } from '../../src/cli/suggest.js';
import { buildOnce, runCli } from '../cli-client/run-cli.js';

const CLIENT = ['get', 'set', 'rm', 'ls', 'history', 'rollback', 'export', 'import', 'watch'];

describe('suggestions for typos', () => {
  it('edit distance counts inserts, deletes, substitutions and swaps as one each', () => {
    expect(editDistance('server', 'server')).toBe(0);
    expect(editDistance('sever', 'server')).toBe(1);
    expect(editDistance('gte', 'get')).toBe(1); // a swap
    expect(editDistance('imprt', 'import')).toBe(1);
    expect(editDistance('', 'ls')).toBe(2);
    expect(editDistance('kitten', 'sitting')).toBe(3);
  });

  it('suggests only what is close enough', () => {
    expect(closest('sever', COMMAND_NAMES)).toBe('server');
    expect(closest('hist', COMMAND_NAMES)).toBe('history'); // a prefix of one command
    expect(closest('rollbak', COMMAND_NAMES)).toBe('rollback');
    expect(closest('completoin', COMMAND_NAMES)).toBe('completion');
    expect(closest('frobnicate', COMMAND_NAMES)).toBeUndefined();
    expect(closest('x', COMMAND_NAMES)).toBeUndefined();
  });
});

describe('stash help (built bin)', () => {
  beforeAll(async () => {
    await buildOnce();
  });

  it('`stash help` lists every command, the client flags and the exit codes', async () => {
    const res = await runCli(['help']);
    expect(res.code).toBe(0);
    expect(res.stderr).toBe('');
    for (const name of COMMAND_NAMES) expect(res.stdout, name).toMatch(new RegExp(`^  ${name} +\\S`, 'm'));
    expect(res.stdout).toMatch(/--url URL +server URL .*\[\$STASH_URL\]/);
    for (const code of [0, 1, 2, 3, 4, 5, 6]) expect(res.stdout).toMatch(new RegExp(`^  ${code}  \\S`, 'm'));
    expect(res.stdout).not.toMatch(/^stash v/); // no server banner
  });

  it('`stash help client` (named by `stash --help`) works', async () => {
    const top = await runCli(['--help']);
    expect(top.code).toBe(0);
    expect(top.stdout).toContain('stash help client');
    const res = await runCli(['help', 'client']);
    expect(res.code).toBe(0);
    for (const name of CLIENT) expect(res.stdout).toContain(`stash ${name}`);
  });

  it.each(CLIENT)('`stash help %s`, COMMAND --help and -h print the same usage', async (name) => {
    const [viaHelp, viaFlag, viaShort] = await Promise.all([runCli(['help', name]), runCli([name, '--help']), runCli([name, '-h'])]);
    expect(viaHelp.code).toBe(0);
    expect(viaHelp.stdout).toMatch(new RegExp(`^Usage: stash ${name}\\b`));
    expect(viaHelp.stdout).toContain('Exit codes');
    expect(viaFlag).toMatchObject({ code: 0, stdout: viaHelp.stdout });
    expect(viaShort).toMatchObject({ code: 0, stdout: viaHelp.stdout });
  });

  it('server and restore: `stash help X` is the go-flags help of `stash X --help`', async () => {
    for (const name of ['server', 'restore']) {
      const [viaHelp, viaFlag] = await Promise.all([runCli(['help', name]), runCli([name, '--help'])]);
      expect(viaHelp.code, name).toBe(0);
      expect(viaFlag.code, name).toBe(0);
      expect(viaHelp.stdout).toContain('--server.address=');
      expect(viaFlag.stdout).toContain('--server.address=');
      expect(viaHelp.stdout.includes('--rev=')).toBe(name === 'restore');
      expect(viaFlag.stdout.includes('--rev=')).toBe(name === 'restore');
    }
  });

  it('completion and help have help too', async () => {
    const [completion, completionFlag, help, helpFlag] = await Promise.all([
      runCli(['help', 'completion']),
      runCli(['completion', '--help']),
      runCli(['help', 'help']),
      runCli(['help', '--help']),
    ]);
    expect(completion).toMatchObject({ code: 0 });
    expect(completion.stdout).toMatch(/^Usage: stash completion bash\|zsh\|fish/);
    expect(completionFlag.stdout).toBe(completion.stdout);
    expect(help.stdout).toMatch(/^Usage: stash help/);
    expect(helpFlag).toMatchObject({ code: 0 }); // `stash help --help` shows the overview
    expect(helpFlag.stdout).toContain('Client commands');
  });

  it('unknown commands exit 2 with a suggestion for a typo', async () => {
    const cases: [string[], string | undefined][] = [
      [['sever'], 'server'],
      [['gte', 'app/k'], 'get'],
      [['--url', 'http://127.0.0.1:1', 'imprt', 'f.json'], 'import'],
      [['help', 'histroy'], 'history'],
      [['frobnicate'], undefined],
    ];
    for (const [args, meant] of cases) {
      const res = await runCli(args);
      expect(res.code, args.join(' ')).toBe(2);
      expect(res.stderr, args.join(' ')).toMatch(/Unknown command `[a-z]+'\./);
      if (meant === undefined) expect(res.stderr).not.toContain('Did you mean');
      else expect(res.stderr, args.join(' ')).toContain(`Did you mean \`${meant}\`?`);
      expect(res.stdout).toBe('');
    }
  });

  it('unknown client flags exit 2 with the flag meant', async () => {
    const res = await runCli(['ls', '--jsn']);
    expect(res.code).toBe(2);
    expect(res.stderr).toContain('unknown flag --jsn. Did you mean `--json`?');
    const far = await runCli(['ls', '--colour']);
    expect(far.code).toBe(2);
    expect(far.stderr).toContain('unknown flag --colour');
    expect(far.stderr).not.toContain('Did you mean');
    const wrongCommand = await runCli(['get', 'k', '--json']);
    expect(wrongCommand.code).toBe(2);
    expect(wrongCommand.stderr).toMatch(/flag --json is not valid for "get" \(its flags: /);
    const peer = await runCli(['import', 'f.json', '--from', 'consol']);
    expect(peer.code).toBe(2);
    expect(peer.stderr).toContain('Did you mean `consul`?');
  });
});

import { readFile, writeFile } from 'node:fs/promises';
import { isNotFoundError, isResponseError, normalizeKey, type BatchItem, type Client, type ExportResult } from '@stash/client';
import { didYouMean } from '../suggest.js';
import type { ClientCommand, CommandContext } from './command.js';
import { positionals } from './command.js';
import { EXIT, UsageError } from './exit-codes.js';
import { ImportFileError, readImportItems, toTransferItem } from './import-source.js';
import { confirmImport, formatPlan, planImport, planJson, planSummary, type ImportPlan } from './import-plan.js';
import { EXPORT_PEERS, IMPORT_PEERS, parsePeerFile, toConsulExport, toEtcdJson, type ExportPeer, type ImportPeer } from './peer-formats.js';
import { ProgressBar, type CliIo } from './terminal.js';

/** A flag value that must be one of `choices`, with a suggestion for a typo. */
function choiceFlag<T extends string>(ctx: CommandContext, flag: 'to' | 'from', choices: readonly T[]): T | undefined {
  const raw = ctx.args.flags[flag];
  if (raw === undefined) return undefined;
  if (typeof raw === 'string' && (choices as readonly string[]).includes(raw)) return raw as T;
  throw new UsageError(`invalid --${flag} "${String(raw)}": one of ${choices.join(', ')}.${didYouMean(String(raw), choices)}`.replace(/\.$/, ''));
}

/** --prefix as a key prefix without slashes at either end ('' when absent). */
function prefixFlag(ctx: CommandContext): string {
  const raw = ctx.args.flags.prefix;
  return typeof raw === 'string' ? normalizeKey(raw) : '';
}

async function exportWithProgress(ctx: CommandContext, prefix: string): Promise<ExportResult> {
  let bar: ProgressBar | undefined;
  const result = await ctx.client().exportValues(prefix, {
    onProgress: (done, total) => {
      bar ??= new ProgressBar(ctx.io, 'export', total);
      bar.update(done, total);
    },
  });
  bar?.done();
  return result;
}

export const exportCommand: ClientCommand = {
  usage: 'export [PREFIX] [--prefix P] > file.json  |  export --to consul|etcd [--prefix P] [FILE]',
  summary:
    'print every key under PREFIX with its value as a JSON array that import reads back; with --to, write ' +
    'the file `consul kv import` reads or `etcdctl get -w json` prints, to FILE or stdout',
  flags: ['to', 'prefix'],
  flagHelp: {
    to: { value: 'PEER', choices: EXPORT_PEERS, help: 'write Consul (`consul kv export`) or etcd (`etcdctl get -w json`) JSON' },
    prefix: { help: 'only keys under PREFIX/, named relative to it (import --prefix P puts them back)' },
  },
  completes: 'keys',
  async run(ctx) {
    const peer = choiceFlag<ExportPeer>(ctx, 'to', EXPORT_PEERS);
    const prefix = prefixFlag(ctx);
    const [positional] = positionals(ctx, 0, 1, peer === undefined ? 'PREFIX' : 'FILE');
    const under = prefix === '' ? '' : `${prefix}/`;
    const result = await exportWithProgress(ctx, peer === undefined && positional !== undefined ? `${under}${positional}` : under);
    const named = result.items.map((item) => ({ ...item, name: item.key.slice(under.length) }));
    const at = result.revision > 0 ? ` at revision ${result.revision}` : '';
    if (peer === undefined) {
      ctx.io.out(`${JSON.stringify(named.map((item) => toTransferItem({ ...item, key: item.name })), null, 2)}\n`);
      ctx.io.err(`exported ${named.length} keys${at}\n`);
      return EXIT.ok;
    }
    const items = named.map((item) => ({ name: item.name, value: item.value, revision: item.revision ?? result.revision }));
    const text = peer === 'consul' ? toConsulExport(items) : toEtcdJson(items, result.revision);
    if (positional === undefined) ctx.io.out(text);
    else await writeFile(positional, text);
    ctx.io.err(`exported ${items.length} keys${at} as ${peer} JSON${positional === undefined ? '' : ` to ${positional}`}\n`);
    return EXIT.ok;
  },
};

/**
 * Send items as ONE batch (all or nothing). Kept apart from reading, so every import source
 * (export files, .env files, directories, Consul/etcd/Vault files) ends here.
 * @returns the batch's revision (0 from servers without revisions, or when there is nothing to send)
 */
export async function sendImport(client: Client, items: readonly BatchItem[], io: CliIo): Promise<number> {
  if (items.length === 0) return 0;
  const bar = new ProgressBar(io, 'import', items.length);
  bar.update(0, items.length);
  try {
    const { revision } = await client.setMany(items);
    bar.update(items.length, items.length);
    return revision;
  } finally {
    bar.done();
  }
}

/**
 * Where Vault fields go: under `PREFIX/secrets/` when the server encrypts secrets (so they stay
 * secret here), else under PREFIX. The server tells by how it answers a read of a secret path:
 * 404 (or the value) with a secrets key, 400 `secrets not configured` without one.
 */
export async function vaultBase(client: Client, prefix: string, field: string): Promise<string> {
  if (prefix.split('/').includes('secrets')) return prefix;
  const base = `${prefix}/secrets`;
  try {
    await client.getBytes(`${base}/${field}`);
    return base;
  } catch (error) {
    if (isNotFoundError(error)) return base;
    if (isResponseError(error) && error.status === 400 && /secrets not configured/.test(error.message)) return prefix;
    throw error;
  }
}

async function readPeerFile(peer: ImportPeer, file: string): Promise<{ items: BatchItem[]; notes: string[] }> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    throw new ImportFileError(`cannot read ${file}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`);
  }
  return parsePeerFile(peer, text, file);
}

/** Items renamed under `base`, normalised as the server would, refused when two land on one key. */
function placeUnder(items: readonly BatchItem[], base: string, source: string): BatchItem[] {
  const seen = new Map<string, string>();
  return items.map((item) => {
    // etcd keys often start with '/': normalise the name before it goes under the prefix
    const name = normalizeKey(item.key);
    const key = base === '' || name === '' ? name : `${base}/${name}`;
    if (key === '') throw new ImportFileError(`${source}: "${item.key}" is not a valid key`);
    const earlier = seen.get(key);
    if (earlier !== undefined) throw new ImportFileError(`${source}: "${earlier}" and "${item.key}" are both the key "${key}"`);
    seen.set(key, item.key);
    return { ...item, key };
  });
}

async function readItems(ctx: CommandContext, file: string): Promise<BatchItem[]> {
  const peer = choiceFlag<ImportPeer>(ctx, 'from', IMPORT_PEERS);
  const prefix = prefixFlag(ctx);
  if (peer === undefined) return placeUnder(await readImportItems(file), prefix, file);
  if (peer === 'vault' && prefix === '') throw new UsageError('a Vault secret holds no path of its own: give one with --prefix (e.g. --prefix app/db)');
  const { items, notes } = await readPeerFile(peer, file);
  for (const note of notes) ctx.io.err(`note: ${note}\n`);
  const first = items[0];
  const base = peer === 'vault' && first ? await vaultBase(ctx.client(), prefix, normalizeKey(first.key)) : prefix;
  if (peer === 'vault' && base !== prefix) ctx.io.err(`note: the server encrypts secrets, so the fields go under ${base}/\n`);
  return placeUnder(items, base, file);
}

function printPlan(ctx: CommandContext, plan: ImportPlan, toStdout: boolean): void {
  const { io } = ctx;
  if (toStdout) io.out(formatPlan(plan.rows, io.stdoutIsTTY, io.stdoutColor));
  else io.err(formatPlan(plan.rows.filter((r) => r.change !== 'unchanged'), true, io.stderrColor));
}

export const importCommand: ClientCommand = {
  usage: 'import FILE|DIR [--from consul|etcd|vault] [--prefix P] [--dry-run|--yes] [--json]',
  summary:
    'write every item of an export file, a .env file, a directory of .val files or a Consul/etcd/Vault file ' +
    'in one batch (all or nothing), after showing what is created, updated or left alone',
  flags: ['from', 'prefix', 'dry-run', 'yes', 'json'],
  completes: 'files',
  async run(ctx) {
    const [file = ''] = positionals(ctx, 1, 1, 'FILE');
    const { flags } = ctx.args;
    if (flags['dry-run'] === true && flags.yes === true) throw new UsageError('--dry-run and --yes cannot go together');
    const items = await readItems(ctx, file);
    if (items.length === 0) {
      ctx.io.err('nothing to import: the file holds no keys\n');
      return EXIT.ok;
    }
    let bar: ProgressBar | undefined;
    const plan = await planImport(ctx.client(), items, (done, total) => {
      bar ??= new ProgressBar(ctx.io, 'comparing', total);
      bar.update(done, total);
    });
    bar?.done();
    const json = flags.json === true;
    const summary = planSummary(plan.counts, ctx.io.stderrColor);
    if (flags['dry-run'] === true) {
      if (json) ctx.io.out(planJson(plan, { dryRun: true }));
      else printPlan(ctx, plan, true);
      ctx.io.err(`dry run: ${summary}; nothing was written\n`);
      return EXIT.ok;
    }
    if (plan.writes.length === 0) {
      if (json) ctx.io.out(planJson(plan, { dryRun: false, revision: 0 }));
      ctx.io.err(`nothing to import: all ${plan.counts.unchanged} keys are already up to date\n`);
      return EXIT.ok;
    }
    if (flags.yes !== true && ctx.io.ask) {
      printPlan(ctx, plan, false);
      ctx.io.err(`${summary}\n`);
      if (!(await confirmImport(ctx.io, plan.writes.length))) {
        ctx.io.err('import cancelled: nothing was written\n');
        return EXIT.other;
      }
    }
    const revision = await sendImport(ctx.client(), plan.writes, ctx.io);
    if (json) ctx.io.out(planJson(plan, { dryRun: false, revision }));
    const at = revision > 0 ? ` (revision ${revision})` : '';
    const { create, update, unchanged } = plan.counts;
    ctx.io.err(`imported ${plan.writes.length} keys${at}: ${create} created, ${update} updated, ${unchanged} left alone\n`);
    return EXIT.ok;
  },
};

import { isFormat, isNotFoundError, type Format, type KeyInfo } from '@stash/client';
import type { ClientCommand, CommandContext } from './command.js';
import { positionals } from './command.js';
import { EXIT, UsageError } from './exit-codes.js';
import { formatTable } from './terminal.js';

function formatFlag(ctx: CommandContext): Format | undefined {
  const raw = ctx.args.flags.format;
  if (raw === undefined) return undefined;
  if (typeof raw !== 'string' || !isFormat(raw)) throw new UsageError(`invalid --format "${String(raw)}": one of text json yaml xml toml ini hcl shell`);
  return raw;
}

function revisionFlag(raw: string | true | undefined, name: string): number | undefined {
  if (raw === undefined) return undefined;
  if (typeof raw !== 'string' || !/^\d{1,15}$/.test(raw)) throw new UsageError(`invalid --${name} "${String(raw)}": must be a non-negative integer`);
  return Number(raw);
}

const timestamp = (date: Date): string => date.toISOString().replace(/\.\d{3}Z$/, 'Z');

export const getCommand: ClientCommand = {
  usage: 'get KEY',
  summary: 'print the value of a key: the exact bytes when piped; on a terminal a final newline is added if missing',
  flags: [],
  completes: 'keys',
  async run(ctx) {
    const [key = ''] = positionals(ctx, 1, 1, 'KEY');
    const value = await ctx.client().getBytes(key);
    ctx.io.out(value);
    // a terminal prompt should start on its own line; pipes get the exact bytes
    if (ctx.io.stdoutIsTTY && value.length > 0 && value[value.length - 1] !== 0x0a) ctx.io.out('\n');
    return EXIT.ok;
  },
};

export const setCommand: ClientCommand = {
  usage: 'set KEY [VALUE|-] [--format F] [--if-revision N] [--json]',
  summary: 'create or update a key; the value comes from stdin when it is "-" or omitted',
  flags: ['format', 'if-revision', 'json'],
  completes: 'keys',
  async run(ctx) {
    const [key = '', value] = positionals(ctx, 1, 2, 'KEY');
    const format = formatFlag(ctx) ?? 'text';
    let body: string | Uint8Array;
    if (value === undefined || value === '-') {
      if (value === undefined && ctx.io.stdinIsTTY) throw new UsageError('missing VALUE (or "-" to read it from stdin)');
      body = await ctx.io.readStdin();
    } else {
      body = value;
    }
    const ifRevision = revisionFlag(ctx.args.flags['if-revision'], 'if-revision');
    const result = await ctx.client().set(key, body, ifRevision === undefined ? { format } : { format, ifRevision });
    if (ctx.args.flags.json === true) ctx.io.out(`${JSON.stringify({ key, revision: result.revision, created: result.created })}\n`);
    const revision = result.revision > 0 ? ` (revision ${result.revision})` : '';
    ctx.io.err(`${result.created ? 'created' : 'updated'} ${key}${revision}\n`);
    return EXIT.ok;
  },
};

export const rmCommand: ClientCommand = {
  usage: 'rm KEY [--if-revision N] [--json]',
  summary: 'delete a key',
  flags: ['if-revision', 'json'],
  completes: 'keys',
  async run(ctx) {
    const [key = ''] = positionals(ctx, 1, 1, 'KEY');
    const ifRevision = revisionFlag(ctx.args.flags['if-revision'], 'if-revision');
    await ctx.client().delete(key, ifRevision === undefined ? {} : { ifRevision });
    if (ctx.args.flags.json === true) ctx.io.out(`${JSON.stringify({ key, deleted: true })}\n`);
    ctx.io.err(`deleted ${key}\n`);
    return EXIT.ok;
  },
};

function keyInfoJson(info: KeyInfo): Record<string, unknown> {
  return {
    key: info.key,
    size: info.size,
    format: info.format,
    secret: info.secret,
    zk_encrypted: info.zkEncrypted,
    created_at: info.createdAt.toISOString(),
    updated_at: info.updatedAt.toISOString(),
    ...(info.revision === undefined ? {} : { revision: info.revision }),
  };
}

export const lsCommand: ClientCommand = {
  usage: 'ls [PREFIX] [--json]',
  summary: 'list keys: an aligned table with a header on a terminal, tab-separated rows without a header when piped',
  flags: ['json'],
  completes: 'keys',
  async run(ctx) {
    const [prefix = ''] = positionals(ctx, 0, 1, 'PREFIX');
    const keys = await ctx.client().list(prefix);
    if (ctx.args.flags.json === true) {
      ctx.io.out(`${JSON.stringify(keys.map(keyInfoJson), null, 2)}\n`);
      return EXIT.ok;
    }
    const rows = keys.map((k) => [
      k.key,
      String(k.size),
      k.format,
      [k.secret ? 'secret' : '', k.zkEncrypted ? 'zk' : ''].filter(Boolean).join(',') || '-',
      timestamp(k.updatedAt),
      k.revision === undefined ? '-' : String(k.revision),
    ]);
    ctx.io.out(formatTable(['KEY', 'SIZE', 'FORMAT', 'FLAGS', 'UPDATED', 'REVISION'], rows, ctx.io.stdoutIsTTY, { color: ctx.io.stdoutColor }));
    return EXIT.ok;
  },
};

export const historyCommand: ClientCommand = {
  usage: 'history KEY [--limit N] [--json]',
  summary: 'versions of a key, newest first (table on a terminal, tab-separated when piped)',
  flags: ['json', 'limit'],
  completes: 'keys',
  async run(ctx) {
    const [key = ''] = positionals(ctx, 1, 1, 'KEY');
    const limit = revisionFlag(ctx.args.flags.limit, 'limit');
    const json = ctx.args.flags.json === true;
    // the table shows sizes only, so ZK values are not decrypted for it (one Argon2id each)
    const entries = await ctx.client().history(key, { decrypt: json, ...(limit === undefined ? {} : { limit }) });
    if (json) {
      const json = entries.map((e) => ({
        revision: e.revision,
        hash: e.hash,
        timestamp: timestamp(e.timestamp),
        author: e.author,
        operation: e.operation,
        format: e.format,
        value: Buffer.from(e.value).toString('base64'),
      }));
      ctx.io.out(`${JSON.stringify(json, null, 2)}\n`);
      return EXIT.ok;
    }
    const rows = entries.map((e) => [
      e.revision === undefined ? e.hash : String(e.revision),
      timestamp(e.timestamp),
      e.operation,
      e.format,
      String(e.value.length),
      e.author,
    ]);
    ctx.io.out(formatTable(['REVISION', 'TIMESTAMP', 'OPERATION', 'FORMAT', 'SIZE', 'AUTHOR'], rows, ctx.io.stdoutIsTTY, { color: ctx.io.stdoutColor }));
    return EXIT.ok;
  },
};

export const rollbackCommand: ClientCommand = {
  usage: 'rollback KEY --to REVISION [--json]',
  summary: 'write the value a key had at REVISION again (fails if the key changes meanwhile)',
  flags: ['to', 'json'],
  completes: 'keys',
  async run(ctx) {
    const [key = ''] = positionals(ctx, 1, 1, 'KEY');
    const to = revisionFlag(ctx.args.flags.to, 'to');
    if (to === undefined) throw new UsageError('missing --to REVISION');
    const client = ctx.client();
    const entries = await client.history(key, { limit: 1000, decrypt: false });
    const target = entries.find((e) => e.revision === to);
    if (!target || target.operation === 'delete') {
      ctx.io.err(`revision ${to} of ${key} not found in its history (or it is a delete)\n`);
      return EXIT.notFound;
    }
    const value = await client.getAt(key, to);
    // the write is conditional on the revision we looked at, so a concurrent change is not lost
    let current: number | undefined;
    try {
      current = (await client.info(key)).revision;
    } catch (error) {
      if (!isNotFoundError(error)) throw error;
    }
    const condition = current === undefined ? { ifAbsent: true } : { ifRevision: current };
    const result = await client.set(key, value, { format: target.format, ...condition });
    if (ctx.args.flags.json === true) ctx.io.out(`${JSON.stringify({ key, rolled_back_to: to, revision: result.revision })}\n`);
    ctx.io.err(`rolled back ${key} to revision ${to} (new revision ${result.revision})\n`);
    return EXIT.ok;
  },
};

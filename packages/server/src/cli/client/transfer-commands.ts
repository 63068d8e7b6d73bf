import type { BatchItem, Client } from '@stash/client';
import type { ClientCommand } from './command.js';
import { positionals } from './command.js';
import { EXIT } from './exit-codes.js';
import { readImportItems, toTransferItem } from './import-source.js';
import { ProgressBar, type CliIo } from './terminal.js';

export const exportCommand: ClientCommand = {
  usage: 'export [PREFIX] > file.json',
  summary: 'print every key under PREFIX with its value as a JSON array that import reads back',
  flags: [],
  async run(ctx) {
    const [prefix = ''] = positionals(ctx, 0, 1, 'PREFIX');
    let bar: ProgressBar | undefined;
    const result = await ctx.client().exportValues(prefix, {
      onProgress: (done, total) => {
        bar ??= new ProgressBar(ctx.io, 'export', total);
        bar.update(done, total);
      },
    });
    bar?.done();
    const items = result.items.map(toTransferItem);
    ctx.io.out(`${JSON.stringify(items, null, 2)}\n`);
    const at = result.revision > 0 ? ` at revision ${result.revision}` : '';
    ctx.io.err(`exported ${items.length} keys${at}\n`);
    return EXIT.ok;
  },
};

/**
 * Send items as ONE batch (all or nothing). Kept apart from reading, so every import source
 * (export files, .env files, directories) ends here.
 */
export async function sendImport(client: Client, items: readonly BatchItem[], io: CliIo): Promise<number> {
  if (items.length === 0) {
    io.err('nothing to import\n');
    return EXIT.ok;
  }
  const bar = new ProgressBar(io, 'import', items.length);
  bar.update(0, items.length);
  try {
    const { revision } = await client.setMany(items);
    bar.update(items.length, items.length);
    bar.done();
    const at = revision > 0 ? ` (revision ${revision})` : '';
    io.err(`imported ${items.length} keys${at}\n`);
    return EXIT.ok;
  } catch (error) {
    bar.done();
    throw error;
  }
}

export const importCommand: ClientCommand = {
  usage: 'import FILE|DIR',
  summary: 'write every item of an export file, a .env file or a directory of .val files in one batch (all or nothing)',
  flags: [],
  async run(ctx) {
    const [file = ''] = positionals(ctx, 1, 1, 'FILE');
    const items = await readImportItems(file);
    return sendImport(ctx.client(), items, ctx.io);
  },
};

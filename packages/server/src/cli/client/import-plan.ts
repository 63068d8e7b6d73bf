import type { BatchItem, Client, Format } from '@stash/client';
import { formatTable, paint, type CliIo, type Style } from './terminal.js';

/** What writing one item would do to the key as it is now. */
export type ImportChange = 'create' | 'update' | 'unchanged';

export interface ImportRow {
  key: string;
  format: Format;
  size: number;
  change: ImportChange;
}

export interface ImportPlan {
  rows: ImportRow[];
  /** the creates and updates, in file order: what the batch sends */
  writes: BatchItem[];
  counts: Record<ImportChange, number>;
}

const bytesOf = (value: string | Uint8Array): Uint8Array => (typeof value === 'string' ? Buffer.from(value, 'utf8') : value);

/** The longest string prefix every key shares: one export of it holds every key the import touches. */
export function commonPrefix(keys: readonly string[]): string {
  if (keys.length === 0) return '';
  let prefix = keys[0] as string;
  for (const key of keys) {
    let i = 0;
    while (i < prefix.length && i < key.length && prefix[i] === key[i]) i++;
    prefix = prefix.slice(0, i);
    if (prefix === '') break;
  }
  return prefix;
}

/**
 * Compare each item with the key's current value and format, read in one export (one
 * consistent revision). Keys this token cannot read look absent, so they plan as creates and
 * the batch is refused as a whole. The batch is not conditional: a write between the plan and
 * the batch is overwritten, as with any import.
 */
export async function planImport(client: Client, items: readonly BatchItem[], onProgress?: (done: number, total: number) => void): Promise<ImportPlan> {
  const writes = items.filter((item): item is Extract<BatchItem, { value: unknown }> => 'value' in item);
  const { items: current } = await client.exportValues(commonPrefix(writes.map((i) => i.key)), onProgress ? { onProgress } : {});
  const byKey = new Map(current.map((item) => [item.key, item]));
  const plan: ImportPlan = { rows: [], writes: [], counts: { create: 0, update: 0, unchanged: 0 } };
  for (const item of writes) {
    const value = bytesOf(item.value);
    const format = item.format ?? 'text';
    const existing = byKey.get(item.key);
    const change: ImportChange = !existing
      ? 'create'
      : existing.format === format && Buffer.from(existing.value).equals(Buffer.from(value))
        ? 'unchanged'
        : 'update';
    plan.counts[change]++;
    plan.rows.push({ key: item.key, format, size: value.length, change });
    if (change !== 'unchanged') plan.writes.push(item);
  }
  return plan;
}

const CHANGE_STYLE: Record<ImportChange, Style> = { create: 'green', update: 'yellow', unchanged: 'dim' };

/** `CHANGE KEY FORMAT SIZE` rows: aligned with a header on a terminal, tab-separated when piped. */
export function formatPlan(rows: readonly ImportRow[], aligned: boolean, color: boolean | undefined): string {
  const cells = rows.map((r) => [r.change, r.key, r.format, String(r.size)]);
  return formatTable(['CHANGE', 'KEY', 'FORMAT', 'SIZE'], cells, aligned, {
    color,
    cellStyle: (row, col) => (col === 0 ? CHANGE_STYLE[rows[row]?.change ?? 'unchanged'] : undefined),
  });
}

/** `2 to create, 1 to update, 5 left alone`. */
export function planSummary(counts: ImportPlan['counts'], color?: boolean): string {
  return [
    paint(color, 'green', `${counts.create} to create`),
    paint(color, 'yellow', `${counts.update} to update`),
    `${counts.unchanged} left alone`,
  ].join(', ');
}

/** The plan as `--json` prints it. */
export function planJson(plan: ImportPlan, applied: { dryRun: boolean; revision?: number }): string {
  const body = {
    dry_run: applied.dryRun,
    ...(applied.revision === undefined ? {} : { revision: applied.revision }),
    counts: plan.counts,
    items: plan.rows.map((r) => ({ key: r.key, change: r.change, format: r.format, size: r.size })),
  };
  return `${JSON.stringify(body, null, 2)}\n`;
}

/** Ask before writing; only `y`/`yes` goes ahead. */
export async function confirmImport(io: CliIo, count: number): Promise<boolean> {
  if (!io.ask) return true;
  const answer = await io.ask(`write these ${count} keys in one batch? [y/N] `);
  return /^(y|yes)$/i.test(answer.trim());
}

import type { Client, Subscription, SubscriptionEvent } from '@stash/client';
import type { ClientCommand, CommandContext } from './command.js';
import { positionals } from './command.js';
import { EXIT } from './exit-codes.js';

const timestamp = (date: Date): string => date.toISOString().replace(/\.\d{3}Z$/, 'Z');

/** What to subscribe to, by the server's own path rules: nothing or `*` = all, `p/` or `p/*` = prefix, else one key. */
export function openWatch(client: Client, target: string | undefined, onError: (message: string) => void): Subscription {
  const options = { onError: (error: Error) => onError(error.message) };
  if (target === undefined || target === '*') return client.subscribeAll(options);
  if (target.endsWith('/*')) return client.subscribePrefix(target.slice(0, -2), options);
  if (target.endsWith('/')) return client.subscribePrefix(target.slice(0, -1), options);
  return client.subscribe(target, options);
}

/** One output line: `TIMESTAMP ACTION KEY (revision N)`, or one JSON object with `--json`. */
export function formatWatchLine(event: SubscriptionEvent, json: boolean): string {
  if (event.type === 'reset') {
    return json
      ? `${JSON.stringify({ type: 'reset', revision: event.revision })}\n`
      : `${timestamp(new Date())} reset  changes before revision ${event.revision} are gone; re-read what you need\n`;
  }
  if (json) {
    const { key, action, revision, format } = event;
    return `${JSON.stringify({ type: 'change', key, action, timestamp: timestamp(event.timestamp), revision, ...(format ? { format } : {}) })}\n`;
  }
  const revision = event.revision > 0 ? ` (revision ${event.revision})` : '';
  return `${timestamp(event.timestamp)} ${event.action.padEnd(6)} ${event.key}${revision}\n`;
}

/** Print every change until `signal` aborts (exit 0) or the server refuses the subscription. */
export async function runWatch(ctx: CommandContext, signal: AbortSignal): Promise<number> {
  const [target] = positionals(ctx, 0, 1, 'KEY or PREFIX');
  const json = ctx.args.flags.json === true;
  const subscription = openWatch(ctx.client(), target, (message) => ctx.io.err(`stash watch: ${message}; reconnecting\n`));
  const stop = (): void => subscription.close();
  signal.addEventListener('abort', stop, { once: true });
  try {
    for await (const event of subscription) ctx.io.out(formatWatchLine(event, json));
  } finally {
    signal.removeEventListener('abort', stop);
    subscription.close();
  }
  return EXIT.ok;
}

export const watchCommand: ClientCommand = {
  usage: 'watch [KEY|PREFIX/*] [--json]',
  summary: 'print one line per change (all keys without an argument) until interrupted; resumes after reconnects',
  flags: ['json'],
  completes: 'keys',
  run(ctx) {
    const interrupted = new AbortController();
    const stop = (): void => interrupted.abort();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
    return runWatch(ctx, interrupted.signal).finally(() => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
    });
  },
};

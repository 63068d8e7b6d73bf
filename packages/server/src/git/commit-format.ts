import { isFormat, type Format } from '@stash/client/core';
import type { ChangeEntry } from '../storage/store.js';

/** Git identity of a commit. */
export interface GitAuthor {
  name: string;
  email: string;
}

/** The original's identity for anonymous writes, the initial commit and auth-off servers. */
export const DEFAULT_AUTHOR: GitAuthor = { name: 'stash', email: 'stash@localhost' };

/** RFC 3339 in whole seconds, UTC: what the commit message carries and the commit time equals. */
export function commitTimestamp(date: Date): string {
  return `${date.toISOString().slice(0, 19)}Z`;
}

/**
 * Author per compat 6.5: a user is `name <name@stash>`, a token `token:abcd**** <token:abcd****@stash>`,
 * nobody is `stash <stash@localhost>`. Characters git cannot carry in an ident (`<`, `>`, newlines) are dropped.
 */
export function authorFor(actor: string): GitAuthor {
  const name = actor.replace(/[<>\n\r\0]/g, '').trim();
  if (name === '') return DEFAULT_AUTHOR;
  return { name, email: `${name}@stash` };
}

/**
 * The original's commit message, byte for byte, plus a `revision: N` line older parsers ignore:
 * `<op> <key>\n\ntimestamp: <RFC3339>\noperation: <op>\nkey: <key>\nformat: <fmt>` (deletes have no format line).
 */
export function commitMessage(entry: ChangeEntry): string {
  const lines = [
    `${entry.action} ${entry.key}`,
    '',
    `timestamp: ${commitTimestamp(entry.timestamp)}`,
    `operation: ${entry.action}`,
    `key: ${entry.key}`,
  ];
  if (entry.action !== 'delete') lines.push(`format: ${entry.format}`);
  lines.push(`revision: ${entry.revision}`);
  return lines.join('\n');
}

/** What history needs from a commit message, also for commits written by the original. */
export interface ParsedCommitMessage {
  operation: string;
  format: Format;
  revision?: number | undefined;
}

/** Read `operation:` (else the first word), `format:` (default text) and our `revision:` line. */
export function parseCommitMessage(message: string): ParsedCommitMessage {
  const lines = message.split('\n');
  const field = (name: string): string | undefined => {
    const line = lines.find((l) => l.startsWith(`${name}: `));
    return line === undefined ? undefined : line.slice(name.length + 2).trim();
  };
  const operation = field('operation') ?? (lines[0] ?? '').trim().split(/\s+/)[0] ?? '';
  const format = field('format');
  const revision = field('revision');
  return {
    operation,
    format: format !== undefined && isFormat(format) ? format : 'text',
    revision: revision !== undefined && /^\d+$/.test(revision) ? Number(revision) : undefined,
  };
}

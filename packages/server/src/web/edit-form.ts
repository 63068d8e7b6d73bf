import { isFormat, isStdBase64, isZkValue, normalizeKey, type Format } from '@stash/client/core';
import { NotFoundError, ValidationError } from '../domain/errors.js';
import { assertValidKey } from '../domain/kv-service.js';
import { formatProblem } from './format-validation.js';
import { sendHtml } from './respond.js';
import { lineDiff } from './templates/diff.js';
import { keyForm, type FormConflict, type KeyFormModel } from './templates/key-form.js';
import { field, showValue, type WebRequest } from './web-context.js';

// What the key form's handlers share: reading the submitted form, the conditions of a save and
// the conflict it can meet.

export const toNanos = (date: Date): string => (BigInt(date.getTime()) * 1_000_000n).toString();

/** The key of a `{key...}` route, normalised; 400 when nothing is left of it. */
export function routeKey(raw: string): string {
  return assertValidKey(normalizeKey(raw));
}

/** The form again, in the modal, with what went wrong (htmx swaps it there by HX-Retarget). */
export async function formAgain(w: WebRequest, status: number, model: KeyFormModel): Promise<void> {
  w.reply.header('hx-retarget', '#modal-content').header('hx-reswap', 'innerHTML');
  await sendHtml(w.req, w.reply, status, keyForm(model));
}

export interface Submitted {
  key: string;
  text: string;
  format: Format;
  binary: boolean;
  force: boolean;
}

export function submitted(w: WebRequest, key: string): Submitted {
  const format = field(w, 'format');
  return {
    key,
    text: w.form.get('value') ?? '',
    format: isFormat(format) ? format : 'text',
    binary: w.form.get('is_binary') === 'true',
    force: w.form.get('force') === 'true',
  };
}

/** The bytes to store, or the problem to show: bad base64, or (unless forced) a format error. */
export async function valueOf(s: Submitted): Promise<{ bytes: Buffer } | { problem: string; canForce: boolean }> {
  if (s.binary) {
    const compact = s.text.replace(/\s+/g, '');
    if (!isStdBase64(compact)) return { problem: 'the value is not valid base64', canForce: false };
    return { bytes: Buffer.from(compact, 'base64') };
  }
  if (!s.force && !isZkValue(s.text)) {
    const problem = await formatProblem(s.format, s.text);
    if (problem !== undefined) return { problem, canForce: true };
  }
  return { bytes: Buffer.from(s.text, 'utf8') };
}

/** The edit form as submitted, to show again. */
export function submittedModel(w: WebRequest, s: Submitted): KeyFormModel {
  return {
    base: w.deps.baseUrl,
    mode: 'edit',
    key: s.key,
    value: s.text,
    format: s.format,
    binary: s.binary,
    updatedAtNs: w.form.get('updated_at') ?? undefined,
    revision: w.form.has('revision') ? Number(w.form.get('revision')) || 0 : undefined,
    zk: w.form.get('zk') === '1',
  };
}

/**
 * The condition of an update: `server_revision` after "Overwrite" (overwrite what was shown,
 * nothing newer), else plain `force_overwrite`, else `If-Match` (sent by the form), else its `revision`, else the original's
 * `updated_at` compared with the stored time. undefined = unconditional.
 */
export async function updateCondition(w: WebRequest, key: string): Promise<number | undefined> {
  const serverRevision = w.form.get('server_revision');
  if (w.form.get('force_overwrite') === 'true') return serverRevision ? revisionField(serverRevision) : undefined;
  const ifMatch = w.req.headers['if-match'];
  if (typeof ifMatch === 'string' && ifMatch !== '') return revisionField(ifMatch.trim().replace(/^(?:W\/)?"(.*)"$/, '$1'));
  const revision = w.form.get('revision');
  if (revision) return revisionField(revision);
  const updatedAt = w.form.get('updated_at') ?? '';
  if (!/^[1-9]\d*$/.test(updatedAt)) return undefined;
  const current = await w.deps.service.get(key).catch((error: unknown) => {
    if (error instanceof NotFoundError) return undefined;
    throw error;
  });
  if (!current) return -1; // gone: never matches
  // the stored time is whole milliseconds: compare at that precision
  return BigInt(updatedAt) / 1_000_000n === BigInt(current.updatedAt.getTime()) ? current.revision : -1;
}

export function revisionField(raw: string): number {
  if (!/^\d{1,15}$/.test(raw)) throw new ValidationError('invalid revision field');
  return Number(raw);
}

/**
 * What the conflict panel shows: the key as it is now (and who wrote it), or that it is gone,
 * with a line diff of their value against the form's.
 */
export async function conflictNow(w: WebRequest, key: string, mine: Submitted): Promise<FormConflict> {
  try {
    const kv = await w.deps.service.get(key);
    const theirs = showValue(kv.value);
    const [last] = await w.deps.service.history(key, 1);
    const actor = last && last.revision === kv.revision ? last.actor : '';
    const who = actor === '' ? `revision ${kv.revision}` : `revision ${kv.revision}, ${actor}`;
    // ciphertexts say nothing line by line: a zero-knowledge edit shows no diff
    const diff = theirs.binary || mine.binary || isZkValue(mine.text) ? undefined : lineDiff(theirs.text, mine.text, { old: `theirs (${who})`, new: 'yours' });
    return { server: { value: theirs, format: kv.format, revision: kv.revision, actor }, diff };
  } catch (error) {
    if (error instanceof NotFoundError) return {};
    throw error;
  }
}

import { isFormat, isStdBase64, isZkValue, normalizeKey, type Format } from '@stash/client/core';
import { ConflictError, NotFoundError, ValidationError } from '../domain/errors.js';
import { assertValidKey, type KeyValue } from '../domain/kv-service.js';
import { plainError } from '../shared/replies.js';
import { formatProblem } from './format-validation.js';
import { sendHtml } from './respond.js';
import { keyForm, type FormConflict, type KeyFormModel } from './templates/key-form.js';
import { keyView } from './templates/key-view.js';
import { answerWritten, field, sendWebError, showValue, type WebRequest } from './web-context.js';

const toNanos = (date: Date): string => (BigInt(date.getTime()) * 1_000_000n).toString();

/** The key of a `{key...}` route, normalised; 400 when nothing is left of it. */
function routeKey(raw: string): string {
  return assertValidKey(normalizeKey(raw));
}

/** Read a key the viewer may read; 403 otherwise (checked here, not only by hiding buttons). */
async function readable(w: WebRequest, key: string): Promise<KeyValue | undefined> {
  if (!w.viewer.principal.canRead(key)) return void plainError(w.reply, 403, 'access denied');
  return w.deps.service.get(key);
}

/** `GET /web/keys/view/{key}` */
export async function viewKey(w: WebRequest, rawKey: string): Promise<void> {
  try {
    const key = routeKey(rawKey);
    const kv = await readable(w, key);
    if (!kv) return;
    await sendHtml(w.req, w.reply, 200, keyView({
      base: w.deps.baseUrl,
      key,
      value: showValue(kv.value),
      format: kv.format,
      secret: kv.secret,
      zkEncrypted: isZkValue(kv.value),
      size: kv.value.byteLength,
      revision: kv.revision,
      createdAt: kv.createdAt,
      updatedAt: kv.updatedAt,
      canWrite: w.viewer.principal.canWrite(key),
    }));
  } catch (error) {
    sendWebError(w, error);
  }
}

function editModel(w: WebRequest, key: string, kv: KeyValue): KeyFormModel {
  const shown = showValue(kv.value);
  return {
    base: w.deps.baseUrl,
    mode: 'edit',
    key,
    value: shown.text,
    format: kv.format,
    binary: shown.binary,
    updatedAtNs: toNanos(kv.updatedAt),
    revision: kv.revision,
  };
}

/** `GET /web/keys/edit/{key}` */
export async function editKey(w: WebRequest, rawKey: string): Promise<void> {
  try {
    const key = routeKey(rawKey);
    if (!w.viewer.principal.canWrite(key)) return plainError(w.reply, 403, 'access denied');
    const kv = await w.deps.service.get(key);
    if (isZkValue(kv.value)) {
      return plainError(w.reply, 400, 'zero-knowledge values are encrypted by clients: edit it with a client that holds the passphrase');
    }
    await sendHtml(w.req, w.reply, 200, keyForm(editModel(w, key, kv)));
  } catch (error) {
    sendWebError(w, error);
  }
}

/** `GET /web/keys/new` */
export async function newKey(w: WebRequest): Promise<void> {
  if (!w.viewer.principal.canWriteSomewhere()) return plainError(w.reply, 403, 'access denied');
  await sendHtml(w.req, w.reply, 200, keyForm({ base: w.deps.baseUrl, mode: 'new', key: '', value: '', format: 'text', binary: false }));
}

/** The form again, in the modal, with what went wrong (htmx swaps it there by HX-Retarget). */
async function formAgain(w: WebRequest, status: number, model: KeyFormModel): Promise<void> {
  w.reply.header('hx-retarget', '#modal-content').header('hx-reswap', 'innerHTML');
  await sendHtml(w.req, w.reply, status, keyForm(model));
}

interface Submitted {
  key: string;
  text: string;
  format: Format;
  binary: boolean;
  force: boolean;
}

function submitted(w: WebRequest, key: string): Submitted {
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
async function valueOf(s: Submitted): Promise<{ bytes: Buffer } | { problem: string; canForce: boolean }> {
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

/** `POST /web/keys`: create only; an existing key is an error, not an overwrite. */
export async function createKey(w: WebRequest): Promise<void> {
  const s = submitted(w, normalizeKey(w.form.get('key') ?? ''));
  const model: KeyFormModel = { base: w.deps.baseUrl, mode: 'new', key: s.key, value: s.text, format: s.format, binary: s.binary };
  const fail = (status: number, message: string, canForce = false): Promise<void> =>
    formAgain(w, status, { ...model, problem: { message, canForce } });
  try {
    if (s.key === '') return await fail(400, 'key is required');
    assertValidKey(s.key);
    if (!w.viewer.principal.canWrite(s.key)) return await fail(403, `Access denied: you may not write “${s.key}”`);
    const value = await valueOf(s);
    if ('problem' in value) return await fail(422, value.problem, value.canForce);
    await w.deps.service.put(s.key, value.bytes, s.format, { ifRevision: 0, actor: w.viewer.principal.actor });
    w.deps.log.info(`web: created ${s.key} by ${w.viewer.name || 'anonymous'}`, w.req.id);
    await answerWritten(w, `Created “${s.key}”`);
  } catch (error) {
    if (error instanceof ConflictError) return fail(409, `key “${s.key}” already exists`);
    if (error instanceof ValidationError) return fail(400, error.message);
    sendWebError(w, error);
  }
}

/**
 * The condition of an update: `server_revision` after "Overwrite" (overwrite what was shown,
 * nothing newer), else plain `force_overwrite`, else the form's `revision`, else the original's
 * `updated_at` compared with the stored time. undefined = unconditional.
 */
async function updateCondition(w: WebRequest, key: string): Promise<number | undefined> {
  const serverRevision = w.form.get('server_revision');
  if (w.form.get('force_overwrite') === 'true') return serverRevision ? revisionField(serverRevision) : undefined;
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

function revisionField(raw: string): number {
  if (!/^\d{1,15}$/.test(raw)) throw new ValidationError('invalid revision field');
  return Number(raw);
}

/** What the conflict panel shows: the key as it is now, or that it is gone. */
async function conflictNow(w: WebRequest, key: string): Promise<FormConflict> {
  try {
    const kv = await w.deps.service.get(key);
    return { server: { value: showValue(kv.value), format: kv.format, revision: kv.revision } };
  } catch (error) {
    if (error instanceof NotFoundError) return {};
    throw error;
  }
}

/** `PUT /web/keys/{key}`: save an edit unless the key changed since the form was opened. */
export async function updateKey(w: WebRequest, rawKey: string): Promise<void> {
  let key: string;
  try {
    key = routeKey(rawKey);
  } catch (error) {
    return sendWebError(w, error);
  }
  const s = submitted(w, key);
  const model: KeyFormModel = {
    base: w.deps.baseUrl,
    mode: 'edit',
    key,
    value: s.text,
    format: s.format,
    binary: s.binary,
    updatedAtNs: w.form.get('updated_at') ?? undefined,
    revision: w.form.has('revision') ? Number(w.form.get('revision')) || 0 : undefined,
  };
  try {
    if (!w.viewer.principal.canWrite(key)) {
      return await formAgain(w, 403, { ...model, problem: { message: `Access denied: you may not write “${key}”`, canForce: false } });
    }
    const value = await valueOf(s);
    if ('problem' in value) return await formAgain(w, 422, { ...model, problem: { message: value.problem, canForce: value.canForce } });
    const ifRevision = await updateCondition(w, key);
    if (ifRevision === -1) return await formAgain(w, 409, { ...model, conflict: await conflictNow(w, key) });
    await w.deps.service.put(key, value.bytes, s.format, { ifRevision, actor: w.viewer.principal.actor });
    w.deps.log.info(`web: updated ${key} by ${w.viewer.name || 'anonymous'}`, w.req.id);
    await answerWritten(w, `Saved “${key}”`);
  } catch (error) {
    if (error instanceof ConflictError) return formAgain(w, 409, { ...model, conflict: await conflictNow(w, key) });
    if (error instanceof ValidationError) return formAgain(w, 400, { ...model, problem: { message: error.message, canForce: false } });
    sendWebError(w, error);
  }
}

/** `DELETE /web/keys/{key}` */
export async function deleteKey(w: WebRequest, rawKey: string): Promise<void> {
  try {
    const key = routeKey(rawKey);
    if (!w.viewer.principal.canWrite(key)) return plainError(w.reply, 403, 'access denied');
    await w.deps.service.delete(key, { actor: w.viewer.principal.actor });
    w.deps.log.info(`web: deleted ${key} by ${w.viewer.name || 'anonymous'}`, w.req.id);
    await answerWritten(w, `Deleted “${key}”`);
  } catch (error) {
    sendWebError(w, error);
  }
}

import { isZkValue, normalizeKey } from '@stash/client/core';
import { ConflictError, ValidationError } from '../domain/errors.js';
import { assertValidKey, type KeyValue } from '../domain/kv-service.js';
import { plainError } from '../shared/replies.js';
import { mayAudit } from './audit-handlers.js';
import { conflictNow, formAgain, routeKey, submitted, submittedModel, toNanos, updateCondition, valueOf } from './edit-form.js';
import { sendHtml } from './respond.js';
import { keyForm, type KeyFormModel } from './templates/key-form.js';
import { keyView } from './templates/key-view.js';
import { answerWritten, sendWebError, showValue, type WebRequest } from './web-context.js';

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
      zkValue: isZkValue(kv.value) ? Buffer.from(kv.value).toString('utf8') : undefined,
      size: kv.value.byteLength,
      revision: kv.revision,
      createdAt: kv.createdAt,
      updatedAt: kv.updatedAt,
      canWrite: w.viewer.principal.canWrite(key),
      auditLink: w.deps.audit !== undefined && mayAudit(w),
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
      // the page decrypts and encrypts (?zk=1, from an opened view); the server form would show ciphertext
      if (w.query.get('zk') !== '1') return plainError(w.reply, 400, 'zero-knowledge values are edited in the page: open the value with its passphrase first');
      return await sendHtml(w.req, w.reply, 200, keyForm({ ...editModel(w, key, kv), value: '', zk: true }));
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

/** `PUT /web/keys/{key}`: save an edit unless the key changed since the form was opened. */
export async function updateKey(w: WebRequest, rawKey: string): Promise<void> {
  let key: string;
  try {
    key = routeKey(rawKey);
  } catch (error) {
    return sendWebError(w, error);
  }
  const s = submitted(w, key);
  const model = submittedModel(w, s);
  try {
    if (!w.viewer.principal.canWrite(key)) {
      return await formAgain(w, 403, { ...model, problem: { message: `Access denied: you may not write “${key}”`, canForce: false } });
    }
    const value = await valueOf(s);
    if ('problem' in value) return await formAgain(w, 422, { ...model, problem: { message: value.problem, canForce: value.canForce } });
    const ifRevision = await updateCondition(w, key);
    if (ifRevision === -1) return await formAgain(w, 409, { ...model, conflict: await conflictNow(w, key, s) });
    await w.deps.service.put(key, value.bytes, s.format, { ifRevision, actor: w.viewer.principal.actor });
    w.deps.log.info(`web: updated ${key} by ${w.viewer.name || 'anonymous'}`, w.req.id);
    await answerWritten(w, `Saved “${key}”`);
  } catch (error) {
    if (error instanceof ConflictError) return formAgain(w, 409, { ...model, conflict: await conflictNow(w, key, s) });
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

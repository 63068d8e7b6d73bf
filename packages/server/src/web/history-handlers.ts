import { normalizeKey } from '@stash/client/core';
import { ConflictError, NotFoundError, ValidationError } from '../domain/errors.js';
import { assertValidKey, type KeyValue } from '../domain/kv-service.js';
import type { ChangeEntry } from '../storage/store.js';
import { plainError } from '../shared/replies.js';
import { sendHtml } from './respond.js';
import { diffView, historyView, revisionView, type HistoryRow } from './templates/history.js';
import { answerWritten, field, sendWebError, showValue, type WebRequest } from './web-context.js';

// History comes from the change log, so it works with and without the git mirror.
const HISTORY_LIMIT = 50;

function toRow(e: ChangeEntry): HistoryRow {
  return { revision: e.revision, timestamp: e.timestamp, author: e.actor === '' ? 'stash' : e.actor, action: e.action, format: e.format };
}

/** The key's current revision, 0 when it does not exist now. */
async function currentRevision(w: WebRequest, key: string): Promise<number> {
  try {
    return (await w.deps.service.get(key)).revision;
  } catch (error) {
    if (error instanceof NotFoundError) return 0;
    throw error;
  }
}

function parseRev(raw: string): number {
  if (!/^\d{1,15}$/.test(raw) || Number(raw) === 0) throw new ValidationError('rev must be a revision number');
  return Number(raw);
}

/** The key as of the revision in field `name` (form or query), or 404 when the log does not reach it. */
async function valueAt(w: WebRequest, key: string, name = 'rev'): Promise<KeyValue> {
  const revision = parseRev(field(w, name));
  const missing = new NotFoundError(`revision ${revision} of this key is not in the history`);
  // a revision not written yet has no value "as of" it
  if (revision > (await w.deps.service.revision())) throw missing;
  return w.deps.service.get(key, revision).catch((error: unknown) => {
    throw error instanceof NotFoundError ? missing : error;
  });
}

/** `GET /web/keys/history/{key}` */
export async function keyHistory(w: WebRequest, rawKey: string): Promise<void> {
  try {
    const key = assertValidKey(normalizeKey(rawKey));
    if (!w.viewer.principal.canRead(key)) return plainError(w.reply, 403, 'access denied');
    const entries = (await w.deps.service.history(key, HISTORY_LIMIT)).map(toRow);
    const current = await currentRevision(w, key);
    const canWrite = w.viewer.principal.canWrite(key);
    await sendHtml(w.req, w.reply, 200, historyView({ base: w.deps.baseUrl, key, entries, current, canWrite }));
  } catch (error) {
    sendWebError(w, error);
  }
}

/** `GET /web/keys/revision/{key}?rev=N` */
export async function keyRevision(w: WebRequest, rawKey: string): Promise<void> {
  try {
    const key = assertValidKey(normalizeKey(rawKey));
    if (!w.viewer.principal.canRead(key)) return plainError(w.reply, 403, 'access denied');
    const kv = await valueAt(w, key);
    const entry = (await w.deps.service.history(key, HISTORY_LIMIT)).find((e) => e.revision === kv.revision);
    await sendHtml(w.req, w.reply, 200, revisionView({
      base: w.deps.baseUrl,
      key,
      revision: kv.revision,
      value: showValue(kv.value),
      format: kv.format,
      entry: entry && toRow(entry),
      current: await currentRevision(w, key),
      canWrite: w.viewer.principal.canWrite(key),
    }));
  } catch (error) {
    sendWebError(w, error);
  }
}

/** `POST /web/keys/restore/{key}` (form `rev`): the old value and format written again, as a new revision. */
export async function restoreKey(w: WebRequest, rawKey: string): Promise<void> {
  try {
    const key = assertValidKey(normalizeKey(rawKey));
    if (!w.viewer.principal.canWrite(key)) return plainError(w.reply, 403, 'access denied');
    const old = await valueAt(w, key);
    const revision = parseRev(field(w, 'rev'));
    // the revision the history showed as current: a change since then is not overwritten blindly
    const seen = w.form.get('if_revision');
    const ifRevision = seen === undefined || seen === null || seen === '' ? undefined : Number(seen);
    if (ifRevision !== undefined && !Number.isSafeInteger(ifRevision)) throw new ValidationError('invalid if_revision field');
    const entry = await w.deps.service.put(key, old.value, old.format, { actor: w.viewer.principal.actor, ifRevision });
    w.deps.log.info(`web: restored ${key} to revision ${revision} (now ${entry.revision}) by ${w.viewer.name || 'anonymous'}`, w.req.id);
    await answerWritten(w, `Restored “${key}” to revision ${revision}`);
  } catch (error) {
    if (error instanceof ConflictError) {
      return plainError(w.reply, 409, `“${error.key}” changed since its history was opened (now revision ${error.currentRevision}): nothing was restored, open the history again`);
    }
    sendWebError(w, error);
  }
}

/** `GET /web/keys/diff/{key}?from=A&to=B`: what changed from revision A to revision B, line by line. */
export async function keyDiff(w: WebRequest, rawKey: string): Promise<void> {
  try {
    const key = assertValidKey(normalizeKey(rawKey));
    if (!w.viewer.principal.canRead(key)) return plainError(w.reply, 403, 'access denied');
    const [from, to] = await Promise.all([valueAt(w, key, 'from'), valueAt(w, key, 'to')]);
    const a = showValue(from.value);
    const b = showValue(to.value);
    await sendHtml(w.req, w.reply, 200, diffView({ base: w.deps.baseUrl, key, from: { revision: from.revision, value: a }, to: { revision: to.revision, value: b } }));
  } catch (error) {
    sendWebError(w, error);
  }
}

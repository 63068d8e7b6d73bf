import { NotFoundError } from '../domain/errors.js';
import { plainError } from '../shared/replies.js';
import { conflictNow, formAgain, revisionField, routeKey, submitted, submittedModel, toNanos } from './edit-form.js';
import { mergeEdits } from './merge.js';
import { sendWebError, showValue, type WebRequest } from './web-context.js';

/**
 * `POST /web/keys/compare/{key}`: the open edit form against the key as it is now, before
 * saving (the page saw a change arrive on its stream): the conflict panel with the diff.
 */
export async function compareKey(w: WebRequest, rawKey: string): Promise<void> {
  try {
    const key = routeKey(rawKey);
    if (!w.viewer.principal.canWrite(key)) return plainError(w.reply, 403, 'access denied');
    const s = submitted(w, key);
    const conflict = await conflictNow(w, key, s);
    const model = submittedModel(w, s);
    if (conflict.server && conflict.server.revision === model.revision) {
      return await formAgain(w, 200, { ...model, notice: 'No one else has changed this key since you opened it.' });
    }
    await formAgain(w, 200, { ...model, conflict: { ...conflict, early: true } });
  } catch (error) {
    sendWebError(w, error);
  }
}

/**
 * `POST /web/keys/merge/{key}`: the user's edit and the version saved meanwhile merged line by
 * line from the version the form was opened on; regions both changed are marked. The form that
 * comes back saves on top of their revision, so a third change is caught again.
 */
export async function mergeKey(w: WebRequest, rawKey: string): Promise<void> {
  try {
    const key = routeKey(rawKey);
    if (!w.viewer.principal.canWrite(key)) return plainError(w.reply, 403, 'access denied');
    const s = submitted(w, key);
    const model = submittedModel(w, s);
    const theirs = await w.deps.service.get(key, revisionField(w.form.get('server_revision') ?? ''));
    const base = model.revision
      ? await w.deps.service.get(key, model.revision).catch((error: unknown) => {
          if (error instanceof NotFoundError) return undefined; // pruned: merge against nothing
          throw error;
        })
      : undefined;
    const theirText = showValue(theirs.value);
    const baseText = base ? showValue(base.value).text : '';
    if (theirText.binary || s.binary) return plainError(w.reply, 400, 'binary values cannot be merged line by line');
    const merged = mergeEdits(baseText, s.text, theirText.text, `theirs (revision ${theirs.revision})`);
    const notice =
      merged.conflicts === 0
        ? `Merged with revision ${theirs.revision}: both sets of changes are in. Review and save.`
        : `Merged with revision ${theirs.revision}: ${merged.conflicts} ${merged.conflicts === 1 ? 'place' : 'places'} changed on both sides ${merged.conflicts === 1 ? 'is' : 'are'} marked with <<<<<<< and >>>>>>>. Resolve and save.`;
    await formAgain(w, 200, {
      ...model,
      value: merged.text,
      revision: theirs.revision,
      updatedAtNs: toNanos(theirs.updatedAt),
      notice,
    });
  } catch (error) {
    sendWebError(w, error);
  }
}

import { KeyNotFoundError, RevisionConflictError, type ChangeEntry, type WriteOp } from './store.js';

/**
 * Check the ops against the locked current revisions and turn them into change entries,
 * in order (a later op sees the effect of an earlier one on the same key). Throws before
 * anything is written.
 */
export function plan(
  ops: readonly WriteOp[],
  current: Map<string, number>,
  firstRevision: number,
  now: Date,
  actor: string,
): ChangeEntry[] {
  let revision = firstRevision;
  return ops.map((op): ChangeEntry => {
    const rev = ++revision;
    const existing = current.get(op.key);
    if (op.ifRevision !== undefined && op.ifRevision !== (existing ?? 0)) {
      throw new RevisionConflictError(op.key, existing ?? 0);
    }
    if (op.kind === 'delete') {
      if (existing === undefined) throw new KeyNotFoundError(op.key);
      current.delete(op.key);
      return { revision: rev, key: op.key, action: 'delete', format: 'text', value: null, timestamp: now, actor };
    }
    current.set(op.key, rev);
    const value = Buffer.from(op.value.buffer, op.value.byteOffset, op.value.byteLength);
    const action = existing === undefined ? 'create' : 'update';
    return { revision: rev, key: op.key, action, format: op.format, value, timestamp: now, actor };
  });
}

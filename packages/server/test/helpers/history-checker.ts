/**
 * A history checker for concurrent runs against the KV API, in the spirit of Jepsen's register
 * checkers. Every value written is unique and every answer names its revision, so a history can
 * be checked without searching interleavings:
 *  - revisions of successful writes are unique;
 *  - real-time order: a write acknowledged before another began has the lower revision;
 *  - each successful CAS names the revision of its key's previous write (0: none);
 *  - no stale read: a read returns the latest write of its key acknowledged before the read
 *    began, or a later one that had begun before the read ended (never an older one, never
 *    one from the future), and reads do not go back in time against earlier reads.
 */

export type OpKind = 'read' | 'write' | 'cas' | 'delete';

export interface Op {
  client: number;
  kind: OpKind;
  key: string;
  /** performance.now() when the request was sent and when its answer arrived */
  start: number;
  end: number;
  status: number;
  /** the revision the answer named (ETag / X-Stash-Revision); reads of absent keys: 0 */
  revision: number;
  /** the value written, or read (undefined for a 404 or a delete) */
  value?: string | undefined;
  /** CAS precondition (If-Match revision; 0 = must not exist) */
  ifRevision?: number | undefined;
}

export interface CheckResult {
  ok: boolean;
  counts: Record<OpKind, number> & { failedCas: number };
  violations: string[];
}

const isWrite = (op: Op): boolean => op.kind !== 'read';
const succeeded = (op: Op): boolean => op.status >= 200 && op.status < 300;
const describe = (op: Op): string =>
  `${op.kind} ${op.key} by client ${op.client} [${op.start.toFixed(2)}..${op.end.toFixed(2)}] status ${op.status} rev ${op.revision}` +
  (op.value !== undefined ? ` value ${op.value}` : '') +
  (op.ifRevision !== undefined ? ` if ${op.ifRevision}` : '');

/**
 * Check a history whose outcomes are all known: every write answered 2xx, or 412 for a failed
 * CAS (not applied). Any other status is reported as a violation, since its effect is unknown.
 */
export function checkHistory(history: readonly Op[], maxViolations = 20): CheckResult {
  const violations: string[] = [];
  const fail = (message: string): void => {
    if (violations.length < maxViolations) violations.push(message);
  };
  const counts = { read: 0, write: 0, cas: 0, delete: 0, failedCas: 0 };
  for (const op of history) {
    counts[op.kind]++;
    if (op.kind === 'cas' && op.status === 412) counts.failedCas++;
    else if (!succeeded(op) && !(op.kind === 'read' && op.status === 404)) fail(`outcome unknown: ${describe(op)}`);
  }
  const writes = history.filter((op) => isWrite(op) && succeeded(op)).sort((a, b) => a.revision - b.revision);

  // unique revisions
  for (let i = 1; i < writes.length; i++) {
    const [a, b] = [writes[i - 1] as Op, writes[i] as Op];
    if (a.revision === b.revision) fail(`revision ${a.revision} given twice: ${describe(a)} and ${describe(b)}`);
  }

  // real-time order: walking writes by start time, every write acknowledged before this one
  // began must have a lower revision; the highest such revision is a running maximum
  const byEnd = [...writes].sort((a, b) => a.end - b.end);
  const byStart = [...writes].sort((a, b) => a.start - b.start);
  let j = 0;
  let maxDone: Op | undefined;
  for (const op of byStart) {
    while (j < byEnd.length && (byEnd[j] as Op).end < op.start) {
      const done = byEnd[j++] as Op;
      if (!maxDone || done.revision > maxDone.revision) maxDone = done;
    }
    if (maxDone && maxDone.revision >= op.revision) fail(`real-time order: ${describe(maxDone)} acknowledged before ${describe(op)} began`);
  }

  // per key: writes in revision order; CAS names the previous one
  const perKey = new Map<string, Op[]>();
  for (const op of writes) perKey.set(op.key, [...(perKey.get(op.key) ?? []), op]);
  for (const list of perKey.values()) {
    list.forEach((op, i) => {
      if (op.kind !== 'cas') return;
      const previous = i === 0 ? 0 : (list[i - 1] as Op).revision;
      if (op.ifRevision !== previous) fail(`CAS on a revision that was not the previous write (${previous}): ${describe(op)}`);
    });
  }

  // reads: map each to the write it observed, then compare against writes done before it began
  const byValue = new Map<string, Op>();
  for (const op of writes) if (op.value !== undefined) byValue.set(`${op.key}\u0000${op.value}`, op);
  const reads = history.filter((op) => op.kind === 'read' && (succeeded(op) || op.status === 404));
  const lastReadSeen = new Map<string, Op[]>();
  for (const read of reads) {
    const list = perKey.get(read.key) ?? [];
    let observed: Op | undefined;
    let observedRevision: number;
    if (succeeded(read)) {
      observed = byValue.get(`${read.key}\u0000${read.value ?? ''}`);
      if (!observed) {
        fail(`read a value nobody wrote: ${describe(read)}`);
        continue;
      }
      if (observed.revision !== read.revision) fail(`read names revision ${read.revision} for a value written at ${observed.revision}: ${describe(read)}`);
      observedRevision = observed.revision;
      if (observed.start > read.end) fail(`read from the future: ${describe(read)} saw ${describe(observed)}`);
    } else {
      // 404: the key absent, i.e. never written yet or deleted; the observed write is the latest delete (or none)
      observedRevision = latestDeleteBefore(list, read.end);
    }
    const newest = latestEndedBefore(list, read.start);
    if (newest && newest.revision > observedRevision) {
      fail(`stale read: ${describe(read)} but ${describe(newest)} was acknowledged before it began`);
    }
    lastReadSeen.set(read.key, [...(lastReadSeen.get(read.key) ?? []), { ...read, revision: observedRevision }]);
  }
  checkMonotonicReads(lastReadSeen, fail);
  return { ok: violations.length === 0, counts, violations };
}

/** The write with the highest revision among those acknowledged before `t`. */
function latestEndedBefore(list: readonly Op[], t: number): Op | undefined {
  let best: Op | undefined;
  for (const op of list) if (op.end < t && (!best || op.revision > best.revision)) best = op;
  return best;
}

/** The revision of the newest delete that had begun by `t` (0: none), what a 404 may have observed. */
function latestDeleteBefore(list: readonly Op[], t: number): number {
  let best = 0;
  for (const op of list) if (op.kind === 'delete' && op.start < t && op.revision > best) best = op.revision;
  return best;
}

/** A read that began after another read of the same key ended never observes an older write. */
function checkMonotonicReads(perKey: Map<string, Op[]>, fail: (message: string) => void): void {
  for (const reads of perKey.values()) {
    const byEnd = [...reads].sort((a, b) => a.end - b.end);
    const byStart = [...reads].sort((a, b) => a.start - b.start);
    let j = 0;
    let maxSeen: Op | undefined;
    for (const read of byStart) {
      while (j < byEnd.length && (byEnd[j] as Op).end < read.start) {
        const done = byEnd[j++] as Op;
        if (!maxSeen || done.revision > maxSeen.revision) maxSeen = done;
      }
      if (maxSeen && maxSeen.revision > read.revision) fail(`read went back in time: ${describe(read)} after ${describe(maxSeen)}`);
    }
  }
}

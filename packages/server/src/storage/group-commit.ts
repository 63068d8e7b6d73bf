/** One caller's unit of work waiting for the next group commit. */
interface Pending<T, R> {
  work: T;
  resolve: (result: R) => void;
  reject: (error: unknown) => void;
}

/** Outcome of one unit inside a group: its own result or its own error. */
export type UnitOutcome<R> = { ok: true; value: R } | { ok: false; error: unknown };

/**
 * Collects the writes that arrive while the event loop is busy and hands them to `commit`
 * together, so N concurrent writers share one transaction and one fsync. `commit` returns one
 * outcome per unit (a failing unit is rolled back alone) or throws to fail the whole group.
 */
export class GroupCommitQueue<T, R> {
  private queue: Pending<T, R>[] = [];
  private scheduled = false;
  private closed = false;

  constructor(private readonly commit: (units: readonly T[]) => UnitOutcome<R>[]) {}

  submit(work: T): Promise<R> {
    if (this.closed) return Promise.reject(new Error('store is closed'));
    return new Promise<R>((resolve, reject) => {
      this.queue.push({ work, resolve, reject });
      if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(this.flush);
      }
    });
  }

  /** Commit whatever is queued now; used on shutdown so nothing accepted is dropped. */
  readonly flush = (): void => {
    this.scheduled = false;
    const batch = this.queue;
    if (batch.length === 0) return;
    this.queue = [];
    let outcomes: UnitOutcome<R>[];
    try {
      outcomes = this.commit(batch.map((p) => p.work));
    } catch (error) {
      for (const p of batch) p.reject(error);
      return;
    }
    batch.forEach((p, i) => {
      const o = outcomes[i];
      if (o?.ok) p.resolve(o.value);
      else p.reject(o ? o.error : new Error('missing group commit outcome'));
    });
  };

  close(): void {
    this.flush();
    this.closed = true;
  }
}

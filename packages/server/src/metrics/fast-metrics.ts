import type { Registry } from 'prom-client';

/** What prom-client's registry reads from a registered metric at scrape time. */
interface ScrapedMetric {
  name: string;
  help: string;
  type: string;
  aggregator: string;
  values: { labels: Record<string, string | number>; value: number; metricName?: string }[];
}

// prom-client hashes a label object on every observation; on the GET path that costs as much as
// the SQLite read. These keep one slot per label combination, found by a joined-values key, and
// hand prom-client plain values at scrape time through its registerMetric() contract.

interface Options<L extends string> {
  name: string;
  help: string;
  labelNames: readonly L[];
  registers: Registry[];
}

type Labels<L extends string> = Readonly<Record<L, string>>;

function keyOf<L extends string>(names: readonly L[], labels: Labels<L>): string {
  let key = '';
  for (const n of names) key += `${labels[n]}\u0001`;
  return key;
}

/** Counter with labels, prom-client compatible on the wire. */
export class FastCounter<L extends string> {
  readonly name: string;
  readonly help: string;
  readonly type = 'counter' as const;
  readonly aggregator = 'sum' as const;
  private readonly slots = new Map<string, { labels: Labels<L>; value: number }>();

  constructor(private readonly options: Options<L>) {
    this.name = options.name;
    this.help = options.help;
    for (const r of options.registers) r.registerMetric(this as never);
  }

  inc(labels: Labels<L>, value = 1): void {
    this.slot(labels).value += value;
  }

  /** A handle on one label combination, for hot paths: no label lookup per increment. */
  bind(labels: Labels<L>): { inc(value?: number): void } {
    const slot = this.slot(labels);
    return {
      inc: (value = 1) => {
        slot.value += value;
      },
    };
  }

  private slot(labels: Labels<L>): { labels: Labels<L>; value: number } {
    const key = keyOf(this.options.labelNames, labels);
    let slot = this.slots.get(key);
    if (!slot) {
      slot = { labels: { ...labels }, value: 0 };
      this.slots.set(key, slot);
    }
    return slot;
  }

  get(): Promise<ScrapedMetric> {
    const values = [...this.slots.values()].map((s) => ({ labels: s.labels, value: s.value }));
    return Promise.resolve({ name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values });
  }

  reset(): void {
    for (const slot of this.slots.values()) slot.value = 0;
  }
}

interface HistogramSlot<L extends string> {
  labels: Labels<L>;
  counts: Float64Array;
  sum: number;
  count: number;
}

/** Histogram with labels, prom-client compatible on the wire (cumulative `le` buckets, `_sum`, `_count`). */
export class FastHistogram<L extends string> {
  readonly name: string;
  readonly help: string;
  readonly type = 'histogram' as const;
  readonly aggregator = 'sum' as const;
  private readonly slots = new Map<string, HistogramSlot<L>>();

  constructor(
    private readonly options: Options<L> & { buckets: readonly number[] },
  ) {
    this.name = options.name;
    this.help = options.help;
    for (const r of options.registers) r.registerMetric(this as never);
  }

  observe(labels: Labels<L>, value: number): void {
    this.record(this.slot(labels), value);
  }

  /** A handle on one label combination, for hot paths: no label lookup per observation. */
  bind(labels: Labels<L>): { observe(value: number): void } {
    const slot = this.slot(labels);
    return { observe: (value) => this.record(slot, value) };
  }

  private slot(labels: Labels<L>): HistogramSlot<L> {
    const key = keyOf(this.options.labelNames, labels);
    let slot = this.slots.get(key);
    if (!slot) {
      slot = { labels: { ...labels }, counts: new Float64Array(this.options.buckets.length), sum: 0, count: 0 };
      this.slots.set(key, slot);
    }
    return slot;
  }

  private record(slot: HistogramSlot<L>, value: number): void {
    const buckets = this.options.buckets;
    for (let i = 0; i < buckets.length; i++) {
      if (value <= (buckets[i] as number)) {
        (slot.counts[i] as number)++;
        break;
      }
    }
    slot.sum += value;
    slot.count++;
  }

  /** Start timing; the returned function records the elapsed seconds. */
  startTimer(labels: Labels<L>): () => void {
    const start = performance.now();
    return () => this.observe(labels, (performance.now() - start) / 1000);
  }

  get(): Promise<ScrapedMetric> {
    const values: ScrapedMetric['values'] = [];
    for (const slot of this.slots.values()) {
      let cumulative = 0;
      this.options.buckets.forEach((le, i) => {
        cumulative += slot.counts[i] as number;
        values.push({ metricName: `${this.name}_bucket`, labels: { ...slot.labels, le }, value: cumulative });
      });
      values.push({ metricName: `${this.name}_bucket`, labels: { ...slot.labels, le: '+Inf' }, value: slot.count });
      values.push({ metricName: `${this.name}_sum`, labels: slot.labels, value: slot.sum });
      values.push({ metricName: `${this.name}_count`, labels: slot.labels, value: slot.count });
    }
    return Promise.resolve({ name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values });
  }

  reset(): void {
    for (const slot of this.slots.values()) {
      slot.counts.fill(0);
      slot.sum = 0;
      slot.count = 0;
    }
  }
}

import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import { FastCounter, FastHistogram } from './fast-metrics.js';

/** Every metric the server exports, on one registry (no global state, so tests can run servers side by side). */
export class Metrics {
  readonly registry = new Registry();
  readonly httpDuration = new FastHistogram({
    name: 'stash_http_request_duration_seconds',
    help: 'HTTP request latency by route and status',
    labelNames: ['route', 'status'] as const,
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [this.registry],
  });
  readonly kvOperations = new FastCounter({
    name: 'stash_kv_operations_total',
    help: 'KV operations by kind and result',
    labelNames: ['op', 'result'] as const,
    registers: [this.registry],
  });
  readonly revision = new Gauge({
    name: 'stash_revision',
    help: 'newest committed revision seen by this server',
    registers: [this.registry],
  });
  readonly dbDuration = new FastHistogram({
    name: 'stash_db_operation_duration_seconds',
    help: 'storage latency by operation',
    labelNames: ['op'] as const,
    buckets: [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5],
    registers: [this.registry],
  });
  readonly cacheRequests = new Counter({
    name: 'stash_cache_requests_total',
    help: 'read cache lookups by result (hit or miss)',
    labelNames: ['result'] as const,
    registers: [this.registry],
  });
  /** the read cache's staleness bound, read at scrape time (set by the composition root) */
  stalenessNow: () => number = () => 0;
  readonly readStaleness: Gauge = new Gauge({
    name: 'stash_read_staleness_seconds',
    help: 'how far a ?consistency=serializable read may trail writes made by other servers (0 where only this server writes)',
    registers: [this.registry],
    collect: (): void => this.readStaleness.set(this.stalenessNow()),
  });
  /** requests being served now; read at scrape time instead of being set on every request */
  inFlightNow = 0;
  readonly inFlight: Gauge = new Gauge({
    name: 'stash_http_requests_in_flight',
    help: 'requests being served now',
    registers: [this.registry],
    collect: (): void => this.inFlight.set(this.inFlightNow),
  });
  readonly sseSubscribers = new Gauge({
    name: 'stash_sse_subscribers',
    help: 'open change streams',
    registers: [this.registry],
  });
  readonly sseEventsSent = new Counter({
    name: 'stash_sse_events_sent_total',
    help: 'change events written to subscribers',
    registers: [this.registry],
  });
  readonly sseEventsDropped = new Counter({
    name: 'stash_sse_subscribers_dropped_total',
    help: 'subscribers disconnected because their queue was full',
    registers: [this.registry],
  });
  readonly gitFailures = new Counter({
    name: 'stash_git_failures_total',
    help: 'git mirror operations that failed (the API write still stands)',
    labelNames: ['op'] as const,
    registers: [this.registry],
  });

  constructor(options: { processMetrics?: boolean } = {}) {
    if (options.processMetrics !== false) collectDefaultMetrics({ register: this.registry, prefix: 'stash_' });
  }

  /** Time a storage call into the DB latency histogram. */
  async timeDb<T>(op: string, work: () => Promise<T>): Promise<T> {
    const end = this.dbDuration.startTimer({ op });
    try {
      return await work();
    } finally {
      end();
    }
  }
}

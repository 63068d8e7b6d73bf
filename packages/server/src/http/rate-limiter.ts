interface Bucket {
  tokens: number;
  last: number;
}

const EXPIRE_MS = 3_600_000;

/**
 * Token bucket per client, entries expire after 1 h idle. Refill = requests per second, burst =
 * its integer part as the original's `SetBurst(int(rps))` (at least 1, so a rate below 1 still
 * lets a request through now and then).
 */
export class RateLimiter {
  private readonly buckets = new Map<string, Bucket>();
  private readonly sweeper: NodeJS.Timeout;
  private readonly burst: number;

  constructor(readonly ratePerSec: number) {
    this.burst = Math.max(1, Math.floor(ratePerSec));
    this.sweeper = setInterval(() => this.sweep(), 60_000);
    this.sweeper.unref();
  }

  get enabled(): boolean {
    return this.ratePerSec > 0;
  }

  /** Take one token; returns the tokens left, or -1 when the client is over its limit. */
  take(client: string, now = Date.now()): number {
    let b = this.buckets.get(client);
    if (!b) {
      b = { tokens: this.burst, last: now };
      this.buckets.set(client, b);
    } else {
      b.tokens = Math.min(this.burst, b.tokens + ((now - b.last) / 1000) * this.ratePerSec);
      b.last = now;
    }
    if (b.tokens < 1) return -1;
    b.tokens -= 1;
    return Math.floor(b.tokens);
  }

  private sweep(now = Date.now()): void {
    for (const [k, b] of this.buckets) if (now - b.last > EXPIRE_MS) this.buckets.delete(k);
  }

  close(): void {
    clearInterval(this.sweeper);
  }
}

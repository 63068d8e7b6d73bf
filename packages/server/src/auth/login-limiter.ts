/** Limits of the failed-login limiter; the defaults are what the server uses. */
export interface LoginLimiterOptions {
  /** failures allowed per client IP within one window */
  maxFailures: number;
  windowMs: number;
  /** IPs tracked at most; the oldest entries go first when full */
  maxTracked: number;
}

export const DEFAULT_LOGIN_LIMITS: LoginLimiterOptions = { maxFailures: 10, windowMs: 15 * 60_000, maxTracked: 10_000 };

interface Entry {
  failures: number;
  windowStart: number;
}

/**
 * Per-IP brute-force brake for `POST /login`: after `maxFailures` wrong passwords within
 * `windowMs` the IP is refused (429) until the window ends; a successful login clears it.
 * On top of the login concurrency limit, which bounds bcrypt work but not the attempt rate.
 */
export class LoginLimiter {
  private readonly entries = new Map<string, Entry>();

  constructor(private readonly options: LoginLimiterOptions = DEFAULT_LOGIN_LIMITS) {}

  /** Milliseconds until `ip` may try again, or 0 when it may try now. */
  retryAfterMs(ip: string, now = Date.now()): number {
    const entry = this.entries.get(ip);
    if (!entry) return 0;
    const end = entry.windowStart + this.options.windowMs;
    if (now >= end) {
      this.entries.delete(ip);
      return 0;
    }
    return entry.failures >= this.options.maxFailures ? end - now : 0;
  }

  fail(ip: string, now = Date.now()): void {
    const entry = this.entries.get(ip);
    if (entry && now < entry.windowStart + this.options.windowMs) {
      entry.failures++;
      return;
    }
    this.entries.delete(ip);
    if (this.entries.size >= this.options.maxTracked) this.evict(now);
    this.entries.set(ip, { failures: 1, windowStart: now });
  }

  succeed(ip: string): void {
    this.entries.delete(ip);
  }

  private evict(now: number): void {
    for (const [ip, entry] of this.entries) {
      if (now >= entry.windowStart + this.options.windowMs) this.entries.delete(ip);
    }
    // still full: drop the oldest (Map keeps insertion order)
    for (const ip of this.entries.keys()) {
      if (this.entries.size < this.options.maxTracked) break;
      this.entries.delete(ip);
    }
  }
}

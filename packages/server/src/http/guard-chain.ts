import { randomFillSync } from 'node:crypto';
import type { IncomingHttpHeaders, IncomingMessage } from 'node:http';
import type { Metrics } from '../metrics/metrics.js';
import { RateLimiter } from './rate-limiter.js';
import { RealIpResolver } from './real-ip.js';
import { decodePathPart } from '../shared/route-path.js';

export interface GuardOptions {
  version: string;
  bodyLimit: number;
  requestsPerSec: number;
  maxConcurrent: number;
  trustedProxies: readonly string[];
  metrics?: Metrics | undefined;
}

export const RATE_LIMITED_BODY = 'You have reached maximum request limit.';

const FROM_SEC_FETCH_SITE = 'cross-origin request detected from Sec-Fetch-Site header';
const FROM_ORIGIN =
  'cross-origin request detected, and/or browser is out of date: Sec-Fetch-Site is missing, and Origin does not match Host';

/** Host part of an Origin as Go's url.Parse reports it (port kept as sent, '' without authority). */
function originHost(origin: string): string {
  const start = origin.indexOf('//');
  if (start === -1) return '';
  let end = start + 2;
  while (end < origin.length && !'/?#'.includes(origin.charAt(end))) end++;
  const authority = origin.slice(start + 2, end);
  return authority.slice(authority.lastIndexOf('@') + 1);
}

/**
 * Go 1.25's CrossOriginProtection for non-safe methods: the rejection message, or undefined
 * when the request may pass (same-origin, or no browser headers at all).
 */
export function crossOriginRejection(method: string, headers: IncomingHttpHeaders): string | undefined {
  if (method === 'GET' || method === 'HEAD' || method === 'OPTIONS') return undefined;
  const site = headers['sec-fetch-site'];
  if (typeof site === 'string' && site !== '') {
    return site === 'same-origin' || site === 'none' ? undefined : FROM_SEC_FETCH_SITE;
  }
  const origin = headers.origin;
  if (typeof origin !== 'string' || origin === '') return undefined;
  return originHost(origin) === headers.host ? undefined : FROM_ORIGIN;
}

const ID_BYTES = 20;
const idPool = Buffer.alloc(ID_BYTES * 512);
let idOffset = idPool.length;

/** 40 random hex characters as rest.Trace generates; one OpenSSL call per 512 ids. */
function newRequestId(): string {
  if (idOffset === idPool.length) {
    randomFillSync(idPool);
    idOffset = 0;
  }
  const id = idPool.toString('hex', idOffset, idOffset + ID_BYTES);
  idOffset += ID_BYTES;
  return id;
}

/** `rest.Trace`: the request's own X-Request-ID, or a new one. */
export function requestId(headers: IncomingHttpHeaders): string {
  const id = headers['x-request-id'];
  return typeof id === 'string' && id !== '' ? id : newRequestId();
}

/** `rest.Ping`: a GET whose decoded, lower-cased path ends with `/ping` (url as sent, with its query). */
export function isPing(method: string, url: string): boolean {
  if (method !== 'GET') return false;
  let end = url.indexOf('?');
  if (end === -1) end = url.length;
  const pct = url.indexOf('%');
  if (pct !== -1 && pct < end) {
    const path = decodePathPart(url.slice(0, end));
    return path !== undefined && path.toLowerCase().endsWith('/ping');
  }
  // char codes instead of slice + toLowerCase: this runs on every GET
  return (
    end >= 5 &&
    url.charCodeAt(end - 5) === 0x2f &&
    (url.charCodeAt(end - 4) | 0x20) === 0x70 &&
    (url.charCodeAt(end - 3) | 0x20) === 0x69 &&
    (url.charCodeAt(end - 2) | 0x20) === 0x6e &&
    (url.charCodeAt(end - 1) | 0x20) === 0x67
  );
}

/** A histogram slot bound to one route and status. */
export interface TimingSlot {
  observe(seconds: number): void;
}

const NO_TIMING: TimingSlot = { observe: () => undefined };

/**
 * The state and steps of the original's global middleware chain (compat 3.1): real IP, rate
 * limit, concurrency limit, request id, body size, app headers. Framework-free, so the fastify
 * hook and the fast read path run the same code; each composes the steps in the original's order.
 */
export class GuardChain {
  /** response headers every admitted request carries (`rest.AppInfo`), as name/value pairs */
  readonly appHeaders: readonly string[];
  private readonly realIp: RealIpResolver;
  private readonly limiter: RateLimiter;
  private readonly limitHeader: string;
  private readonly limitInt: string;
  private readonly metrics: Metrics | undefined;
  private readonly timings = new Map<string, Map<number, TimingSlot>>();
  private inFlight = 0;

  constructor(private readonly options: GuardOptions) {
    // the original also sends `Author` with its author's name; this server was not written by him (extensions.md 1)
    this.appHeaders = ['app-name', 'stash', 'app-version', options.version];
    this.realIp = new RealIpResolver(options.trustedProxies);
    this.limiter = new RateLimiter(options.requestsPerSec);
    this.limitHeader = options.requestsPerSec.toFixed(2);
    this.limitInt = String(Math.round(options.requestsPerSec));
    this.metrics = options.metrics;
  }

  /** Effective client IP after the trusted-proxy rules. */
  clientIp(req: IncomingMessage): string {
    return this.realIp.resolve(req.socket.remoteAddress, req.headers);
  }

  get rateLimited(): boolean {
    return this.limiter.enabled;
  }

  /**
   * Take a token for the client (only when rateLimited): the tollbooth headers as name/value
   * pairs, and whether the request is over the limit (429).
   */
  takeToken(ip: string, headers: IncomingHttpHeaders): { headers: string[]; refused: boolean } {
    const left = this.limiter.take(ip);
    const out = [
      'x-rate-limit-limit',
      this.limitHeader,
      'x-rate-limit-duration',
      '1',
      'x-rate-limit-request-remote-addr',
      ip,
      'ratelimit-limit',
      this.limitInt,
      'ratelimit-reset',
      '1',
      'ratelimit-remaining',
      String(Math.max(left, 0)),
    ];
    const fwd = headers['x-forwarded-for'];
    if (typeof fwd === 'string' && fwd.trim() !== '') out.push('x-rate-limit-request-forwarded-for', fwd);
    return { headers: out, refused: left < 0 };
  }

  /** `Throttle`: true when one more request would exceed --limits.max-concurrent. */
  get saturated(): boolean {
    return this.options.maxConcurrent > 0 && this.inFlight >= this.options.maxConcurrent;
  }

  /** Count a request in flight until the returned function is called (idempotent). */
  enter(): () => void {
    this.inFlight++;
    if (this.metrics) this.metrics.inFlightNow = this.inFlight;
    let counted = true;
    return () => {
      if (!counted) return;
      counted = false;
      this.inFlight--;
      if (this.metrics) this.metrics.inFlightNow = this.inFlight;
    };
  }

  /** `SizeLimit` on the declared length; a body that grows past it is the parser's 413. */
  tooLarge(headers: IncomingHttpHeaders): boolean {
    const length = headers['content-length'];
    return length !== undefined && Number(length) > this.options.bodyLimit;
  }

  /** The latency histogram slot of a route and status, bound once: no label hashing per request. */
  timing(route: string, status: number): TimingSlot {
    const metrics = this.metrics;
    if (!metrics) return NO_TIMING;
    let byStatus = this.timings.get(route);
    if (!byStatus) this.timings.set(route, (byStatus = new Map()));
    let slot = byStatus.get(status);
    if (!slot) byStatus.set(status, (slot = metrics.httpDuration.bind({ route, status: String(status) })));
    return slot;
  }

  close(): void {
    this.limiter.close();
  }
}

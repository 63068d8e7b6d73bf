import { isIP } from 'node:net';
import { LOG_FORMATS, type LogFormat } from '../logger.js';
import { FlagError, type OptionValues } from './flag-parser.js';

/** Everything `stash server` needs, typed and validated; built once by the composition root. */
export interface ServerConfig {
  db: string;
  dbSync: 'full' | 'normal';
  debug: boolean;
  logFormat: LogFormat;
  server: {
    address: string;
    readTimeoutMs: number;
    writeTimeoutMs: number;
    idleTimeoutMs: number;
    shutdownTimeoutMs: number;
    baseUrl: string;
    pageSize: number;
    trustedProxies: string[];
  };
  limits: { bodySize: number; requestsPerSec: number; maxConcurrent: number; loginConcurrency: number };
  cache: { enabled: boolean; maxKeys: number };
  auth: { file: string; loginTtlMs: number; hotReload: boolean };
  secrets: { key: string };
  git: { enabled: boolean; path: string; branch: string; remote: string; push: boolean; sshKey: string };
  audit: { enabled: boolean; retentionMs: number; queryLimit: number };
  history: { retentionMs: number };
  metrics: { enabled: boolean; token: string };
  sse: { heartbeatMs: number; buffer: number };
}

const str = (v: OptionValues, k: string): string => String(v[k] ?? '');
const num = (v: OptionValues, k: string): number => Number(v[k] ?? 0);
const bool = (v: OptionValues, k: string): boolean => v[k] === true;
/** Socket timeouts are whole milliseconds for Node; like Go, zero or negative means none. */
const timeout = (v: OptionValues, k: string): number => {
  const ms = num(v, k);
  return ms > 0 ? Math.max(1, Math.round(ms)) : 0;
};

/** Normalise `--server.base-url`: must start with `/`, trailing `/` stripped. */
export function normalizeBaseUrl(raw: string): string {
  if (raw === '') return '';
  if (!raw.startsWith('/')) throw new FlagError('invalid base URL: base URL must start with /');
  return raw.replace(/\/+$/, '');
}

/** Validate trusted proxy entries (IPs or CIDRs); bare IPs become /32 or /128. */
export function normalizeTrustedProxies(entries: readonly string[]): string[] {
  return entries.map((entry) => {
    const [ip, bits, extra] = entry.split('/');
    const family = isIP(ip ?? '');
    const max = family === 6 ? 128 : 32;
    const ok = family !== 0 && extra === undefined && (bits === undefined || (/^\d+$/.test(bits) && Number(bits) <= max));
    if (!ok) throw new FlagError(`invalid trusted proxy "${entry}": invalid CIDR address: ${entry}`);
    return bits === undefined ? `${ip}/${max}` : entry;
  });
}

/** `--log.format`: the original's text lines, or JSON lines (this project). */
export function parseLogFormat(v: OptionValues): LogFormat {
  const format = str(v, 'log.format') || 'text';
  const known = LOG_FORMATS.find((f) => f === format);
  if (known === undefined) throw new FlagError(`invalid --log.format "${format}": expected ${LOG_FORMATS.join(' or ')}`);
  return known;
}

export function buildServerConfig(v: OptionValues): ServerConfig {
  const sync = str(v, 'db.sync');
  if (sync !== 'full' && sync !== 'normal') throw new FlagError(`invalid --db.sync "${sync}": expected full or normal`);
  const secretsKey = str(v, 'secrets.key');
  if (secretsKey !== '' && Buffer.byteLength(secretsKey) < 16) {
    throw new FlagError('secrets key must be at least 16 characters');
  }
  const bodySize = num(v, 'limits.body-size');
  parseListenAddress(str(v, 'server.address')); // fail before the database is opened
  return {
    db: str(v, 'db'),
    dbSync: sync,
    debug: bool(v, 'dbg'),
    logFormat: parseLogFormat(v),
    server: {
      address: str(v, 'server.address'),
      readTimeoutMs: timeout(v, 'server.read-timeout'),
      writeTimeoutMs: timeout(v, 'server.write-timeout'),
      idleTimeoutMs: timeout(v, 'server.idle-timeout'),
      shutdownTimeoutMs: timeout(v, 'server.shutdown-timeout'),
      baseUrl: normalizeBaseUrl(str(v, 'server.base-url')),
      pageSize: Math.max(0, num(v, 'server.page-size')),
      trustedProxies: normalizeTrustedProxies((v['server.trusted-proxies'] as string[] | undefined) ?? []),
    },
    limits: {
      bodySize: bodySize > 0 ? bodySize : 1_048_576,
      requestsPerSec: num(v, 'limits.requests-per-sec'),
      maxConcurrent: num(v, 'limits.max-concurrent'),
      loginConcurrency: num(v, 'limits.login-concurrency'),
    },
    cache: { enabled: bool(v, 'cache.enabled'), maxKeys: num(v, 'cache.max-keys') },
    auth: { file: str(v, 'auth.file'), loginTtlMs: num(v, 'auth.login-ttl'), hotReload: bool(v, 'auth.hot-reload') },
    secrets: { key: secretsKey },
    git: {
      enabled: bool(v, 'git.enabled'),
      path: str(v, 'git.path'),
      branch: str(v, 'git.branch'),
      remote: str(v, 'git.remote'),
      push: bool(v, 'git.push'),
      sshKey: str(v, 'git.ssh-key'),
    },
    audit: { enabled: bool(v, 'audit.enabled'), retentionMs: num(v, 'audit.retention'), queryLimit: num(v, 'audit.query-limit') },
    history: { retentionMs: num(v, 'history.retention') },
    metrics: { enabled: bool(v, 'metrics.enabled'), token: str(v, 'metrics.token') },
    sse: { heartbeatMs: num(v, 'sse.heartbeat'), buffer: Math.max(1, num(v, 'sse.buffer')) },
  };
}

/** Parse `host:port` / `:port` / `[::1]:port` as Go's net.Listen accepts it. */
export function parseListenAddress(address: string): { host: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:]*)):(\d+)$/.exec(address);
  if (!m) throw new FlagError(`invalid server address "${address}": expected host:port`);
  const host = m[1] ?? m[2] ?? '';
  return { host: host === '' ? '0.0.0.0' : host, port: Number(m[3]) };
}

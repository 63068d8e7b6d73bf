/** How one command-line option is spelled, where its env twin is and what it defaults to. */
export interface OptionSpec {
  long: string;
  short?: string;
  env?: string;
  kind: 'string' | 'bool' | 'int' | 'float' | 'duration' | 'list';
  default?: string;
  description: string;
  group: string;
}

/** Every global option of the original (compat.md section 2) plus this project's additions. */
export const GLOBAL_OPTIONS: readonly OptionSpec[] = [
  { long: 'db', short: 'd', env: 'STASH_DB', kind: 'string', default: 'stash.db', group: 'Application Options', description: 'database URL (sqlite file or postgres://...)' },
  { long: 'db.sync', env: 'STASH_DB_SYNC', kind: 'string', default: 'full', group: 'Application Options', description: 'sqlite durability: full (acknowledged writes are fsynced) or normal' },
  { long: 'dbg', env: 'DEBUG', kind: 'bool', group: 'Application Options', description: 'debug mode' },
  { long: 'version', kind: 'bool', group: 'Application Options', description: 'show version and exit' },
  { long: 'log.format', env: 'STASH_LOG_FORMAT', kind: 'string', default: 'text', group: 'log', description: "log line format: text (the original's) or json (one object a line, with the request id)" },
  { long: 'server.address', env: 'STASH_SERVER_ADDRESS', kind: 'string', default: ':8080', group: 'server', description: 'server listen address' },
  { long: 'server.read-timeout', env: 'STASH_SERVER_READ_TIMEOUT', kind: 'duration', default: '5s', group: 'server', description: 'read timeout' },
  { long: 'server.write-timeout', env: 'STASH_SERVER_WRITE_TIMEOUT', kind: 'duration', default: '30s', group: 'server', description: 'write timeout' },
  { long: 'server.idle-timeout', env: 'STASH_SERVER_IDLE_TIMEOUT', kind: 'duration', default: '30s', group: 'server', description: 'idle timeout' },
  { long: 'server.shutdown-timeout', env: 'STASH_SERVER_SHUTDOWN_TIMEOUT', kind: 'duration', default: '5s', group: 'server', description: 'graceful shutdown timeout' },
  { long: 'server.base-url', env: 'STASH_SERVER_BASE_URL', kind: 'string', default: '', group: 'server', description: 'base URL path for reverse proxy (e.g., /stash)' },
  { long: 'server.page-size', env: 'STASH_SERVER_PAGE_SIZE', kind: 'int', default: '50', group: 'server', description: 'keys per page in web UI (0 to disable pagination)' },
  { long: 'server.trusted-proxies', env: 'STASH_SERVER_TRUSTED_PROXIES', kind: 'list', default: '', group: 'server', description: 'trusted proxy IPs or CIDRs for X-Forwarded-For and X-Real-IP' },
  { long: 'limits.body-size', env: 'STASH_LIMITS_BODY_SIZE', kind: 'int', default: '1048576', group: 'limits', description: 'max request body size in bytes' },
  { long: 'limits.requests-per-sec', env: 'STASH_LIMITS_REQUESTS_PER_SEC', kind: 'float', default: '100', group: 'limits', description: 'max requests per second per client' },
  { long: 'limits.max-concurrent', env: 'STASH_LIMITS_MAX_CONCURRENT', kind: 'int', default: '1000', group: 'limits', description: 'max concurrent in-flight requests' },
  { long: 'limits.login-concurrency', env: 'STASH_LIMITS_LOGIN_CONCURRENCY', kind: 'int', default: '5', group: 'limits', description: 'max concurrent login attempts' },
  { long: 'cache.enabled', env: 'STASH_CACHE_ENABLED', kind: 'bool', group: 'cache', description: 'enable in-memory read cache' },
  { long: 'cache.max-keys', env: 'STASH_CACHE_MAX_KEYS', kind: 'int', default: '1000', group: 'cache', description: 'maximum number of cached keys' },
  { long: 'auth.file', env: 'STASH_AUTH_FILE', kind: 'string', default: '', group: 'auth', description: 'path to auth config file (enables auth)' },
  { long: 'auth.login-ttl', env: 'STASH_AUTH_LOGIN_TTL', kind: 'duration', default: '720h', group: 'auth', description: 'login session TTL' },
  { long: 'auth.hot-reload', env: 'STASH_AUTH_HOT_RELOAD', kind: 'bool', group: 'auth', description: 'watch auth config file for changes and reload' },
  { long: 'secrets.key', env: 'STASH_SECRETS_KEY', kind: 'string', default: '', group: 'secrets', description: 'secret key for encrypting secrets (min 16 chars)' },
  { long: 'git.enabled', env: 'STASH_GIT_ENABLED', kind: 'bool', group: 'git', description: 'enable git versioning' },
  { long: 'git.path', env: 'STASH_GIT_PATH', kind: 'string', default: '.history', group: 'git', description: 'git repository path' },
  { long: 'git.branch', env: 'STASH_GIT_BRANCH', kind: 'string', default: 'master', group: 'git', description: 'git branch name' },
  { long: 'git.remote', env: 'STASH_GIT_REMOTE', kind: 'string', default: '', group: 'git', description: 'git remote name (for push/pull)' },
  { long: 'git.push', env: 'STASH_GIT_PUSH', kind: 'bool', group: 'git', description: 'auto-push after commits' },
  { long: 'git.ssh-key', env: 'STASH_GIT_SSH_KEY', kind: 'string', default: '', group: 'git', description: 'path to SSH private key for git push' },
  { long: 'audit.enabled', env: 'STASH_AUDIT_ENABLED', kind: 'bool', group: 'audit', description: 'enable audit logging' },
  { long: 'audit.retention', env: 'STASH_AUDIT_RETENTION', kind: 'duration', default: '2160h', group: 'audit', description: 'audit log retention period' },
  { long: 'audit.query-limit', env: 'STASH_AUDIT_QUERY_LIMIT', kind: 'int', default: '10000', group: 'audit', description: 'max entries per audit query' },
  { long: 'history.retention', env: 'STASH_HISTORY_RETENTION', kind: 'duration', default: '720h', group: 'history', description: 'change log retention (0 keeps everything; the last 10 versions of a key are always kept)' },
  { long: 'metrics.enabled', env: 'STASH_METRICS_ENABLED', kind: 'bool', default: 'true', group: 'metrics', description: 'serve Prometheus metrics on /metrics' },
  { long: 'metrics.token', env: 'STASH_METRICS_TOKEN', kind: 'string', default: '', group: 'metrics', description: 'bearer token required for /metrics (empty: open)' },
  { long: 'sse.heartbeat', env: 'STASH_SSE_HEARTBEAT', kind: 'duration', default: '15s', group: 'sse', description: 'heartbeat comment interval on change streams' },
  { long: 'sse.buffer', env: 'STASH_SSE_BUFFER', kind: 'int', default: '1024', group: 'sse', description: 'events queued per subscriber before it is disconnected' },
];

export const RESTORE_OPTIONS: readonly OptionSpec[] = [
  { long: 'rev', kind: 'string', group: 'restore', description: 'git revision to restore (commit hash, tag, or branch)' },
];

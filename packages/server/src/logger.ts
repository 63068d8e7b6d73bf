/**
 * Minimal leveled logger. `text` is the original's line style, `2006/01/02 15:04:05 [INFO] message`;
 * `json` (this project) writes one object a line, `{"time","level","msg","request_id"?}`.
 */
export interface Logger {
  debug(message: string, requestId?: string): void;
  info(message: string, requestId?: string): void;
  warn(message: string, requestId?: string): void;
  error(message: string, requestId?: string): void;
  /** true when debug lines are written, so callers can skip building them */
  readonly debugEnabled?: boolean;
}

export const LOG_FORMATS = ['text', 'json'] as const;
export type LogFormat = (typeof LOG_FORMATS)[number];

const pad = (n: number): string => String(n).padStart(2, '0');
let stampSecond = -1;
let stampText = '';
/** Local time to the second; formatted once per second, as every write logs a line. */
function stamp(): string {
  const now = Date.now();
  const second = Math.floor(now / 1000);
  if (second !== stampSecond) {
    const d = new Date(now);
    stampSecond = second;
    stampText = `${d.getFullYear()}/${pad(d.getMonth() + 1)}/${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
  }
  return stampText;
}

/**
 * stdout writes are synchronous syscalls for files and pipes; under load one per request costs
 * more than the request. Lines are joined and written once per event-loop turn instead, and
 * whatever is pending is written synchronously on exit, so nothing logged is dropped.
 */
function batchedStdout(): (line: string) => void {
  let pending: string[] = [];
  const flush = (): void => {
    if (pending.length === 0) return;
    const chunk = pending.join('');
    pending = [];
    process.stdout.write(chunk);
  };
  process.once('exit', flush);
  return (line) => {
    if (pending.push(line) === 1) setImmediate(flush);
  };
}

type LineFormatter = (level: string, message: string, requestId?: string) => string;

const textLine: LineFormatter = (level, message, requestId) =>
  `${stamp()} [${level}] ${message}${requestId ? ` (request ${requestId})` : ''}\n`;

/** Field names of Go's slog JSON handler (time in RFC 3339 with milliseconds, UTC), plus request_id. */
const jsonLine: LineFormatter = (level, message, requestId) =>
  `{"time":"${new Date().toISOString()}","level":"${level}","msg":${JSON.stringify(message)}${
    requestId ? `,"request_id":${JSON.stringify(requestId)}` : ''
  }}\n`;

export function createLogger(
  options: { debug?: boolean; format?: LogFormat; write?: (line: string) => void } = {},
): Logger {
  const write = options.write ?? batchedStdout();
  const line = options.format === 'json' ? jsonLine : textLine;
  const emit = (level: string, message: string, requestId?: string): void => {
    write(line(level, message, requestId));
  };
  return {
    debugEnabled: options.debug === true,
    debug: (m, id) => {
      if (options.debug) emit('DEBUG', m, id);
    },
    info: (m, id) => emit('INFO', m, id),
    warn: (m, id) => emit('WARN', m, id),
    error: (m, id) => emit('ERROR', m, id),
  };
}

export const silentLogger: Logger = { debug() {}, info() {}, warn() {}, error() {} };

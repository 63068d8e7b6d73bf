/** Minimal leveled logger in the original's line style: `2006/01/02 15:04:05 [INFO] message`. */
export interface Logger {
  debug(message: string, requestId?: string): void;
  info(message: string, requestId?: string): void;
  warn(message: string, requestId?: string): void;
  error(message: string, requestId?: string): void;
}

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

export function createLogger(options: { debug?: boolean; write?: (line: string) => void } = {}): Logger {
  const write = options.write ?? batchedStdout();
  const emit = (level: string, message: string, requestId?: string): void => {
    write(`${stamp()} [${level}] ${message}${requestId ? ` (request ${requestId})` : ''}\n`);
  };
  return {
    debug: (m, id) => {
      if (options.debug) emit('DEBUG', m, id);
    },
    info: (m, id) => emit('INFO', m, id),
    warn: (m, id) => emit('WARN', m, id),
    error: (m, id) => emit('ERROR', m, id),
  };
}

export const silentLogger: Logger = { debug() {}, info() {}, warn() {}, error() {} };

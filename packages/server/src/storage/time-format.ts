// the original (Go + modernc sqlite) writes time.Time.String(): "2006-01-02 15:04:05.999999999 +0000 UTC";
// rows it inserted with CURRENT_TIMESTAMP read as "2006-01-02 15:04:05"; ISO strings appear too.

const pad = (n: number, w = 2): string => String(n).padStart(w, '0');

/** Format a date the way the original stores it in SQLite, so databases move both ways. */
export function formatGoTime(date: Date): string {
  const ms = date.getUTCMilliseconds();
  const frac = ms === 0 ? '' : `.${pad(ms, 3).replace(/0+$/, '')}`;
  return (
    `${date.getUTCFullYear()}-${pad(date.getUTCMonth() + 1)}-${pad(date.getUTCDate())} ` +
    `${pad(date.getUTCHours())}:${pad(date.getUTCMinutes())}:${pad(date.getUTCSeconds())}${frac} +0000 UTC`
  );
}

const STORED_TIME =
  /^(\d{4})-(\d{2})-(\d{2})[ T](\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?\s*(Z|[+-]\d{2}:?\d{2})?(?:\s+[A-Z]{1,5})?(?:\s+m=\S+)?$/;

const CANONICAL_SUFFIX = ' +0000 UTC';

function num(s: string, from: number, len: number): number {
  let n = 0;
  for (let i = from; i < from + len; i++) {
    const d = s.charCodeAt(i) - 48;
    if (d < 0 || d > 9) return Number.NaN;
    n = n * 10 + d;
  }
  return n;
}

/** Fast path for what we (and the original) write: "YYYY-MM-DD HH:MM:SS[.fff…] +0000 UTC"; list reads parse two per key. */
function parseCanonical(s: string): number {
  if (s.length < 29 || s.charCodeAt(10) !== 0x20 || !s.endsWith(CANONICAL_SUFFIX)) return Number.NaN;
  const fracEnd = s.length - CANONICAL_SUFFIX.length;
  let ms = 0;
  if (fracEnd > 19) {
    if (s.charCodeAt(19) !== 0x2e) return Number.NaN;
    const digits = Math.min(fracEnd - 20, 3);
    ms = num(s, 20, digits) * 10 ** (3 - digits);
  }
  return Date.UTC(num(s, 0, 4), num(s, 5, 2) - 1, num(s, 8, 2), num(s, 11, 2), num(s, 14, 2), num(s, 17, 2), ms);
}

/** Parse every time layout found in Stash databases; unknown text yields the epoch, never a crash. */
export function parseStoredTime(value: unknown): Date {
  if (value instanceof Date) return value;
  if (typeof value === 'number') return new Date(value);
  if (typeof value !== 'string') return new Date(0);
  const fast = parseCanonical(value);
  if (!Number.isNaN(fast)) return new Date(fast);
  const m = STORED_TIME.exec(value.trim());
  if (!m) {
    const t = Date.parse(value);
    return new Date(Number.isNaN(t) ? 0 : t);
  }
  const [, y, mo, d, h, mi, s, frac, zone] = m;
  const ms = frac ? Number(frac.slice(0, 3).padEnd(3, '0')) : 0;
  let t = Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s), ms);
  if (zone && zone !== 'Z') {
    const sign = zone.startsWith('-') ? -1 : 1;
    const digits = zone.slice(1).replace(':', '');
    t -= sign * (Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2, 4))) * 60_000;
  }
  return new Date(t);
}

const UNITS: Record<string, number> = { ns: 1e-6, us: 1e-3, µs: 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
const PART = /(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|ms|s|m|h)/y;

/** Parse a Go duration ("720h", "1h30m", "500ms", "0") into milliseconds; throws on bad input. */
export function parseDuration(text: string): number {
  const s = text.trim();
  if (s === '0') return 0;
  let i = s.startsWith('-') || s.startsWith('+') ? 1 : 0;
  const sign = s.startsWith('-') ? -1 : 1;
  if (i >= s.length) throw new Error(`time: invalid duration "${text}"`);
  let total = 0;
  while (i < s.length) {
    PART.lastIndex = i;
    const m = PART.exec(s);
    if (!m) throw new Error(`time: invalid duration "${text}"`);
    total += Number(m[1]) * (UNITS[m[2] as string] as number);
    i = PART.lastIndex;
  }
  return sign * total;
}

/** Format milliseconds as a Go duration string (for --help defaults). */
export function formatDuration(ms: number): string {
  if (ms === 0) return '0s';
  const h = Math.floor(ms / 3_600_000);
  const m = Math.floor((ms % 3_600_000) / 60_000);
  const s = (ms % 60_000) / 1000;
  return `${h ? `${h}h` : ''}${h || m ? `${m}m` : ''}${s}s`;
}

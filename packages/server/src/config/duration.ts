// µ (U+00B5) and μ (U+03BC) are both accepted by Go's time.ParseDuration
const UNITS: Record<string, number> = {
  ns: 1e-6,
  us: 1e-3,
  '\u00b5s': 1e-3,
  '\u03bcs': 1e-3,
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
};
const NUMBER = /(\d*)(?:\.(\d*))?/y;
const UNIT = /[^\d.]*/y;

/**
 * Parse a Go duration ("720h", "1h30m", "500ms", "0") into milliseconds with the error texts
 * of Go's time.ParseDuration, since go-flags shows them verbatim.
 * @throws Error `time: invalid duration "x"`, `time: missing unit in duration "5"`, `time: unknown unit "x" in duration "5x"`
 */
export function parseDuration(text: string): number {
  const invalid = (): Error => new Error(`time: invalid duration ${JSON.stringify(text)}`);
  let s = text;
  let sign = 1;
  if (s.startsWith('-') || s.startsWith('+')) {
    sign = s.startsWith('-') ? -1 : 1;
    s = s.slice(1);
  }
  if (s === '0') return 0;
  if (s === '') throw invalid();
  let total = 0;
  let i = 0;
  while (i < s.length) {
    NUMBER.lastIndex = i;
    const num = NUMBER.exec(s);
    const whole = num?.[1] ?? '';
    const fraction = num?.[2] ?? '';
    if (!num || (whole === '' && fraction === '')) throw invalid();
    i = NUMBER.lastIndex;
    UNIT.lastIndex = i;
    const unit = (UNIT.exec(s) as RegExpExecArray)[0];
    if (unit === '') throw new Error(`time: missing unit in duration ${JSON.stringify(text)}`);
    const scale = UNITS[unit];
    if (scale === undefined) {
      throw new Error(`time: unknown unit ${JSON.stringify(unit)} in duration ${JSON.stringify(text)}`);
    }
    i = UNIT.lastIndex;
    total += Number(`${whole || '0'}.${fraction || '0'}`) * scale;
  }
  return sign * total;
}

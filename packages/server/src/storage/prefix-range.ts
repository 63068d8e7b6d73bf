// UTF-8 byte order (SQLite BINARY, PostgreSQL "C") equals code point order, so the keys starting
// with a prefix are exactly [prefix, successor) where the successor bumps the last code point
// that can still grow (trailing U+10FFFF are dropped first: "z\u{10FFFF}" must match prefix "z").
const MAX_CODE_POINT = 0x10ffff;

/**
 * Exclusive upper bound of the key range that starts with `prefix`; undefined when no bound
 * exists (empty prefix, or one made only of U+10FFFF): then every key >= prefix qualifies.
 */
export function prefixUpperBound(prefix: string): string | undefined {
  const points = Array.from(prefix, (ch) => ch.codePointAt(0) as number);
  while (points.length > 0 && points[points.length - 1] === MAX_CODE_POINT) points.pop();
  if (points.length === 0) return undefined;
  const last = (points.pop() as number) + 1;
  points.push(last === 0xd800 ? 0xe000 : last); // no code points inside the surrogate range
  return String.fromCodePoint(...points);
}

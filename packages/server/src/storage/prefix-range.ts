// U+10FFFF sorts after every other code point in UTF-8 byte order (SQLite BINARY, PostgreSQL "C"),
// so [prefix, prefix + U+10FFFF) is the index range of keys starting with prefix.
const MAX_CODE_POINT = String.fromCodePoint(0x10ffff);

/** Exclusive upper bound of the key range that starts with `prefix`. */
export function prefixUpperBound(prefix: string): string {
  return prefix + MAX_CODE_POINT;
}

/**
 * Normalise a key as every Stash entry point does: trim Unicode whitespace, then every
 * leading/trailing `/`, then turn ASCII spaces into `_`. May return an empty string.
 */
export function normalizeKey(key: string): string {
  let k = key.trim();
  let start = 0;
  let end = k.length;
  while (start < end && k.charCodeAt(start) === 0x2f) start++;
  while (end > start && k.charCodeAt(end - 1) === 0x2f) end--;
  k = k.slice(start, end);
  return k.includes(' ') ? k.replaceAll(' ', '_') : k;
}

/** A key is secret when one of its path segments is exactly `secrets` (case-sensitive). */
export function isSecretKey(key: string): boolean {
  return (
    key === 'secrets' ||
    key.startsWith('secrets/') ||
    key.endsWith('/secrets') ||
    key.includes('/secrets/')
  );
}

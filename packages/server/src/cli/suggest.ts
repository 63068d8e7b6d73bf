/** Levenshtein distance of two strings (insert, delete, substitute: 1 each; a swap counts 1 too). */
export function editDistance(a: string, b: string): number {
  const rows = a.length + 1;
  const cols = b.length + 1;
  const d: number[][] = Array.from({ length: rows }, (_, i) => Array.from({ length: cols }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i < rows; i++) {
    for (let j = 1; j < cols; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      const row = d[i] as number[];
      const prev = d[i - 1] as number[];
      row[j] = Math.min((prev[j] as number) + 1, (row[j - 1] as number) + 1, (prev[j - 1] as number) + cost);
      // adjacent transposition ("tset" for "test") is one typo, not two
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        row[j] = Math.min(row[j] as number, ((d[i - 2] as number[])[j - 2] as number) + 1);
      }
    }
  }
  return (d[rows - 1] as number[])[cols - 1] as number;
}

/**
 * The candidate closest to what was typed, when it is close enough to be a typo: at most one
 * edit for short words, two from five letters, three from nine; a typed prefix of a single
 * candidate ("hist" for "history") counts too. Undefined when nothing is that close.
 */
export function closest(typed: string, candidates: readonly string[]): string | undefined {
  if (typed === '') return undefined;
  const allowed = typed.length >= 9 ? 3 : typed.length >= 5 ? 2 : 1;
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const candidate of candidates) {
    const distance = editDistance(typed.toLowerCase(), candidate.toLowerCase());
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  if (best !== undefined && bestDistance <= allowed && bestDistance < Math.max(typed.length, 2)) return best;
  const prefixed = typed.length >= 3 ? candidates.filter((c) => c.startsWith(typed)) : [];
  return prefixed.length === 1 ? prefixed[0] : undefined;
}

/** ` Did you mean `x`?` for a typo, or '' when nothing is close. */
export function didYouMean(typed: string, candidates: readonly string[], decorate: (name: string) => string = (n) => n): string {
  const match = closest(typed, candidates);
  return match === undefined ? '' : ` Did you mean \`${decorate(match)}\`?`;
}

/** The message for a command nobody knows (the original's go-flags wording), with the nearest known one. */
export function unknownCommandMessage(typed: string, known: readonly string[]): string {
  return `Unknown command \`${typed}'.${didYouMean(typed, known)} Run \`stash help\` for the list of commands.\n`;
}

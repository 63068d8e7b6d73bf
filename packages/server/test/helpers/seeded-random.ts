/**
 * A small seeded PRNG (mulberry32): a chaos run with the same seed makes the same plan (which
 * keys, which batches, when to drop); the interleaving with the server still varies.
 */
export interface SeededRandom {
  /** uniform in [0, 1) */
  next(): number;
  /** integer in [0, n) */
  int(n: number): number;
  /** an element of `items` */
  pick<T>(items: readonly T[]): T;
}

export function createSeededRandom(seed: number): SeededRandom {
  let state = seed >>> 0;
  const next = (): number => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (n: number): number => Math.floor(next() * n);
  return { next, int, pick: (items) => items[int(items.length)] as (typeof items)[number] };
}

/** The seed a randomized test runs with: `env` when it is a number, a fresh one for `random`, else `fallback`. */
export function seedFromEnv(value: string | undefined, fallback: number): number {
  if (value === 'random') return Math.floor(Math.random() * 2 ** 31);
  if (value !== undefined && /^\d+$/.test(value)) return Number(value);
  return fallback;
}

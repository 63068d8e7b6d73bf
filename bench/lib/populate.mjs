// Shared by the benchmarks: a populated database through the server's batch writes (`POST /kv/`
// of `[{ key, value }]`), so memory and start-up are measured on a store with keys and history.

const pad = (n, w) => String(n).padStart(w, '0');

/**
 * Write `keys` keys (`pop/GGG/IIII`, 100 per group) `versions` times each: `keys` rows and
 * `keys * versions` change-log entries, in batches of `batch` items (each batch one transaction).
 * Checks the server's revision counter afterwards; resolves `{ keys, entries, ms }`.
 */
export async function populate(url, { keys = 10_000, versions = 20, batch = 1000, valueBytes = 100 } = {}) {
  const started = performance.now();
  const before = await revision(url);
  const names = Array.from({ length: keys }, (_, i) => `pop/${pad(Math.floor(i / 100), 3)}/${pad(i % 100, 4)}`);
  for (let v = 0; v < versions; v++) {
    const value = `${pad(v, 4)}${'v'.repeat(Math.max(0, valueBytes - 4))}`;
    for (let i = 0; i < keys; i += batch) {
      const items = names.slice(i, i + batch).map((key) => ({ key, value }));
      const res = await fetch(`${url}/kv/`, { method: 'POST', body: JSON.stringify(items), headers: { 'content-type': 'application/json' } });
      if (!res.ok) throw new Error(`populate batch: ${res.status} ${await res.text()}`);
      await res.arrayBuffer();
    }
  }
  const entries = (await revision(url)) - before;
  if (entries !== keys * versions) throw new Error(`populate: revision moved by ${entries}, expected ${keys * versions}`);
  return { keys, entries, ms: performance.now() - started };
}

/** The server's newest revision (`stash_revision` at /metrics). */
async function revision(url) {
  const text = await (await fetch(`${url}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith('stash_revision '));
  if (!line) throw new Error('populate: no stash_revision at /metrics (is --metrics.enabled off?)');
  return Number(line.split(' ')[1]);
}

/** "10,000 keys, 200,000 history entries" */
export const describePopulation = (p) => `${p.keys.toLocaleString('en-US')} keys, ${p.entries.toLocaleString('en-US')} history entries`;

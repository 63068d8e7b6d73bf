import type { SeededRandom } from './seeded-random.js';

/** A write as its writer saw it acknowledged: the key and what it did, by revision. */
export interface AckedChange {
  key: string;
  action: 'create' | 'update' | 'delete';
}

export interface ChaosWritersOptions {
  url: string;
  /** concurrent writers, each owning its own keys (so it knows which exist) */
  writers: number;
  keysPerWriter: number;
  /** total changes (batch items count one each) */
  total: number;
  rng: SeededRandom;
  /** called after every acknowledged request with the newest revision acknowledged so far */
  onAck?: (revision: number) => void;
}

async function send(url: string, method: string, body?: string): Promise<Response> {
  const res = await fetch(url, { method, body });
  if (res.status >= 300) throw new Error(`${method} ${url}: ${res.status} ${await res.text()}`);
  return res;
}

function ackedRevision(res: Response): number {
  const rev = Number(res.headers.get('x-stash-revision'));
  if (!Number.isSafeInteger(rev) || rev <= 0) throw new Error(`no X-Stash-Revision on ${res.url}`);
  return rev;
}

/**
 * Writers doing PUTs, DELETEs and batches (a tenth of the requests, 2 to 20 items, deletes
 * mixed in) until `total` changes are acknowledged. Resolves with every acknowledged change by
 * revision; a revision acknowledged twice throws.
 */
export async function runChaosWriters(options: ChaosWritersOptions): Promise<Map<number, AckedChange>> {
  const { url, rng } = options;
  const acked = new Map<number, AckedChange>();
  let planned = 0;
  let newest = 0;
  const ack = (revision: number, change: AckedChange): void => {
    if (acked.has(revision)) throw new Error(`revision ${revision} acknowledged twice`);
    acked.set(revision, change);
    newest = Math.max(newest, revision);
  };

  const writer = async (w: number): Promise<void> => {
    const keys = Array.from({ length: options.keysPerWriter }, (_, i) => `chaos/w${w}/k${i}`);
    const existing = new Set<string>();
    while (planned < options.total) {
      const roll = rng.next();
      if (roll < 0.1 && options.total - planned >= 2) {
        const size = Math.min(2 + rng.int(19), keys.length, options.total - planned);
        planned += size;
        const picked = [...keys];
        for (let i = 0; i < size; i++) {
          const j = i + rng.int(picked.length - i);
          [picked[i], picked[j]] = [picked[j] as string, picked[i] as string];
        }
        picked.length = size;
        const items = picked.map((key) =>
          existing.has(key) && rng.next() < 0.2 ? { key, delete: true } : { key, value: `b${planned}`, format: 'text' },
        );
        const res = await send(`${url}/kv/`, 'POST', JSON.stringify(items));
        const last = ((await res.json()) as { revision: number }).revision;
        items.forEach((item, i) => {
          const action = 'delete' in item ? 'delete' : existing.has(item.key) ? 'update' : 'create';
          if (action === 'delete') existing.delete(item.key);
          else existing.add(item.key);
          ack(last - items.length + 1 + i, { key: item.key, action });
        });
      } else if (roll < 0.2 && existing.size > 0) {
        planned++;
        const key = rng.pick([...existing]);
        const res = await send(`${url}/kv/${key}`, 'DELETE');
        existing.delete(key);
        ack(ackedRevision(res), { key, action: 'delete' });
      } else {
        planned++;
        const key = rng.pick(keys);
        const res = await send(`${url}/kv/${key}`, 'PUT', `v${planned}`);
        await res.arrayBuffer();
        ack(ackedRevision(res), { key, action: res.status === 201 ? 'create' : 'update' });
        existing.add(key);
      }
      options.onAck?.(newest);
    }
  };
  await Promise.all(Array.from({ length: options.writers }, (_, w) => writer(w)));
  return acked;
}

/** bcrypt (cost 4) of `admin-pw`, as in fixtures/auth-web.yml. */
export const ADMIN_PASSWORD_HASH = '$2b$04$CFXjJhkL1pE8SMhncKk6aemq/RHlsNdkcUBtxLgkHetekUtHketU2';

/**
 * An auth file with user `admin` / `admin-pw` and one admin token, both with every grant the
 * security tests use (secret prefixes need their own grants, compat 6.4), and public read of `public/*`.
 * `duplicate` lists the token twice (an invalid file).
 */
export function authFileText(token: string, passwordHash: string, options: { duplicate?: boolean } = {}): string {
  const grants = ['*', 'secrets/*', 'app/secrets/*', 'x/secrets'].map((p) => `      - prefix: "${p}"\n        access: rw`).join('\n');
  const entry = `  - token: "${token}"\n    admin: true\n    permissions:\n${grants}\n`;
  return [
    'users:',
    '  - name: admin',
    `    password: "${passwordHash}"`,
    '    admin: true',
    '    permissions:',
    grants,
    'tokens:',
    `${entry}${options.duplicate ? entry : ''}  - token: "*"`,
    '    permissions:',
    '      - prefix: "public/*"',
    '        access: r',
    '',
  ].join('\n');
}

/** A state-changing request a page on another origin could make a browser send with its cookie. */
export interface CrossOriginCase {
  method: string;
  path: string;
  body?: string;
  form?: boolean;
}

/** Every cookie-authenticated state change of the API and the web UI, on key `key`. */
export function crossOriginCases(key: string): CrossOriginCase[] {
  const k = encodeURIComponent(key);
  return [
    { method: 'PUT', path: `/kv/${key}`, body: 'evil' },
    { method: 'DELETE', path: `/kv/${key}` },
    { method: 'POST', path: '/kv/', body: JSON.stringify([{ key, value: 'evil' }]) },
    { method: 'POST', path: '/web/keys', body: new URLSearchParams({ key: `${key}-new`, value: 'evil', format: 'text' }).toString(), form: true },
    { method: 'PUT', path: `/web/keys/${k}`, body: new URLSearchParams({ value: 'evil', format: 'text', force: 'true' }).toString(), form: true },
    { method: 'DELETE', path: `/web/keys/${k}` },
    { method: 'POST', path: `/web/keys/restore/${k}`, body: 'rev=1', form: true },
    { method: 'POST', path: '/web/import/apply', body: '[]', form: false },
    { method: 'POST', path: '/web/theme', body: '', form: true },
    { method: 'POST', path: '/logout', body: '', form: true },
  ];
}

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

/**
 * Time `fn` on each input class in interleaved rounds (the order shuffled every round), `batch`
 * calls per sample, so load on a shared machine hits every class alike. Returns the per-call
 * nanoseconds of every sample, by class.
 */
export function measureInterleaved<T>(inputs: Record<string, T>, fn: (input: T) => unknown, rounds: number, batch: number): Record<string, number[]> {
  const names = Object.keys(inputs);
  const samples: Record<string, number[]> = Object.fromEntries(names.map((n) => [n, []]));
  let sink = 0;
  for (let round = -3; round < rounds; round++) {
    const order = [...names].sort(() => Math.random() - 0.5);
    for (const name of order) {
      const input = inputs[name] as T;
      const start = process.hrtime.bigint();
      for (let i = 0; i < batch; i++) if (fn(input)) sink++;
      const ns = Number(process.hrtime.bigint() - start) / batch;
      if (round >= 0) samples[name]?.push(ns); // the first rounds warm the JIT up
    }
  }
  if (sink < 0) throw new Error('unreachable'); // keeps the calls from being optimised away
  return samples;
}

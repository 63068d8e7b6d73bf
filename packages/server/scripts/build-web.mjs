// Build the web UI's static files into web-assets/: the browser module bundled (it reuses
// @stash/client where it needs it), the style sheet minified, the icons copied. The server
// reads this folder at start-up; `npm run build` runs this after `tsc -b`.
import { copyFileSync, mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = fileURLToPath(new URL('../', import.meta.url));
const out = `${root}web-assets/`;
const src = `${root}src/web/`;
mkdirSync(out, { recursive: true });

// the zero-knowledge module is its own file: pages load it (and its Argon2id WebAssembly) only
// when they open a `$ZK$` value
await build({
  entryPoints: [`${src}browser/zk-crypto.ts`],
  outfile: `${out}zk.js`,
  bundle: true,
  format: 'esm',
  platform: 'browser',
  target: ['es2022'],
  minify: true,
  legalComments: 'none',
  logLevel: 'warning',
});
await build({
  entryPoints: [`${src}browser/app.ts`],
  outfile: `${out}app.js`,
  // zk-crypto.js is imported by URL at run time, never bundled in
  external: ['./zk-crypto.js'],
  bundle: true,
  format: 'esm',
  platform: 'browser',
  target: ['es2022'],
  minify: true,
  legalComments: 'none',
  logLevel: 'warning',
});
await build({
  entryPoints: [`${src}static/style.css`],
  outfile: `${out}style.css`,
  bundle: true,
  minify: true,
  logLevel: 'warning',
});
for (const file of ['logo.svg', 'favicon.svg']) copyFileSync(`${src}static/${file}`, `${out}${file}`);

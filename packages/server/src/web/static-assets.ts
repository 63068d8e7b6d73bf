import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { brotliCompressSync, constants, gzipSync } from 'node:zlib';

/** One file under `/static/`, held in memory with its compressed forms. */
export interface StaticAsset {
  readonly name: string;
  readonly type: string;
  readonly body: Buffer;
  readonly gzip: Buffer;
  readonly br: Buffer;
  /** first 12 hex digits of the SHA-256 of the body: the `?v=` of its URL and its ETag */
  readonly hash: string;
}

const TYPES: Readonly<Record<string, string>> = {
  js: 'text/javascript; charset=utf-8',
  css: 'text/css; charset=utf-8',
  svg: 'image/svg+xml',
};

// built by scripts/build-web.mjs (app bundle, minified CSS, icons); the same folder from src/ and dist/
const BUILT = fileURLToPath(new URL('../../web-assets/', import.meta.url));
const BUILT_FILES = ['app.js', 'zk.js', 'style.css', 'logo.svg', 'favicon.svg'];

function asset(name: string, body: Buffer): StaticAsset {
  const type = TYPES[name.slice(name.lastIndexOf('.') + 1)] ?? 'application/octet-stream';
  return {
    name,
    type,
    body,
    gzip: gzipSync(body, { level: 9 }),
    br: brotliCompressSync(body, { params: { [constants.BROTLI_PARAM_QUALITY]: 11 } }),
    hash: createHash('sha256').update(body).digest('hex').slice(0, 12),
  };
}

/** The UI's static files; HTMX comes from the htmx.org package, never a CDN. */
export class StaticAssets {
  private constructor(private readonly byName: ReadonlyMap<string, StaticAsset>) {}

  /** Read and compress every asset once; fails when the web build has not run. */
  static load(): StaticAssets {
    const missing = BUILT_FILES.filter((f) => !existsSync(`${BUILT}${f}`));
    if (missing.length > 0) throw new Error(`web UI assets missing in ${BUILT} (${missing.join(', ')}): run npm run build`);
    const htmx = createRequire(import.meta.url).resolve('htmx.org/dist/htmx.min.js');
    const all = [asset('htmx.min.js', readFileSync(htmx)), ...BUILT_FILES.map((f) => asset(f, readFileSync(`${BUILT}${f}`)))];
    return new StaticAssets(new Map(all.map((a) => [a.name, a])));
  }

  get(name: string): StaticAsset | undefined {
    return this.byName.get(name);
  }

  /** The asset's URL under the base URL, versioned by content so it can be cached for a year. */
  url(baseUrl: string, name: string): string {
    const found = this.byName.get(name);
    if (!found) throw new Error(`no static asset ${name}`);
    return `${baseUrl}/static/${name}?v=${found.hash}`;
  }
}

import { readFileSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { describe, expect, it } from 'vitest';

const SRC = fileURLToPath(new URL('../src/', import.meta.url));
// replaced by esbuild only where the identifier is a free global, never for property names
const FORBIDDEN_GLOBALS = ['Buffer', 'process', 'require', '__dirname', '__filename', 'setImmediate'];

describe('browser build', () => {
  it('bundles for the browser without Node builtins or Node-only globals', async () => {
    const define = Object.fromEntries(FORBIDDEN_GLOBALS.map((name) => [name, `__NODE_ONLY_${name}__`]));
    const result = await build({
      entryPoints: [`${SRC}index.ts`],
      bundle: true,
      platform: 'browser',
      format: 'esm',
      target: 'es2022',
      write: false,
      metafile: true,
      logLevel: 'silent',
      define,
    });
    const inputs = Object.keys(result.metafile.inputs);
    expect(inputs.filter((file) => file.startsWith('node:') || /\bnode_modules\/(?!hash-wasm\/)/.test(file))).toEqual([]);
    const code = result.outputFiles[0]?.text ?? '';
    expect(code.length).toBeGreaterThan(1000);
    const leaks = FORBIDDEN_GLOBALS.filter((name) => code.includes(`__NODE_ONLY_${name}__`));
    expect(leaks).toEqual([]);
    expect(code).not.toMatch(/from\s*["']node:|require\(["']/);
  });

  it('the client sources never mention Node-only APIs', () => {
    for (const file of readdirSync(SRC).filter((f) => f.endsWith('.ts'))) {
      const source = readFileSync(`${SRC}${file}`, 'utf8');
      expect(source, file).not.toMatch(/['"]node:|\bBuffer\b|\bprocess\.|\brequire\(/);
    }
  });
});

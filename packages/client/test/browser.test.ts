import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chooseChromium, chromiumExecutable } from '../../server/test/helpers/chromium.js';
import { startTestServer, type TestServer } from '../../server/test/helpers/test-server.js';

// a real browser runs the bundled client against a real server, same-origin as the original requires;
// no Chromium and no STASH_TEST_CHROMIUM: skipped with the reason printed; a missing STASH_TEST_CHROMIUM: failed
const CHROMIUM = chooseChromium('client browser tests');

describe.skipIf(!CHROMIUM.run)('client in a real browser', () => {
  let server: TestServer;
  let browser: Browser;
  let bundle: string;

  beforeAll(async () => {
    const entry = fileURLToPath(new URL('../src/index.ts', import.meta.url));
    const out = await build({
      entryPoints: [entry],
      bundle: true,
      platform: 'browser',
      format: 'iife',
      globalName: 'StashClient',
      write: false,
      logLevel: 'silent',
    });
    bundle = out.outputFiles[0]?.text ?? '';
    server = await startTestServer();
    browser = await chromium.launch({
      executablePath: chromiumExecutable(CHROMIUM),
      args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
  });

  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  it('sets, lists, reads zero-knowledge values and deletes', async () => {
    const page = await browser.newPage();
    await page.goto(`${server.url}/ping`);
    await page.addScriptTag({ content: bundle });
    const result = await page.evaluate(async () => {
      const { Client } = (globalThis as unknown as { StashClient: typeof import('../src/index.js') }).StashClient;
      const plain = new Client(location.origin);
      const zk = new Client(location.origin, { zkKey: 'browser-passphrase-123' });
      const created = await plain.set('web/greeting', 'hello from the browser', 'text');
      await zk.set('web/secret token', 'zk ✓ value');
      const stored = await plain.get('web/secret token');
      const decrypted = await zk.get('web/secret token');
      const keys = (await plain.list('web/')).map((k) => `${k.key}:${k.zkEncrypted}`).sort();
      await plain.delete('web/greeting');
      const gone = await plain.has('web/greeting');
      return { created: created.created, stored, decrypted, keys, gone };
    });
    expect(result.created).toBe(true);
    expect(result.stored.startsWith('$ZK$')).toBe(true);
    expect(result.decrypted).toBe('zk ✓ value');
    expect(result.keys).toEqual(['web/greeting:false', 'web/secret_token:true']);
    expect(result.gone).toBe(false);
    await page.close();
  });
});

#!/usr/bin/env node
// Zero-knowledge values opened in the browser (Debian's Chromium): the first open in a page
// (the zk module, its Argon2id WebAssembly and one 64 MiB derivation), opening the same value
// again (its derived key is cached in the page), and opening another value (its own salt: one
// more Argon2id). Times are from the click on Open (or on the key) to the plaintext on screen.
// Usage: node bench/web-zk-bench.mjs [--runs 5]   (build first: npm run build)
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { chromium } from 'playwright-core';
import { ZkCrypto } from '../packages/client/dist/index.js';
import { startStash } from './lib/stash-process.mjs';

const { values: args } = parseArgs({ options: { runs: { type: 'string', default: '5' } } });
const RUNS = Number(args.runs);
const PASSPHRASE = 'bench-zk-passphrase-16';
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

const dir = mkdtempSync(join(tmpdir(), 'stash-zk-bench-'));
const server = await startStash(join(dir, 'stash.db'));
const browser = await chromium.launch({
  executablePath: process.env.STASH_TEST_CHROMIUM ?? '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
try {
  const zk = new ZkCrypto(PASSPHRASE);
  for (const name of ['a', 'b']) {
    const res = await fetch(`${server.url}/kv/zk/${name}`, { method: 'PUT', body: await zk.encrypt(`secret ${name}`) });
    if (!res.ok) throw new Error(`PUT: ${res.status}`);
  }
  const [first, again, other, firstIn, againIn, otherIn] = [[], [], [], [], [], []];
  for (let run = 0; run < RUNS; run++) {
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(`${server.url}/?search=zk/`);
    const dialog = page.getByRole('dialog');
    const view = async (key) => {
      await page.getByRole('button', { name: key, exact: true }).click();
      await dialog.getByRole('heading', { name: 'View Key' }).waitFor();
    };
    const shown = (text) => dialog.getByLabel('Decrypted value', { exact: true }).getByText(text).waitFor({ timeout: 10_000 });
    // the page's own measure of the last open (from the click or the swap to the plaintext)
    const inPage = () => page.evaluate(() => performance.getEntriesByName('stash:zk-open').at(-1)?.duration ?? NaN);
    await view('zk/a');
    await page.getByLabel('Passphrase').fill(PASSPHRASE);
    let t = performance.now();
    await dialog.getByRole('button', { name: 'Open', exact: true }).click();
    await shown('secret a');
    first.push(performance.now() - t);
    firstIn.push(await inPage());
    await page.keyboard.press('Escape');
    // the view itself takes a request; time the decryption from the swap to the plaintext
    t = performance.now();
    await view('zk/a');
    await shown('secret a');
    again.push(performance.now() - t);
    againIn.push(await inPage());
    await page.keyboard.press('Escape');
    t = performance.now();
    await view('zk/b');
    await shown('secret b');
    other.push(performance.now() - t);
    otherIn.push(await inPage());
    await context.close();
  }
  console.log(`Node ${process.version}, ${cpus().length} CPU (${cpus()[0]?.model.trim()}), Chromium headless, ${RUNS} fresh pages; medians (all runs).`);
  console.log('');
  console.log('| open | in the page, median ms (runs) | click to text on screen, median ms (runs) |');
  console.log('|---|---|---|');
  const runs = (xs) => `${median(xs).toFixed(1)} (${xs.map((x) => x.toFixed(0)).join(' / ')})`;
  const row = (name, a, b) => console.log(`| ${name} | ${runs(a)} | ${runs(b)} |`);
  row('first open in a page (zk.js + WebAssembly + Argon2id + AES-GCM)', firstIn, first);
  row('the same value again (cached key + AES-GCM; on screen: + the view request)', againIn, again);
  row('another value (its own salt: one more Argon2id)', otherIn, other);
} finally {
  await browser.close();
  await server.stop();
  rmSync(dir, { recursive: true, force: true });
}

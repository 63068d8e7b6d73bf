// Screenshots of the web UI for the README and for review: a real server on a temporary SQLite
// file, sample keys, Debian's Chromium (STASH_TEST_CHROMIUM or /usr/bin/chromium).
//   npm run screenshots             README set into docs/screenshots/
//   npm run screenshots -- --all    every state, both themes, phone and wide, into --out (default /tmp/stash-shots)
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import bcrypt from 'bcryptjs';
import { chromium } from 'playwright-core';
import { ZkCrypto } from '@stash/client';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const args = process.argv.slice(2);
const all = args.includes('--all');
const outAt = args.indexOf('--out');
// the README's pictures; --all draws every state
const README_SET = new Set(['list', 'edit', 'history', 'conflict', 'live', 'diff', 'folders', 'zk-open']);
const out = outAt >= 0 ? args[outAt + 1] : all ? '/tmp/stash-shots' : join(root, 'docs/screenshots');
mkdirSync(out, { recursive: true });

const freePort = () =>
  new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const p = s.address().port;
      s.close(() => resolve(p));
    });
  });
const dir = mkdtempSync(join(tmpdir(), 'stash-shots-'));
const servers = [];
/** A server on a fresh port and its own database file; resolves with its URL once it answers. */
async function startServer(name, flags) {
  const port = await freePort();
  const args = [join(root, 'packages/server/bin/stash.js'), 'server', `--db=${join(dir, `${name}.db`)}`, `--server.address=127.0.0.1:${port}`, ...flags];
  servers.push(spawn(process.execPath, args, { stdio: 'ignore' }));
  const at = `http://127.0.0.1:${port}`;
  for (let i = 0; ; i++) {
    try {
      if ((await (await fetch(`${at}/ping`)).text()) === 'pong') return at;
    } catch {
      if (i > 100) throw new Error(`${name} server did not start`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}

let url = '';
async function put(key, value, format = 'text') {
  const res = await fetch(`${url}/kv/${key}`, { method: 'PUT', body: value, headers: { 'x-stash-format': format } });
  if (!res.ok) throw new Error(`PUT ${key}: ${res.status}`);
}

try {
  url = await startServer('stash', ['--secrets.key=screenshot-secrets-key', '--audit.enabled']);
  // the sign-in page (--all only): a server behind an auth file of one user
  let authUrl;
  if (all) {
    const authFile = join(dir, 'auth.yml');
    writeFileSync(authFile, `users:\n  - name: admin\n    password: "${bcrypt.hashSync('screenshot-pw', 4)}"\n    admin: true\n    permissions:\n      - prefix: "*"\n        access: rw\n`);
    authUrl = await startServer('auth', [`--auth.file=${authFile}`]);
  }
  await put('app/config', '{\n  "debug": false,\n  "level": "info",\n  "servers": ["10.0.0.1", "10.0.0.2"],\n  "timeout_ms": 2500\n}', 'json');
  await put('app/db/host', 'db.internal:5432');
  await put('svc/nginx', '[server]\nport = 8080\nworkers = 4\n\n; upstream pool\n[upstream]\nhosts = app-1, app-2', 'ini');
  await put('app/feature-flags', 'new_checkout: true\nbeta_users:\n  - alice\n  - bob\n', 'yaml');
  await put('infra/main.tf', 'variable "region" {\n  default = "eu-west-1"\n}\n', 'hcl');
  await put('app/secrets/api-key', 'sk_live_51Hx9');
  const ZK_PASSPHRASE = 'screenshot-passphrase-16';
  await put('app/payment-token', await new ZkCrypto(ZK_PASSPHRASE).encrypt('stripe_key=sk_live_9f8e7d6c\nwebhook_secret=whsec_1a2b3c'));
  await put('app/config', '{\n  "debug": false,\n  "level": "warn",\n  "servers": ["10.0.0.1", "10.0.0.2", "10.0.0.3"],\n  "timeout_ms": 3000\n}', 'json');

  const browser = await chromium.launch({
    executablePath: process.env.STASH_TEST_CHROMIUM ?? '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  const sizes = all ? [['wide', 1280, 800], ['phone', 375, 780]] : [['wide', 1280, 800]];
  for (const scheme of ['light', 'dark']) {
    for (const [size, width, height] of sizes) {
      const context = await browser.newContext({ viewport: { width, height }, colorScheme: scheme, deviceScaleFactor: 1 });
      const page = await context.newPage();
      const shot = async (name) => {
        if (all || README_SET.has(name)) await page.screenshot({ path: join(out, `${all ? `${size}-` : ''}${name}-${scheme}.png`) });
      };
      const dialog = page.getByRole('dialog');
      // the page behind a modal is inert until the dialog has closed: wait for that before using it
      const escape = async () => {
        await page.keyboard.press('Escape');
        await page.locator('dialog[open]').waitFor({ state: 'detached' });
      };
      await page.goto(url);
      await shot('list');
      await page.getByRole('button', { name: 'app/config', exact: true }).click();
      await dialog.getByRole('heading', { name: 'View Key' }).waitFor();
      await shot('view');
      await dialog.getByRole('button', { name: 'History' }).click();
      await dialog.getByRole('heading', { name: 'History' }).waitFor();
      await shot('history');
      await escape();
      await page.getByRole('button', { name: 'Edit app/config' }).click();
      await dialog.getByRole('heading', { name: 'Edit Key' }).waitFor();
      await shot('edit');
      {
        await page.getByLabel('Value', { exact: true }).fill('{"debug": tru');
        await page.getByRole('button', { name: 'Save' }).click();
        await dialog.getByText('invalid json:').waitFor();
        await shot('invalid');
        await put('app/config', '{"changed": "elsewhere"}', 'json');
        await page.getByLabel('Value', { exact: true }).fill('{"debug": true}');
        await page.getByRole('button', { name: 'Save' }).click();
        await dialog.getByText('Conflict detected:').waitFor();
        await shot('conflict');
        await escape();
        await page.getByRole('button', { name: 'Switch to card view' }).click();
        await page.locator('ul.cards').waitFor();
        await shot('cards');
        await page.getByRole('button', { name: 'Switch to table view' }).click();
        await page.getByRole('searchbox').fill('app');
        await page.getByText('matching “app”').waitFor();
        await shot('search');
        await page.getByRole('button', { name: 'Delete app/db/host' }).click();
        await page.getByRole('dialog', { name: 'Please confirm' }).waitFor();
        await shot('confirm');
        await escape();
        await page.getByRole('button', { name: 'app/payment-token', exact: true }).click();
        await dialog.getByRole('heading', { name: 'View Key' }).waitFor();
        await shot('zk');
        await page.getByLabel('Passphrase').fill(ZK_PASSPHRASE);
        await page.getByRole('button', { name: 'Open', exact: true }).click();
        await dialog.getByText('webhook_secret').waitFor();
        await shot('zk-open');
        await escape();
        await page.getByRole('searchbox').fill('');
        await page.getByText('7 keys', { exact: true }).waitFor();
        // a change made elsewhere appears in the open page, marked with who made it
        await put('app/feature-flags', 'new_checkout: false\n', 'yaml');
        await page.locator('.live-badge').first().waitFor();
        await shot('live');
        await page.getByRole('button', { name: 'app/feature-flags', exact: true }).click();
        await dialog.getByRole('button', { name: 'History' }).click();
        await dialog.getByRole('button', { name: /^Diff revision/ }).first().click();
        await dialog.getByRole('heading', { name: /^Changes/ }).waitFor();
        await shot('diff');
        await escape();
        await page.getByRole('button', { name: 'Browse folders' }).click();
        await page.getByRole('button', { name: /^app\// }).first().waitFor();
        await shot('folders');
        await page.getByRole('button', { name: 'Show the flat list' }).click();
        await page.getByRole('button', { name: 'Browse folders' }).waitFor();
        await put('app/config', '{\n  "debug": false,\n  "level": "warn"\n}', 'json');
        // back as it was, so the next theme's live change (and its diff) changes something
        await put('app/feature-flags', 'new_checkout: true\nbeta_users:\n  - alice\n  - bob\n', 'yaml');
        await page.getByRole('button', { name: 'Import…' }).click();
        await dialog.getByRole('heading', { name: 'Import keys' }).waitFor();
        await page.getByLabel('File (.env or a JSON export)').setInputFiles({ name: 'svc.env', mimeType: 'text/plain', buffer: Buffer.from('LEVEL=warn\nPORT=8080\nREGION=eu-west-1\n') });
        await page.getByText('Read: svc.env').waitFor();
        await page.getByLabel('Into prefix').fill('app/svc/');
        await page.getByRole('button', { name: 'Preview' }).click();
        await dialog.getByText(/to create/).waitFor();
        await shot('import');
        await escape();
        await page.goto(`${url}/audit`);
        await page.getByRole('heading', { name: 'Audit log' }).waitFor();
        await shot('audit');
      }
      if (authUrl) {
        await page.goto(authUrl);
        await page.getByRole('button', { name: 'Login' }).waitFor();
        await shot('login');
        await page.getByLabel('Username').fill('admin');
        await page.getByLabel('Password').fill('not-the-password');
        await page.getByRole('button', { name: 'Login' }).click();
        await page.getByRole('alert').waitFor();
        await shot('login-error');
      }
      await context.close();
    }
  }
  await browser.close();
  console.log(`screenshots in ${out}`);
} finally {
  for (const server of servers) server.kill();
  rmSync(dir, { recursive: true, force: true });
}

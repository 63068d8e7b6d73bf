import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildOnce, startStashProcess } from '../helpers/spawned-server.js';
import { makeTempDir } from '../helpers/test-server.js';

describe('SIGQUIT', () => {
  const dir = makeTempDir();
  beforeAll(buildOnce, 120_000);
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('dumps a diagnostic report with the JavaScript stack and keeps serving', async () => {
    const server = await startStashProcess(join(dir, 'stash.db'));
    try {
      server.proc.kill('SIGQUIT');
      const deadline = Date.now() + 5000;
      while (!server.stdout().includes('"javascriptStack"') && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 25));
      }
      expect(server.stdout()).toContain('"javascriptStack"');
      expect(await (await fetch(`${server.url}/ping`)).text()).toBe('pong');
    } finally {
      server.proc.kill('SIGTERM');
      expect(await server.exited).toBe(0);
    }
  });
});

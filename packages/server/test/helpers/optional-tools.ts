import { spawnSync } from 'node:child_process';

/**
 * Whether `tool` (a program on PATH) is here for a test that runs it for real. `.ci/run` installs
 * every such tool and sets STASH_TEST_TOOLS=1, so a missing one fails there; elsewhere the test
 * says what it does without it (`without`) and the caller skips or checks less.
 */
export function toolHere(tool: string, without: string): boolean {
  if (spawnSync('sh', ['-c', `command -v ${tool}`]).status === 0) return true;
  if (process.env['STASH_TEST_TOOLS'] === '1') throw new Error(`${tool} is not installed, and STASH_TEST_TOOLS=1 requires it`);
  console.warn(`${tool} is not installed: ${without}`);
  return false;
}

/**
 * Exit codes of the client commands, `help` and `completion` (docs/cli.md). 0-5 are the
 * codes this CLI always had; 6 split "cannot reach the server" off "anything else".
 * (No imports: main.ts reads these without loading the client.)
 */
export const EXIT = { ok: 0, notFound: 1, usage: 2, auth: 3, conflict: 4, other: 5, connection: 6 } as const;
export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

/** One line per code, for `stash help`, each command's help and docs/cli.md. */
export const EXIT_CODE_LINES: readonly (readonly [ExitCode, string])[] = [
  [EXIT.ok, 'success'],
  [EXIT.notFound, 'not found (no such key or revision)'],
  [EXIT.usage, 'usage error (unknown command or flag, missing argument, bad flag value)'],
  [EXIT.auth, 'unauthorized or forbidden (HTTP 401/403)'],
  [EXIT.conflict, 'conflict (HTTP 409/412: the key changed, --if-revision did not match)'],
  [EXIT.other, 'any other error (server error, unusable import file, failed decryption, cancelled import)'],
  [EXIT.connection, 'cannot reach the server (connection refused, unknown host, timeout)'],
];

/** A command line the client commands cannot run: exit 2 with the message and a usage hint. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

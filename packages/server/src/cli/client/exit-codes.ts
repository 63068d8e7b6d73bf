import {
  isConflictError,
  isForbiddenError,
  isInvalidArgumentError,
  isNotFoundError,
  isUnauthorizedError,
} from '@stash/client';

/** Exit codes of the client commands (documented in docs/client.md). */
export const EXIT = { ok: 0, notFound: 1, usage: 2, auth: 3, conflict: 4, other: 5 } as const;
export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

/** A command line the client commands cannot run: exit 2 with the message and a usage hint. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/** Exit code for an error thrown by a command. */
export function exitCodeFor(error: unknown): ExitCode {
  if (error instanceof UsageError || isInvalidArgumentError(error)) return EXIT.usage;
  if (isNotFoundError(error)) return EXIT.notFound;
  if (isUnauthorizedError(error) || isForbiddenError(error)) return EXIT.auth;
  if (isConflictError(error)) return EXIT.conflict;
  return EXIT.other;
}

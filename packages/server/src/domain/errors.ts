/** Base of every error the domain reports; `code` is stable and mapped once to HTTP. */
export class DomainError extends Error {
  override readonly name: string = 'DomainError';
  constructor(
    readonly code: 'validation' | 'not_found' | 'conflict' | 'forbidden' | 'unauthorized' | 'unavailable' | 'internal',
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** Bad input: answered 400 with the message as `{"error": ...}`. */
export class ValidationError extends DomainError {
  override readonly name = 'ValidationError';
  constructor(message: string) {
    super('validation', message);
  }
}

export class NotFoundError extends DomainError {
  override readonly name = 'NotFoundError';
  constructor(message = 'key not found') {
    super('not_found', message);
  }
}

/** A conditional write lost: answered 412 with the key's current revision (0 = absent). */
export class ConflictError extends DomainError {
  override readonly name = 'ConflictError';
  constructor(
    readonly key: string,
    readonly currentRevision: number,
  ) {
    super('conflict', 'revision mismatch');
  }
}

/** A failure the caller cannot fix; the message is what the client sees, the cause is logged. */
export class InternalError extends DomainError {
  override readonly name = 'InternalError';
  constructor(message: string, cause?: unknown) {
    super('internal', message, { cause });
  }
}

export class UnavailableError extends DomainError {
  override readonly name = 'UnavailableError';
  constructor(message: string) {
    super('unavailable', message);
  }
}

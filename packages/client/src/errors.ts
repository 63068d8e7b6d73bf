// brand read by the isXxxError guards: Symbol.for is shared by every copy of this package
// (ESM and CJS builds, duplicated node_modules), so the guards work where instanceof does not
const BRAND = Symbol.for('@stash/client.error');

type Branded = { [BRAND]?: readonly string[] };

/** Options common to every Stash error. */
export interface StashErrorOptions {
  /** the key the failed call was about, when there was one */
  key?: string | undefined;
  cause?: unknown;
}

/** Base class of every error the client throws. */
export class StashError extends Error {
  override readonly name: string = 'StashError';
  /** the key the failed call was about (undefined for list, ping, batches) */
  readonly key: string | undefined;

  constructor(message: string, options: StashErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.key = options.key;
    brand(this, 'StashError');
  }
}

/** The key (or the requested revision of it) does not exist: HTTP 404. */
export class NotFoundError extends StashError {
  override readonly name = 'NotFoundError';
  constructor(message: string, options: StashErrorOptions = {}) {
    super(message, options);
    brand(this, 'NotFoundError');
  }
}

/** No or unknown credentials: HTTP 401. */
export class UnauthorizedError extends StashError {
  override readonly name = 'UnauthorizedError';
  constructor(message: string, options: StashErrorOptions = {}) {
    super(message, options);
    brand(this, 'UnauthorizedError');
  }
}

/** Valid credentials without the needed permission: HTTP 403. */
export class ForbiddenError extends StashError {
  override readonly name = 'ForbiddenError';
  constructor(message: string, options: StashErrorOptions = {}) {
    super(message, options);
    brand(this, 'ForbiddenError');
  }
}

/** A conditional write found another revision: HTTP 412. */
export class ConflictError extends StashError {
  override readonly name = 'ConflictError';
  /** the key's revision on the server at the time of the write (0 = the key does not exist) */
  readonly currentRevision: number;
  constructor(message: string, currentRevision: number, options: StashErrorOptions = {}) {
    super(message, options);
    this.currentRevision = currentRevision;
    brand(this, 'ConflictError');
  }
}

/** A `$ZK$` value could not be decrypted: wrong passphrase, truncated or tampered value. */
export class DecryptionError extends StashError {
  override readonly name = 'DecryptionError';
  constructor(message: string, options: StashErrorOptions = {}) {
    super(message, options);
    brand(this, 'DecryptionError');
  }
}

/** The server could not be reached or did not answer in time (after all retries). */
export class ConnectionError extends StashError {
  override readonly name = 'ConnectionError';
  constructor(message: string, options: StashErrorOptions = {}) {
    super(message, options);
    brand(this, 'ConnectionError');
  }
}

/** Any other unexpected answer: an unmapped status, or a body the client cannot parse. */
export class ResponseError extends StashError {
  override readonly name = 'ResponseError';
  /** HTTP status of the answer */
  readonly status: number;
  constructor(message: string, status: number, options: StashErrorOptions = {}) {
    super(message, options);
    this.status = status;
    brand(this, 'ResponseError');
  }
}

/** A call was made with arguments the client rejects before sending anything (empty key, bad URL, short passphrase). */
export class InvalidArgumentError extends StashError {
  override readonly name = 'InvalidArgumentError';
  constructor(message: string, options: StashErrorOptions = {}) {
    super(message, options);
    brand(this, 'InvalidArgumentError');
  }
}

function brand(error: StashError, kind: string): void {
  const target = error as unknown as Branded;
  const kinds = [...(target[BRAND] ?? []), kind];
  Object.defineProperty(error, BRAND, { value: kinds, enumerable: false, configurable: true });
}

function hasBrand(error: unknown, kind: string): boolean {
  if (typeof error !== 'object' || error === null) return false;
  const kinds = (error as Branded)[BRAND];
  return Array.isArray(kinds) && kinds.includes(kind);
}

/** True for every error thrown by any copy of this client. */
export const isStashError = (e: unknown): e is StashError => hasBrand(e, 'StashError');
export const isNotFoundError = (e: unknown): e is NotFoundError => hasBrand(e, 'NotFoundError');
export const isUnauthorizedError = (e: unknown): e is UnauthorizedError => hasBrand(e, 'UnauthorizedError');
export const isForbiddenError = (e: unknown): e is ForbiddenError => hasBrand(e, 'ForbiddenError');
export const isConflictError = (e: unknown): e is ConflictError => hasBrand(e, 'ConflictError');
export const isDecryptionError = (e: unknown): e is DecryptionError => hasBrand(e, 'DecryptionError');
export const isConnectionError = (e: unknown): e is ConnectionError => hasBrand(e, 'ConnectionError');
export const isResponseError = (e: unknown): e is ResponseError => hasBrand(e, 'ResponseError');
export const isInvalidArgumentError = (e: unknown): e is InvalidArgumentError => hasBrand(e, 'InvalidArgumentError');

/**
 * The typed error for a non-success HTTP answer. `body` is the answer text (the server's
 * `{"error": ...}` message is used when present; a 412 body also carries the current revision).
 */
export function errorFromStatus(status: number, body: string, key?: string, revisionHeader?: string | null): StashError {
  const options = { key };
  const about = key === undefined ? '' : ` (key "${key}")`;
  const detail = serverMessage(body);
  switch (status) {
    case 404:
      return new NotFoundError(`${detail ?? 'not found'}${about}`, options);
    case 401:
      return new UnauthorizedError(`unauthorized${about}: missing or unknown token`, options);
    case 403:
      return new ForbiddenError(`forbidden${about}: the token lacks permission`, options);
    case 412: {
      const current = conflictRevision(body, revisionHeader);
      return new ConflictError(`revision mismatch${about}: current revision is ${current}`, current, options);
    }
    default:
      return new ResponseError(`HTTP ${status}${about}${detail === undefined ? '' : `: ${detail}`}`, status, options);
  }
}

function parseJsonObject(body: string): Record<string, unknown> | undefined {
  try {
    const parsed: unknown = JSON.parse(body);
    return typeof parsed === 'object' && parsed !== null ? (parsed as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

function serverMessage(body: string): string | undefined {
  const error = parseJsonObject(body)?.['error'];
  if (typeof error === 'string' && error !== '') return error;
  const text = body.trim();
  return text === '' ? undefined : text.slice(0, 200);
}

function conflictRevision(body: string, header: string | null | undefined): number {
  const fromBody = parseJsonObject(body)?.['revision'];
  if (typeof fromBody === 'number' && Number.isSafeInteger(fromBody)) return fromBody;
  const fromHeader = Number(header ?? '');
  return header && Number.isSafeInteger(fromHeader) ? fromHeader : 0;
}

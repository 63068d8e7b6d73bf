import type { ChangeEntry } from '../storage/store.js';

/** Server-side encryption of values under `secrets` paths (the secrets vault). */
export interface ValueVault {
  seal(plain: Uint8Array): Promise<Uint8Array>;
  open(stored: Uint8Array): Promise<Uint8Array>;
}

/** Where committed changes go (SSE fan-out, cache invalidation, other servers, git mirror). */
export interface ChangePublisher {
  publish(changes: readonly ChangeEntry[]): void;
}
